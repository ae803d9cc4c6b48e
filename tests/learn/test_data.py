"""KaoKore behaves like the official loader, with torchvision's conventions on top."""

from __future__ import annotations

import csv
import inspect
import os
import pickle
import shutil
from pathlib import Path

import pytest

pytest.importorskip("torchvision", reason="needs the train extra")

from PIL import Image  # noqa: E402

from kaokore.errors import DatasetNotFoundError, ReleaseError  # noqa: E402
from kaokore.learn.data import KaoKore  # noqa: E402
from tests.conftest import shared_path  # noqa: E402
from tests.learn.conftest import make_folder, make_rows  # noqa: E402


def official_entries(root: Path, split: str, category: str) -> list[tuple[str, int]]:
    """The official loader's selection rule (rois-codh/kaokore ``Kaokore.__init__``)."""
    with open(root / "labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        (row["image"], int(row[category]))
        for row in rows
        if row["set"] == split and os.path.exists(root / "images_256" / row["image"])
    ]


def test_signature_is_the_official_one_plus_torchvision_extras() -> None:
    parameters = list(inspect.signature(KaoKore).parameters.values())
    assert [(p.name, p.default) for p in parameters[:5]] == [
        ("root", inspect.Parameter.empty),
        ("split", "train"),
        ("category", "gender"),
        ("transform", None),
        ("target_transform", None),
    ]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters[5:])


@pytest.mark.parametrize("split", ["train", "dev", "test"])
@pytest.mark.parametrize("category", ["gender", "status"])
def test_items_match_the_official_loader(tmp_path: Path, split: str, category: str) -> None:
    rows = make_rows({"train": (5, 4), "dev": (2, 2), "test": (2, 2)})
    # The official loader silently skips rows whose image is absent; so do we by default.
    absent = {rows[0].image, rows[-1].image}
    root = make_folder(tmp_path / "k", rows, skip_images=absent)
    expected = official_entries(root, split, category)
    dataset = KaoKore(str(root), split=split, category=category)
    assert dataset.entries == expected
    assert len(dataset) == len(expected)
    assert sorted(dataset.missing) == sorted(
        r.image for r in rows if r.image in absent and r.set == split
    )
    for index, (name, label) in enumerate(expected):
        image, target = dataset[index]
        assert isinstance(image, Image.Image) and image.mode == "RGB"
        assert type(target) is int and target == label
        with Image.open(root / "images_256" / name) as reference:
            assert image.tobytes() == reference.convert("RGB").tobytes()


def test_torchvision_attributes_and_repr(official_root: Path) -> None:
    dataset = KaoKore(official_root, split="dev", category="status")
    assert dataset.classes == ["noble", "warrior", "incarnation", "commoner"]
    assert dataset.class_to_idx == {"noble": 0, "warrior": 1, "incarnation": 2, "commoner": 3}
    assert dataset.targets == [label for _, label in dataset.entries]
    text = repr(dataset)
    assert "Number of datapoints: 4" in text
    assert "Split: dev" in text and "Category: status" in text
    assert KaoKore(official_root).classes == ["male", "female"]


def test_transforms_are_applied(official_root: Path) -> None:
    dataset = KaoKore(
        official_root, transform=lambda image: image.size, target_transform=lambda y: -y - 1
    )
    size, target = dataset[0]
    assert size == (32, 32)
    assert target == -dataset.targets[0] - 1


@pytest.mark.parametrize(
    ("argument", "value", "message"),
    [
        (
            "split",
            "val",
            "Unknown value 'val' for argument split. Valid values are {'train', 'dev', 'test'}.",
        ),
        (
            "category",
            "age",
            "Unknown value 'age' for argument category. Valid values are {'gender', 'status'}.",
        ),
    ],
)
def test_bad_arguments_use_verify_str_arg_messages(
    official_root: Path, argument: str, value: str, message: str
) -> None:
    with pytest.raises(ValueError) as info:
        KaoKore(official_root, **{argument: value})
    assert str(info.value) == message


