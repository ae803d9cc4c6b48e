"""``export_imagefolder``: the ImageNet layout, hard links, and what ImageFolder reads from it."""

from __future__ import annotations

import errno
import os
from collections import Counter
from pathlib import Path

import pytest

from kaokore.export import export_imagefolder
from kaokore.vocab import class_names
from tests.export.conftest import label_rows

SETS = ("train", "dev", "test")


def exported(out: Path) -> dict[str, Path]:
    """Relative ``set/class/file`` paths of the images of an ImageFolder export."""
    return {p.relative_to(out).as_posix(): p for p in sorted(out.glob("*/*/*.jpg")) if p.is_file()}


@pytest.mark.parametrize("category", ["gender", "status"])
@pytest.mark.parametrize("split", [None, "by-work"])
def test_same_images_and_labels_as_the_release(
    built_release: Path, tmp_path: Path, category: str, split: str | None
) -> None:
    summary = export_imagefolder(built_release, tmp_path / "out", category=category, split=split)
    rows = label_rows(built_release, split)
    classes = class_names(category)
    expected = {f"{row['set']}/{classes[int(row[category])]}/{row['image']}": row for row in rows}
    files = exported(tmp_path / "out")
    assert files.keys() == expected.keys()
    for relative, path in files.items():
        source = built_release / "images_256" / Path(relative).name
        assert path.read_bytes() == source.read_bytes()
    assert dict(summary.counts) == {s: sum(1 for r in rows if r["set"] == s) for s in SETS}
    per_set = Counter((r.split("/")[0], r.split("/")[1]) for r in files)
    assert per_set == Counter((r["set"], classes[int(r[category])]) for r in rows)
    for set_name in SETS:  # every class folder, even empty, so class indices agree
        assert sorted(p.name for p in (tmp_path / "out" / set_name).iterdir()) == sorted(classes)


def test_images_are_hard_links_unless_copy(built_release: Path, tmp_path: Path) -> None:
    linked = export_imagefolder(built_release, tmp_path / "linked")
    copied = export_imagefolder(built_release, tmp_path / "copied", copy=True)
    total = sum(linked.counts.values())
    assert (linked.linked, linked.copied) == (total, 0)
    assert (copied.linked, copied.copied) == (0, total)
    for relative, path in exported(tmp_path / "linked").items():
        assert os.path.samefile(path, built_release / "images_256" / Path(relative).name)
    for relative, path in exported(tmp_path / "copied").items():
        assert not os.path.samefile(path, built_release / "images_256" / Path(relative).name)


def test_falls_back_to_copies_where_links_are_refused(
    built_release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def cross_device(src: object, dst: object) -> None:
        calls.append(str(dst))
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)
    summary = export_imagefolder(built_release, tmp_path / "out")
    assert summary.linked == 0 and summary.copied == sum(summary.counts.values())
    assert len(calls) == 1  # one refusal is enough to stop trying
    files = exported(tmp_path / "out")
    assert len(files) == summary.copied
    assert all(path.read_bytes() for path in files.values())


@pytest.mark.torch
def test_torchvision_imagefolder_reads_it_unchanged(built_release: Path, tmp_path: Path) -> None:
    pytest.importorskip("torchvision", reason="needs the train extra (torchvision)")
    from torchvision.datasets import ImageFolder

    export_imagefolder(built_release, tmp_path / "out", category="status")
    rows = label_rows(built_release)
    for set_name in SETS:
        folder = ImageFolder(str(tmp_path / "out" / set_name), allow_empty=True)
        assert folder.classes == sorted(class_names("status"))
        got = Counter(folder.classes[label] for _path, label in folder.samples)
        names = class_names("status")
        assert got == Counter(names[int(r["status"])] for r in rows if r["set"] == set_name)
