"""``kaokore gan train`` and ``kaokore gan sample`` through the CLI, on a tiny fake release."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from PIL import Image  # noqa: E402

from kaokore.cli import app  # noqa: E402
from kaokore.learn.gan import load_checkpoint  # noqa: E402
from tests.learn.test_gan import make_release  # noqa: E402

TINY = ["--res", "32", "--channels", "8", "--batch-size", "2", "--device", "cpu"]


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def invoke(*args: str | Path) -> object:
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.mark.slow
def test_train_resume_and_sample(tmp_path: Path) -> None:
    release = make_release(tmp_path / "rel")
    run = tmp_path / "run"
    common = ["gan", "train", "--release", release, "--out", run, *TINY, "--log-every", "1"]
    first = invoke(*common, "--steps", "2", "--fid-every", "2", "--fid-samples", "4")
    assert first.exit_code == 0, first.output
    assert "step       2" in first.output and "  fd " in first.output and "fid" not in first.output
    second = invoke(*common, "--steps", "3", "--fid-every", "2", "--fid-samples", "4", "--resume")
    assert second.exit_code == 0, second.output
    assert load_checkpoint(run / "checkpoint.pt")["step"] == 3
    history = json.loads((run / "history.json").read_text())
    assert [h["step"] for h in history] == [1, 2, 3]
    assert history[1]["fid"] > 0 and history[1]["fid_extractor"].startswith("random-resnet18")

    out = tmp_path / "samples"
    result = invoke(
        "gan",
        "sample",
        "--checkpoint",
        run / "checkpoint.pt",
        "--n",
        "4",
        "--out",
        out,
        "--device",
        "cpu",
    )
    assert result.exit_code == 0, result.output
    assert len(list((out / "images").glob("*.png"))) == 4
    with Image.open(out / "grid.png") as grid:
        assert grid.size == (2 * 34 + 2, 2 * 34 + 2)


def test_errors_are_one_line(tmp_path: Path) -> None:
    release = make_release(tmp_path / "rel")
    missing = invoke(
        "gan", "train", "--release", tmp_path / "nothing", "--out", tmp_path / "r", *TINY
    )
    assert missing.exit_code == 1
    assert f"Error: No release at {tmp_path / 'nothing'}" in missing.output
    resume = invoke(
        "gan", "train", "--release", release, "--out", tmp_path / "r", *TINY, "--resume"
    )
    assert resume.exit_code == 2
    assert "Error: --resume '" in resume.output and "no checkpoint there" in resume.output
    res = invoke("gan", "train", "--release", release, "--out", tmp_path / "r", "--res", "48")
    assert res.exit_code == 2 and "Error: --res must be 64, 128 or 256" in res.output
    sample = invoke("gan", "sample", "--checkpoint", tmp_path / "none.pt", "--out", tmp_path / "s")
    assert sample.exit_code == 2 and "Error: no checkpoint at" in sample.output


def test_a_light_install_without_torch_gets_the_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "torchvision", None)  # import torchvision -> ImportError
    for args in (
        ["gan", "train", "--release", tmp_path, "--out", tmp_path / "r"],
        ["gan", "sample", "--checkpoint", tmp_path / "c.pt", "--out", tmp_path / "s"],
        ["paint", "optimize", tmp_path / "x.jpg", "--out", tmp_path / "o"],
    ):
        result = invoke(*args)
        assert result.exit_code == 2, result.output
        assert "Install the train extra: pip install 'kaokore[train]'" in result.output
