"""One classification run: it learns, stops early on the best epoch, and repeats exactly."""

from __future__ import annotations

import json
import socket
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch", reason="needs the train extra")

from kaokore.errors import ReleaseError, UsageError  # noqa: E402
from kaokore.learn import train as train_module  # noqa: E402
from kaokore.learn.train import TrainConfig, train_classifier  # noqa: E402
from tests.learn.conftest import make_folder, make_rows  # noqa: E402

RUN_FILES = {
    "config.json",
    "history.csv",
    "history.json",
    "best.pt",
    "metrics.json",
    "curves.png",
    "confusion.png",
}


def tiny(root: Path, tmp_path: Path, **changes: Any) -> TrainConfig:
    """A run that takes a second or two on a CPU: ResNet-18 on 32 px images."""
    config = TrainConfig(
        release=root,
        arch="resnet18",
        task="gender",
        image_size=32,
        epochs=2,
        patience=3,
        batch_size=16,
        lr=1e-3,
        device="cpu",
        cache_dir=tmp_path / "cache",
        out=tmp_path / "run",
        progress=False,
    )
    return replace(config, **changes)


@pytest.mark.slow
def test_learns_the_colour_and_beats_the_majority_class(
    learnable_root: Path, tmp_path: Path
) -> None:
    result = train_classifier(tiny(learnable_root, tmp_path))
    assert {p.name for p in result.run_dir.iterdir()} == RUN_FILES
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    majority = 12 / 20
    assert metrics["test"]["accuracy"] > majority
    assert metrics["test"]["accuracy"] == result.test.metrics.accuracy  # type: ignore[union-attr]
    assert set(metrics["test"]) >= {"accuracy", "macro_f1", "per_class", "confusion_matrix"}
    assert sum(map(sum, metrics["test"]["confusion_matrix"])) == 20
    config = json.loads((result.run_dir / "config.json").read_text())
    assert config["counts"] == {"train": 60, "dev": 20, "test": 20}
    assert config["image_size"] == 32 and config["device"] == "cpu" and config["amp"] is False
    history = json.loads((result.run_dir / "history.json").read_text())
    assert [row["epoch"] for row in history] == list(range(1, result.epochs_run + 1))


