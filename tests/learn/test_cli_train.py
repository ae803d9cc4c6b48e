"""``kaokore train classify`` and ``kaokore train baselines`` through the real CLI."""

from __future__ import annotations

import csv
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("torch", reason="needs the train extra")

from kaokore import cli  # noqa: E402

TINY = [
    "--image-size",
    "32",
    "--epochs",
    "1",
    "--batch-size",
    "8",
    "--device",
    "cpu",
    "--no-progress",
]


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.app, list(args))
    return result.exit_code, result.output


@pytest.mark.slow
def test_classify_writes_the_run_folder(official_root: Path, tmp_path: Path) -> None:
    home, out = tmp_path / "home", tmp_path / "run"
    code, output = invoke(
        "--home",
        str(home),
        "train",
        "classify",
        "--release",
        str(official_root),
        "--task",
        "status",
        "--out",
        str(out),
        *TINY,
    )
    assert code == 0, output
    assert {p.name for p in out.iterdir()} == {
        "config.json",
        "history.csv",
        "history.json",
        "best.pt",
        "metrics.json",
        "curves.png",
        "confusion.png",
    }
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"] == "status" and len(metrics["test"]["confusion_matrix"]) == 4
    assert f"accuracy {metrics['test']['accuracy']:.2%}" in output
    assert f"Run folder: {out}" in output.replace("\n", "")
    assert list((home / "cache" / "decoded").glob("*.npy"))  # --home decides the cache folder
    with open(out / "history.csv", newline="") as handle:
        assert [row["epoch"] for row in csv.DictReader(handle)] == ["1"]


def test_missing_release_is_one_error_line(tmp_path: Path) -> None:
    code, output = invoke("train", "classify", "--release", str(tmp_path / "kaokore-1.1"), *TINY)
    assert code == 1
    assert output.startswith(f"Error: No release at {tmp_path / 'kaokore-1.1'}")
    assert "Run `kaokore build --version 1.1` first" in output
    assert "Traceback" not in output


def test_bad_option_is_a_usage_error(official_root: Path) -> None:
    code, output = invoke(
        "train", "classify", "--release", str(official_root), "--arch", "vgg16", *TINY
    )
    assert code == 2
    assert output.startswith("Error: Unknown --arch 'vgg16'. Valid values are vgg11, alexnet,")


def test_corrupt_image_is_named(official_root: Path, tmp_path: Path) -> None:
    victim = sorted((official_root / "images_256").iterdir())[5]
    victim.write_bytes(b"\xff\xd8\xff not really a jpeg")
    code, output = invoke(
        "train",
        "classify",
        "--release",
        str(official_root),
        "--out",
        str(tmp_path / "r"),
        "--cache-dir",
        str(tmp_path / "c"),
        *TINY,
    )
    assert code == 1
    assert output.startswith(f"Error: {victim}: cannot decode the image")


@pytest.mark.slow
def test_baselines_table_sits_next_to_the_paper(official_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "grid"
    code, output = invoke(
        "train",
        "baselines",
        "--release",
        str(official_root),
        "--archs",
        "resnet18",
        "--tasks",
        "gender,status",
        "--out",
        str(out),
        "--cache-dir",
        str(tmp_path / "c"),
        *TINY,
    )
    assert code == 0, output
    with open(out / "baselines.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["task"], r["arch"], r["paper_accuracy"]) for r in rows] == [
        ("gender", "resnet18", "92.98"),
        ("status", "resnet18", "82.16"),
    ]
    table = (out / "baselines.md").read_text()
    assert "| Model | Gender: paper | Gender: ours | Status: paper | Status: ours |" in table
    line = next(row for row in table.splitlines() if row.startswith("| ResNet-18 |"))
    assert line.startswith(f"| ResNet-18 | 92.98 | {float(rows[0]['accuracy']):.2f} (")
    assert "Release kaokore (labels.csv split); image size 32" in table
    assert (out / "resnet18-status" / "metrics.json").is_file()


def test_baselines_rejects_unknown_names(official_root: Path) -> None:
    code, output = invoke(
        "train", "baselines", "--release", str(official_root), "--archs", "resnet18,vgg99"
    )
    assert code == 2 and output.startswith("Error: Unknown --archs vgg99.")


def test_without_the_train_extra_the_command_says_how_to_install(
    official_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "torch" else real(name, *a),
    )
    code, output = invoke("train", "classify", "--release", str(official_root))
    assert code == 2
    assert output.strip() == (
        "Error: kaokore train needs torch, which is not installed. "
        "Install the train extra: pip install 'kaokore[train]'"
    )


@pytest.mark.slow
def test_help_works_when_torch_cannot_be_imported() -> None:
    script = (
        "import sys\n"
        "for name in ('torch', 'torchvision', 'matplotlib'):\n"
        "    sys.modules[name] = None  # any import of them now raises ImportError\n"
        "from kaokore.cli import main\n"
        "try:\n"
        "    main(['train', 'classify', '--help'])\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "--release" in result.stdout and "--arch" in result.stdout


@pytest.mark.slow
def test_classify_preset_official_says_it_starts_from_scratch(
    official_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    code, output = invoke(
        "--home", str(tmp_path / "home"), "train", "classify", "--release", str(official_root),
        "--preset", "official", "--out", str(out), *TINY,
    )  # fmt: skip
    assert code == 0, output
    config = json.loads((out / "config.json").read_text())
    # The preset's rate, batch and schedule; the options given (--epochs, --batch-size, --image-size) win.
    assert (config["lr"], config["schedule"], config["preset"]) == (1e-3, "step", "official")
    assert (config["epochs"], config["batch_size"], config["image_size"]) == (1, 8, 32)
    assert "from scratch (no --weights given" in config["start"]
    code, output = invoke(
        "--home", str(tmp_path / "home"), "train", "classify", "--release", str(official_root),
        "--preset", "paper", "--out", str(tmp_path / "other"), *TINY,
    )  # fmt: skip
    assert code == 2 and "Error: --preset 'paper': use one of" in output


@pytest.mark.slow
def test_pretrain_then_fine_tune(official_root: Path, tmp_path: Path) -> None:
    home = ["--home", str(tmp_path / "home")]
    code, output = invoke(
        *home, "train", "pretrain", "--release", str(official_root), "--out",
        str(tmp_path / "simclr"), "--image-size", "32", "--epochs", "1", "--batch-size", "8",
        "--device", "cpu",
    )  # fmt: skip
    assert code == 0, output
    assert "Pretrained on 16 faces (4 test faces left out)" in output
    code, output = invoke(
        *home, "train", "classify", "--release", str(official_root), "--weights",
        str(tmp_path / "simclr" / "pretrain.pt"), "--out", str(tmp_path / "tuned"), *TINY,
    )  # fmt: skip
    assert code == 0, output
    config = json.loads((tmp_path / "tuned" / "config.json").read_text())
    assert (
        "trained on 16 faces" in config["start"] and "none of the 4 test faces" in config["start"]
    )
