"""No leaks: checkpoints record their faces, and a start that saw a test face is refused."""

from __future__ import annotations

import csv
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch", reason="needs the train extra")

from kaokore.errors import UsageError  # noqa: E402
from kaokore.learn.faces import check_no_leak, face_keys, release_checksum  # noqa: E402
from kaokore.learn.pack import make_pack, unpack  # noqa: E402
from kaokore.learn.pretrain import PretrainConfig, pretrain  # noqa: E402
from kaokore.learn.train import TrainConfig, train_classifier  # noqa: E402
from tests.learn.conftest import make_folder, make_rows  # noqa: E402


def tiny(root: Path, out: Path, **changes: Any) -> TrainConfig:
    config = TrainConfig(
        release=root,
        image_size=32,
        epochs=1,
        batch_size=16,
        lr=1e-3,
        device="cpu",
        cache_dir=out.parent / "cache",
        out=out,
        progress=False,
    )
    return replace(config, **changes)


def renumbered(source: Path, target: Path, *, test_from_train: int) -> Path:
    """The same faces under new file names (as a later release renumbers them), with the
    first ``test_from_train`` training faces of ``source`` moved into the test set."""
    with (source / "labels.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    (target / "images_256").mkdir(parents=True)
    moved = 0
    for number, row in enumerate(rows):
        new = f"{number + 5000:08d}.jpg"
        shutil.copyfile(source / "images_256" / row["image"], target / "images_256" / new)
        row["image"] = new
        if row["set"] == "train" and moved < test_from_train:
            row["set"], moved = "test", moved + 1
    with (target / "labels.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["image", "gender", "status", "set"])
        writer.writeheader()
        writer.writerows(rows)
    return target


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """A folder and its renumbered copy whose test split holds 3 of the first's train faces."""
    first = make_folder(
        tmp_path / "a", make_rows({"train": (12, 8), "dev": (4, 4), "test": (4, 4)})
    )
    return first, renumbered(first, tmp_path / "b", test_from_train=3)


def test_keys_follow_the_bytes_not_the_file_names(pair: tuple[Path, Path]) -> None:
    first, second = pair
    keys_a = set(
        face_keys(first, sorted(p.name for p in (first / "images_256").iterdir())).values()
    )
    keys_b = set(
        face_keys(second, sorted(p.name for p in (second / "images_256").iterdir())).values()
    )
    assert keys_a == keys_b and len(keys_a) == 36
    assert release_checksum(first) != release_checksum(second)  # other labels.csv


@pytest.mark.slow
def test_checkpoint_records_checksum_and_faces(pair: tuple[Path, Path], tmp_path: Path) -> None:
    first, _ = pair
    result = train_classifier(tiny(first, tmp_path / "run"))
    saved = torch.load(result.run_dir / "best.pt", weights_only=True)
    assert saved["release_checksum"] == release_checksum(first)
    with (first / "labels.csv").open(newline="") as handle:
        train = [row["image"] for row in csv.DictReader(handle) if row["set"] == "train"]
    assert saved["faces"] == sorted(face_keys(first, train).values())


@pytest.mark.slow
def test_start_that_saw_a_test_face_is_refused(pair: tuple[Path, Path], tmp_path: Path) -> None:
    first, second = pair
    checkpoint = train_classifier(tiny(first, tmp_path / "run")).run_dir / "best.pt"
    # The renumbered folder's test split holds 3 faces the checkpoint trained on: refused,
    # before any training, whatever the file names.
    with pytest.raises(UsageError, match=r"3 of the 11 test faces .* were among its training"):
        train_classifier(tiny(second, tmp_path / "leaky", weights=checkpoint))
    assert not (tmp_path / "leaky" / "best.pt").exists()
    # Its own folder's test faces were never trained on: accepted, and said so.
    fine = train_classifier(tiny(first, tmp_path / "fine", weights=checkpoint))
    config = (fine.run_dir / "config.json").read_text()
    assert "none of the 8 test faces" in config


@pytest.mark.slow
def test_fine_tuned_checkpoint_inherits_the_faces_of_its_start(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    first, second = pair
    checkpoint = train_classifier(tiny(first, tmp_path / "run")).run_dir / "best.pt"
    again = train_classifier(tiny(first, tmp_path / "again", weights=checkpoint)).run_dir
    # A chain of checkpoints cannot launder a test face.
    with pytest.raises(UsageError, match="were among its training faces"):
        train_classifier(tiny(second, tmp_path / "leaky", weights=again / "best.pt"))


@pytest.mark.slow
def test_unrecorded_checkpoint_refused_plain_weights_accepted(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    first, _ = pair
    checkpoint = train_classifier(tiny(first, tmp_path / "run")).run_dir / "best.pt"
    saved = torch.load(checkpoint, weights_only=True)
    old = tmp_path / "old.pt"
    torch.save({k: v for k, v in saved.items() if k not in {"faces", "release_checksum"}}, old)
    with pytest.raises(UsageError, match="records no training faces"):
        train_classifier(tiny(first, tmp_path / "old", weights=old))
    plain = tmp_path / "imagenet-like.pt"
    torch.save(saved["model"], plain)
    run = train_classifier(tiny(first, tmp_path / "plain", weights=plain, preset="official"))
    assert "record no KaoKore faces" in (run.run_dir / "config.json").read_text()


def test_check_no_leak_names_the_test_images() -> None:
    check_no_leak("x.pt", ["k1", "k2"], {"a.jpg": "k3"}, where="folder")
    with pytest.raises(UsageError, match=r"x.pt: 1 of the 2 test faces of folder .*\(b.jpg\)"):
        check_no_leak("x.pt", ["k1", "k2"], {"a.jpg": "k3", "b.jpg": "k2"}, where="folder")


@pytest.mark.slow
def test_pretraining_leaves_out_the_evaluation_test_faces(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    first, second = pair
    config = PretrainConfig(
        release=second,
        evaluation=first,
        out=tmp_path / "simclr",
        image_size=32,
        epochs=1,
        batch_size=8,
        device="cpu",
        cache_dir=tmp_path / "cache",
        progress=False,
    )
    result = pretrain(config)
    assert (result.faces, result.excluded) == (28, 8)
    saved = torch.load(result.checkpoint, weights_only=True)
    with (first / "labels.csv").open(newline="") as handle:
        test = [row["image"] for row in csv.DictReader(handle) if row["set"] == "test"]
    assert not set(saved["faces"]) & set(face_keys(first, test).values())
    assert len(result.history) == 1 and result.history[0]["loss"] > 0
    # Fine-tuning on the evaluation folder is accepted; on the folder it pretrained on (whose
    # test faces it saw) it is refused.
    tuned = train_classifier(tiny(first, tmp_path / "tuned", weights=result.checkpoint))
    assert tuned.test is not None
    with pytest.raises(UsageError, match="were among its training faces"):
        train_classifier(tiny(second, tmp_path / "leaky", weights=result.checkpoint))


def test_pack_keeps_the_original_keys_and_checksum(pair: tuple[Path, Path], tmp_path: Path) -> None:
    first, _ = pair
    meta = make_pack(first, tmp_path / "a.npz", quality=50)
    assert meta["faces"] == 36
    folder = tmp_path / "unpacked"
    assert unpack(tmp_path / "a.npz", folder) == 36
    assert (folder / "labels.csv").read_bytes() == (first / "labels.csv").read_bytes()
    names = sorted(p.name for p in (first / "images_256").iterdir())
    # Re-encoded bytes, the original keys: the leak check still recognises every face.
    assert (folder / "images_256" / names[0]).read_bytes() != (
        first / "images_256" / names[0]
    ).read_bytes()
    assert face_keys(folder, names) == face_keys(first, names)
    assert release_checksum(folder) == release_checksum(first)
    assert unpack(tmp_path / "a.npz", folder) == 36  # an existing unpack is reused