def test_missing_folder_names_it_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError) as info:
        KaoKore(tmp_path / "kaokore-1.3")
    message = str(info.value)
    assert str(tmp_path / "kaokore-1.3") in message
    assert "Run `kaokore build --version 1.3` first" in message


def test_folder_without_labels_is_not_found(official_root: Path) -> None:
    (official_root / "labels.csv").unlink()
    with pytest.raises(DatasetNotFoundError, match="labels.csv is missing"):
        KaoKore(official_root)


def test_label_out_of_range_names_the_file_and_line(tmp_path: Path) -> None:
    rows = make_rows({"train": (2, 2)})
    root = make_folder(tmp_path / "k", rows)
    text = (root / "labels.csv").read_text().splitlines()
    fields = text[3].split(",")
    fields[1] = "7"
    text[3] = ",".join(fields)
    (root / "labels.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(ReleaseError) as info:
        KaoKore(root, category="gender")
    assert f"labels.csv:4: {fields[0]}: unknown gender '7'" in str(info.value)
    with pytest.raises(ReleaseError, match="labels.csv:4"):  # the file is read whole
        KaoKore(root, category="status")


def test_strict_names_the_missing_image(tmp_path: Path) -> None:
    rows = make_rows({"train": (2, 2)})
    root = make_folder(tmp_path / "k", rows, skip_images=[rows[2].image])
    with pytest.raises(ReleaseError, match=rf"images_256/{rows[2].image}: the image is missing"):
        KaoKore(root, strict=True)


def test_release_split_files(tmp_path: Path) -> None:
    rows = make_rows({"train": (3, 3), "dev": (1, 1), "test": (1, 1)})
    by_work = {row.image: ("test" if i < 3 else "train") for i, row in enumerate(rows)}
    root = make_folder(tmp_path / "kaokore-2.0", rows, release=True, splits={"by-work": by_work})
    test = KaoKore(root, split="test", split_file="by-work")
    assert test.images == [row.image for row in rows[:3]]
    assert "Split file: splits/by-work.csv" in repr(test)
    assert len(KaoKore(root, split="test")) == 2  # labels.csv set column
    with pytest.raises(DatasetNotFoundError, match="has no 'by-page' split .* it has 'by-work'"):
        KaoKore(root, split_file="by-page")
    # An official download has no splits/: its labels.csv set column *is* the official split.
    official = make_folder(tmp_path / "official", rows)
    assert KaoKore(official, split_file="official").entries == KaoKore(official).entries


def test_pickles_without_open_handles(official_root: Path) -> None:
    dataset = KaoKore(official_root)
    clone = pickle.loads(pickle.dumps(dataset))
    assert clone.entries == dataset.entries
    assert clone[3][0].tobytes() == dataset[3][0].tobytes()


def test_real_version_1_2_images(tmp_path: Path) -> None:
    data = shared_path("data", "kaokore")
    root = tmp_path / "kaokore-1.2"
    root.mkdir()
    (root / "images_256").symlink_to(data / "images_256")
    shutil.copyfile(data / "official" / "v1.2" / "labels.csv", root / "labels.csv")
    with open(root / "labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    sizes = {
        split: len(KaoKore(root, split=split, category="status"))
        for split in ("train", "dev", "test")
    }
    assert sizes == {s: sum(r["set"] == s for r in rows) for s in ("train", "dev", "test")}
    assert sum(sizes.values()) == 8446
    image, label = KaoKore(root, split="test")[0]
    assert image.size == (256, 256) and image.mode == "RGB" and label in (0, 1)


def test_kaokore_is_the_official_class_name() -> None:
    from kaokore.learn import Kaokore as FromPackage
    from kaokore.learn.data import KaoKore, Kaokore

    assert Kaokore is KaoKore and FromPackage is KaoKore