@pytest.mark.slow
def test_early_stopping_restores_the_best_epoch(
    official_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dev accuracy is scripted to peak at epoch 2; the test pass must see epoch 2's weights."""
    scripted = iter([0.50, 0.80, 0.60, 0.70, 0.90])
    seen: list[tuple[str, float]] = []
    real_evaluate = train_module.evaluate

    def fake_evaluate(model: torch.nn.Module, batches: Any, *, split: str, **kw: Any) -> Any:
        weights = float(sum(p.detach().double().sum() for p in model.parameters()))
        seen.append((split, weights))
        result = real_evaluate(model, batches, split=split, **kw)
        if split == "test":
            return result
        accuracy = next(scripted)
        return replace(result, metrics=replace(result.metrics, accuracy=accuracy))

    monkeypatch.setattr(train_module, "evaluate", fake_evaluate)
    result = train_classifier(tiny(official_root, tmp_path, epochs=5, patience=2))
    assert result.epochs_run == 4  # epochs 3 and 4 do not beat epoch 2
    assert result.best_epoch == 2
    assert [row["dev_accuracy"] for row in result.history] == [0.5, 0.8, 0.6, 0.7]
    dev_weights = [w for split, w in seen if split == "dev"]
    test_weights = [w for split, w in seen if split == "test"]
    assert test_weights == [dev_weights[1]] and dev_weights[1] != dev_weights[3]
    checkpoint = torch.load(result.run_dir / "best.pt", weights_only=True)
    assert checkpoint["epoch"] == 2 and checkpoint["classes"] == ["male", "female"]
    assert json.loads((result.run_dir / "metrics.json").read_text())["best_epoch"] == 2


@pytest.mark.slow
def test_fixed_seed_gives_identical_runs(official_root: Path, tmp_path: Path) -> None:
    runs = [
        train_classifier(
            tiny(official_root, tmp_path, epochs=2, out=tmp_path / f"run{i}", seed=seed)
        )
        for i, seed in enumerate([7, 7, 8])
    ]
    first, second, other = (json.loads((r.run_dir / "metrics.json").read_text()) for r in runs)
    drop = {"seconds"}
    assert {k: v for k, v in first.items() if k not in drop} == {
        k: v for k, v in second.items() if k not in drop
    }
    losses = [[row["train_loss"] for row in r.history] for r in runs]
    assert losses[0] == losses[1] and losses[0] != losses[2]
    a, b = (torch.load(r.run_dir / "best.pt", weights_only=True)["model"] for r in runs[:2])
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_plain_loader_path(official_root: Path, tmp_path: Path) -> None:
    result = train_classifier(tiny(official_root, tmp_path, epochs=1, fast=False, balanced=True))
    assert {p.name for p in result.run_dir.iterdir()} == RUN_FILES
    assert not (tmp_path / "cache").exists()  # nothing decoded into the cache


def _break_missing(root: Path, name: str) -> str:
    (root / "images_256" / name).unlink()
    return f"images_256/{name}: the image is missing"


def _break_corrupt(root: Path, name: str) -> str:
    path = root / "images_256" / name
    path.write_bytes(path.read_bytes()[:50])
    return f"images_256/{name}: cannot decode the image"


def _break_label(root: Path, name: str) -> str:
    text = (root / "labels.csv").read_text()
    line = next(row for row in text.splitlines() if row.startswith(name))
    image, _gender, status, split = line.split(",")
    (root / "labels.csv").write_text(text.replace(line, f"{image},2,{status},{split}"))
    return rf"labels.csv:\d+: {name}: unknown gender '2' \(expected 0 \(male\), 1 \(female\)\)"


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("damage", [_break_missing, _break_corrupt, _break_label])
def test_bad_folder_fails_naming_the_file_before_training(
    tmp_path: Path, fast: bool, damage: Any
) -> None:
    rows = make_rows({"train": (3, 3), "dev": (2, 2), "test": (2, 2)})
    root = make_folder(tmp_path / "k", rows, size=16)
    victim = next(row.image for row in rows if row.set == "test")  # the last split to be read
    expected = damage(root, victim)
    with pytest.raises(ReleaseError, match=expected):
        train_classifier(tiny(root, tmp_path, fast=fast))
    assert not (tmp_path / "run").exists()  # failed before the run folder was created


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"arch": "vgg16"}, "Unknown --arch 'vgg16'"),
        ({"task": "age"}, "Unknown --task 'age'"),
        ({"split": "random"}, "Unknown --split 'random'"),
        ({"arch": "alexnet", "image_size": 32}, "alexnet needs --image-size 63 or more"),
        ({"batch_size": 1}, "--batch-size must be at least 2"),
        ({"device": "tpu"}, "Unknown device 'tpu'"),
    ],
)
def test_impossible_options_are_usage_errors(
    official_root: Path, tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        train_classifier(tiny(official_root, tmp_path, **changes))


def test_refuses_a_used_run_folder(official_root: Path, tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "metrics.json").write_text("{}")
    with pytest.raises(UsageError, match="exists and is not empty"):
        train_classifier(tiny(official_root, tmp_path))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_one_process_ddp_matches_a_plain_run(official_root: Path, tmp_path: Path) -> None:
    """Under a process group (gloo, world of one) the model is DDP-wrapped, with the same result."""
    dist = torch.distributed
    if not dist.is_available():
        pytest.skip("this torch build has no torch.distributed")
    plain = train_classifier(tiny(official_root, tmp_path, epochs=2, out=tmp_path / "plain"))
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{_free_port()}", rank=0, world_size=1
    )
    try:
        wrapped = train_classifier(tiny(official_root, tmp_path, epochs=2, out=tmp_path / "ddp"))
    finally:
        dist.destroy_process_group()
    assert json.loads((wrapped.run_dir / "config.json").read_text())["world_size"] == 1
    assert [r["train_loss"] for r in wrapped.history] == [r["train_loss"] for r in plain.history]
    assert wrapped.test is not None and plain.test is not None
    assert wrapped.test.metrics == plain.test.metrics


def test_an_empty_split_is_refused_before_training(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "k", make_rows({"train": (3, 3), "test": (2, 2)}), size=16)
    with pytest.raises(ReleaseError, match="the dev split of labels.csv has no images"):
        train_classifier(tiny(root, tmp_path))
