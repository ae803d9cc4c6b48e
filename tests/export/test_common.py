"""What every export shares: the refusals, the licence and provenance files, reproducibility."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kaokore.errors import DatasetNotFoundError, ReleaseError, UsageError
from kaokore.export import (
    ExportSummary,
    export_imagefolder,
    export_parquet,
    export_webdataset,
    open_release,
)
from kaokore.export.common import MANIFEST_FILE, README_FILE
from tests.compiler.conftest import tree

Exporter = Callable[..., ExportSummary]
EXPORTERS: dict[str, Exporter] = {
    "imagefolder": export_imagefolder,
    "parquet": export_parquet,
    "webdataset": export_webdataset,
}
every_format = pytest.mark.parametrize("kind", sorted(EXPORTERS))


def release_checksum(root: Path) -> str:
    import hashlib

    return hashlib.sha256((root / "SHA256SUMS").read_bytes()).hexdigest()


@every_format
def test_every_export_names_its_release_and_carries_the_terms(
    kind: str, built_release: Path, tmp_path: Path
) -> None:
    summary = EXPORTERS[kind](built_release, tmp_path / "out")
    checksum = release_checksum(built_release)
    assert summary.version == "1.0" and summary.checksum == checksum
    manifest: dict[str, Any] = json.loads((tmp_path / "out" / MANIFEST_FILE).read_text())
    assert manifest["export"] == kind
    assert manifest["release"]["version"] == "1.0"
    assert manifest["release"]["checksum"] == checksum
    assert manifest["license"]["name"] == "CC BY-SA 4.0"
    assert '"KaoKore Dataset"' in manifest["attribution"]
    assert "Center for Open Data in the Humanities (CODH)" in manifest["attribution"]
    assert manifest["doi"] == "10.20676/00000353"
    assert "not redistributed" in manifest["redistribution"]
    readme = (tmp_path / "out" / README_FILE).read_text()
    for needle in (checksum, "CC BY-SA 4.0", '"KaoKore Dataset"', "10.20676/00000353"):
        assert needle in readme
    assert "not redistributed" in readme


@every_format
def test_two_exports_of_one_release_are_identical(
    kind: str, built_release: Path, tmp_path: Path
) -> None:
    EXPORTERS[kind](built_release, tmp_path / "a")
    EXPORTERS[kind](built_release, tmp_path / "b")
    a, b = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert a.keys() == b.keys()
    assert [name for name in a if a[name] != b[name]] == []


@every_format
def test_a_non_empty_folder_is_refused(kind: str, built_release: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="is not empty"):
        EXPORTERS[kind](built_release, out)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no partial folder left


@every_format
def test_an_empty_folder_is_used(kind: str, built_release: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    EXPORTERS[kind](built_release, out)
    assert (out / MANIFEST_FILE).is_file()


def test_a_file_and_a_folder_inside_the_release_are_refused(
    built_release: Path, tmp_path: Path
) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(UsageError, match="not a folder"):
        export_parquet(built_release, target)
    with pytest.raises(UsageError, match="inside the release"):
        export_parquet(built_release, built_release / "exports")
    assert not (built_release / "exports").exists()


@every_format
def test_a_release_failing_verify_is_refused_with_the_reasons(
    kind: str, release_copy: Path, tmp_path: Path
) -> None:
    (release_copy / "images_256" / "00000001.jpg").write_bytes(b"not a jpeg")
    (release_copy / "urls.txt").unlink()
    with pytest.raises(ReleaseError) as caught:
        EXPORTERS[kind](release_copy, tmp_path / "out")
    message = str(caught.value)
    assert "fails `kaokore verify`" in message
    assert "checksum mismatch: images_256/00000001.jpg" in message
    assert "missing file: urls.txt" in message
    assert f"kaokore verify {release_copy}" in message
    assert not (tmp_path / "out").exists()


def test_a_folder_that_is_not_a_release_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError, match="No release at"):
        export_parquet(tmp_path / "nowhere", tmp_path / "out")
    official = tmp_path / "official"
    (official / "images_256").mkdir(parents=True)
    (official / "labels.csv").write_text("image,gender,status,set\n")
    with pytest.raises(ReleaseError, match="missing file: SHA256SUMS"):
        export_parquet(official, tmp_path / "out")


def test_unknown_or_absent_splits_and_categories_are_usage_errors(
    built_release: Path, tmp_path: Path
) -> None:
    with pytest.raises(UsageError, match="Unknown split 'random'"):
        open_release(built_release, split="random")
    with pytest.raises(DatasetNotFoundError, match="has no 'official' split"):
        open_release(built_release, split="official")
    with pytest.raises(UsageError, match="Unknown category 'age'"):
        export_imagefolder(built_release, tmp_path / "out", category="age")
    with pytest.raises(UsageError, match="^shard_size 0: must be at least 1$"):
        export_webdataset(built_release, tmp_path / "out", shard_size=0)


def test_a_failed_export_leaves_no_folder(
    built_release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("kaokore.export.parquet.write_provenance", broken)
    with pytest.raises(OSError, match="disk full"):
        export_parquet(built_release, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_open_release_follows_labels_csv_or_the_split_file(built_release: Path) -> None:
    from tests.export.conftest import label_rows

    default = open_release(built_release)
    assert [(s.image, s.set) for s in default.samples] == [
        (row["image"], row["set"]) for row in label_rows(built_release)
    ]
    by_work = open_release(built_release, split="by-work")
    assert [(s.image, s.set) for s in by_work.samples] == [
        (row["image"], row["set"]) for row in label_rows(built_release, "by-work")
    ]
    assert by_work.split_source == "splits/by-work.csv"
