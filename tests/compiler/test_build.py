"""``build_release``: reproducible, immutable, stable across versions, complete."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from kaokore.compiler import build as build_module
from kaokore.compiler import build_release, verify_release
from kaokore.db import Face, Release
from kaokore.errors import CompileError, ReleaseExistsError, UsageError
from tests.compiler.conftest import Filler, tree


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def faces_by_key(release: Path) -> dict[str, dict[str, str]]:
    return {row["face_key"]: row for row in rows(release / "faces.csv")}


@pytest.mark.slow
def test_two_builds_give_identical_bytes(filled: Filler, tmp_path: Path) -> None:
    first = build_release(filled.database, "1.0", out_dir=tmp_path / "a", workers=1)
    second = build_release(filled.database, "1.0", out_dir=tmp_path / "b", workers=2)
    assert first.created and second.created
    a, b = tree(first.path), tree(second.path)
    assert a.keys() == b.keys()
    assert [name for name in a if a[name] != b[name]] == []
    assert first.checksum == second.checksum
    assert verify_release(first.path).problems == ()


def test_release_layout_and_official_formats(filled: Filler, tmp_path: Path) -> None:
    summary = build_release(filled.database, "1.0", out_dir=tmp_path, workers=1)
    root = summary.path
    assert root == tmp_path / "kaokore-1.0"
    names = set(tree(root))
    for name in (
        "labels.csv",
        "labels.metadata.en.txt",
        "labels.metadata.ja.txt",
        "original_tags.txt",
        "urls.txt",
        "faces.csv",
        "faces.parquet",
        "release.json",
        "SHA256SUMS",
        "DATASHEET.md",
        "contact_sheet.png",
        "splits/stable.csv",
        "splits/by-work.csv",
        "splits/by-page.csv",
    ):
        assert name in names
    assert "splits/official.csv" not in names  # no official version imported
    labels = (root / "labels.csv").read_text().splitlines()
    assert labels[0] == "image,gender,status,set"
    sets = [line.rsplit(",", 1)[1] for line in labels[1:]]
    assert sets == sorted(sets, key=("train", "dev", "test").index)
    assert (root / "labels.csv").read_bytes() == (root / "splits/stable.csv").read_bytes()
    tags = (root / "original_tags.txt").read_text().splitlines()
    assert tags[0].startswith("00000000.jpg:")
    keys = [pair.split("=")[0] for pair in tags[0].split(":", 1)[1].split(";")]
    assert keys == sorted(keys) and "tag" not in keys  # machine tags stay in faces.csv only
    urls = (root / "urls.txt").read_text().splitlines()
    images = sorted(os.listdir(root / "images_256"))
    assert len(urls) == int(images[-1][:8]) + 1
    assert urls[0].startswith("https://img.example.org/") and urls[0].endswith(
        "/256,256/0/default.jpg"
    )
    for name in images:
        with Image.open(root / "images_256" / name) as image:
            assert (image.size, image.mode, image.format) == ((256, 256), "RGB", "JPEG")
            assert "exif" not in image.info and "comment" not in image.info
    meta = json.loads((root / "release.json").read_text())
    assert meta["version"] == "1.0" and meta["previous"] is None and meta["diff"] is None
    assert meta["counts"]["images"] == len(images)
    assert meta["counts"]["labelled"] == len(labels) - 1
    assert meta["built_at"] == summary.built_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    with filled.database.session() as session:
        release = session.query(Release).filter_by(kind="built", version="1.0").one()
        assert release.checksum == summary.checksum and release.db_state == meta["db_state"]
        assert len(release.members) == len(images)
    sheet = (root / "DATASHEET.md").read_text()
    assert "CC BY-SA 4.0" in sheet and "doi:10.20676/00000353" in sheet
    assert "not redistributed" in sheet
    assert meta["license"]["name"] == "CC BY-SA 4.0"


@pytest.mark.slow
def test_sha256sum_accepts_the_sums(filled: Filler, tmp_path: Path) -> None:
    summary = build_release(filled.database, "1.0", out_dir=tmp_path, workers=1)
    try:
        result = subprocess.run(
            ["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=summary.path, capture_output=True
        )
    except FileNotFoundError:
        pytest.skip("sha256sum is not installed")
    assert result.returncode == 0, result.stdout + result.stderr


def test_left_out_and_unlabelled_faces(filled: Filler, tmp_path: Path) -> None:
    root = build_release(filled.database, "1.0", out_dir=tmp_path, workers=1).path
    meta = json.loads((root / "release.json").read_text())
    reasons = {item["face_key"].split("#")[0]: item["reason"] for item in meta["left_out"]}
    assert reasons == {
        "iiif/w2/p0": "no usable crop: not fetched yet (crop pending)",
        "iiif/w2/p1": "no usable crop: the crop failed (HTTP 404 from img.example.org)",
    }
    assert meta["counts"]["left_out"] == 2
    left_keys = {item["face_key"] for item in meta["left_out"]}
    assert not left_keys & set(faces_by_key(root))
    unlabelled = next(row for row in rows(root / "faces.csv") if row["meta_status"] == "僧侶")
    assert unlabelled["gender"] == "0" and unlabelled["status"] == ""
    labelled_images = {
        line.split(",")[0] for line in (root / "labels.csv").read_text().splitlines()
    }
    assert unlabelled["image"] not in labelled_images
    assert any(
        line.startswith(unlabelled["image"] + ":") and "身分=僧侶" in line
        for line in (root / "original_tags.txt").read_text().splitlines()
    )
    annotations = json.loads(unlabelled["annotations"])
    assert {
        "label": "tag",
        "value": "bot",
        "raw_value": "bot",
        "agent": "machine",
        "position": 0,
    } in annotations


def test_grayscale_and_oblong_crops_become_256_rgb(filled: Filler, tmp_path: Path) -> None:
    root = build_release(filled.database, "1.0", out_dir=tmp_path, workers=1).path
    faces = rows(root / "faces.csv")
    gray = next(row for row in faces if row["face_key"].startswith("iiif/w3/p2#"))
    edge = next(row for row in faces if row["face_key"].startswith("iiif/w3/p1#"))
    for row in (gray, edge):
        with Image.open(root / "images_256" / row["image"]) as image:
            assert (image.size, image.mode) == ((256, 256), "RGB")
    with Image.open(root / "images_256" / gray["image"]) as image:
        red, green, blue = image.split()
        assert red.tobytes() == green.tobytes() == blue.tobytes()


def test_unchanged_rebuild_is_a_noop(filled: Filler, tmp_path: Path) -> None:
    first = build_release(filled.database, "1.0", out_dir=tmp_path, workers=1)
    stamp = (first.path / "release.json").stat().st_mtime_ns
    again = build_release(filled.database, "1.0", out_dir=tmp_path, workers=1)
    assert not again.created and again.checksum == first.checksum
    assert (first.path / "release.json").stat().st_mtime_ns == stamp
    # a later version does not change what 1.0 compares with: still a no-op
    later = build_release(filled.database, "1.1", out_dir=tmp_path, workers=1)
    assert later.previous == "1.0"
    assert not build_release(filled.database, "1.0", out_dir=tmp_path, workers=1).created


def test_changed_data_refuses_and_keeps_the_release(filled: Filler, tmp_path: Path) -> None:
    first = build_release(filled.database, "1.0", out_dir=tmp_path, workers=1)
    before = tree(first.path)
    filled.relabel("f003", "身分", "貴族")
    with pytest.raises(ReleaseExistsError, match="Release 1.0 exists"):
        build_release(filled.database, "1.0", out_dir=tmp_path, workers=1)
    with pytest.raises(ReleaseExistsError, match="Release 1.0 exists"):
        build_release(filled.database, "1.0", out_dir=tmp_path / "elsewhere", workers=1)
    with pytest.raises(ReleaseExistsError):
        build_release(filled.database, "1.0", out_dir=tmp_path, seed=7, workers=1)
    assert tree(first.path) == before
    assert not (tmp_path / "elsewhere" / "kaokore-1.0").exists()


def test_a_foreign_folder_under_the_version_refuses(filled: Filler, tmp_path: Path) -> None:
    out = tmp_path / "releases"
    (out / "kaokore-1.0").mkdir(parents=True)
    (out / "kaokore-1.0" / "notes.txt").write_text("mine")
    with pytest.raises(ReleaseExistsError, match="is not a kaokore release"):
        build_release(filled.database, "1.0", out_dir=out, workers=1)
    (out / "kaokore-1.0" / "SHA256SUMS").write_text("")
    with pytest.raises(ReleaseExistsError, match="exists with other content"):
        build_release(filled.database, "1.0", out_dir=out, workers=1)
    assert (out / "kaokore-1.0" / "notes.txt").read_text() == "mine"
    assert [p.name for p in out.iterdir()] == ["kaokore-1.0"]


def test_interrupted_build_leaves_no_half_release(
    filled: Filler, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "releases"
    stale = out / ".kaokore-0.9.partial-999999999-abcd"
    stale.mkdir(parents=True)
    (stale / "labels.csv").write_text("half")

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(build_module, "_write_files", crash)
    with pytest.raises(KeyboardInterrupt):
        build_release(filled.database, "1.0", out_dir=out, workers=1)
    assert list(out.iterdir()) == []  # the stale partial folder was cleaned too
    with filled.database.session() as session:
        assert session.query(Release).count() == 0
        assert session.query(Face).filter(Face.file_number.is_not(None)).count() == 0


@pytest.mark.slow
def test_split_and_numbers_stable_across_versions(filled: Filler, tmp_path: Path) -> None:
    first = build_release(filled.database, "1.0", out_dir=tmp_path, workers=1)
    faces_1 = faces_by_key(first.path)
    filled.add_many(12, start=100)
    filled.relabel("f004", "性別", "女")
    second = build_release(filled.database, "1.1", out_dir=tmp_path, workers=1)
    faces_2 = faces_by_key(second.path)
    assert set(faces_1) < set(faces_2)
    for key, old in faces_1.items():
        new = faces_2[key]
        assert new["image"] == old["image"] and new["file_number"] == old["file_number"]
        assert (new["set_stable"], new["set_by_work"], new["set_by_page"]) == (
            old["set_stable"],
            old["set_by_work"],
            old["set_by_page"],
        )
        new_image = (second.path / "images_256" / new["image"]).read_bytes()
        assert new_image == (first.path / "images_256" / old["image"]).read_bytes()
    added = sorted(set(faces_2) - set(faces_1))
    top = max(int(row["file_number"]) for row in faces_1.values())
    assert [int(faces_2[key]["file_number"]) for key in added] == list(
        range(top + 1, top + 1 + len(added))
    )
    meta = json.loads((second.path / "release.json").read_text())
    assert meta["previous"]["version"] == "1.0"
    assert sorted(item["face_key"] for item in meta["diff"]["added"]) == added
    assert meta["diff"]["removed"] == [] and meta["diff"]["moved"] == []
    relabelled = meta["diff"]["relabelled"]
    assert len(relabelled) == 1 and relabelled[0]["after"]["gender"] == 1
    assert verify_release(second.path).problems == ()
    with pytest.raises(ReleaseExistsError):  # 1.0 is what it was; the data moved on
        build_release(filled.database, "1.0", out_dir=tmp_path, workers=1)


@pytest.mark.slow
def test_grouped_splits_share_no_work_or_page(filled: Filler, tmp_path: Path) -> None:
    filled.add_many(40, start=200, works=9, pages=5)
    root = build_release(filled.database, "1.0", out_dir=tmp_path, workers=1).path
    faces = rows(root / "faces.csv")
    for column, group in (("set_by_work", "work_key"), ("set_by_page", "canvas_uri")):
        sets_of: dict[str, set[str]] = {}
        for row in faces:
            if row["gender"]:
                sets_of.setdefault(row[group] or row["image_service_key"], set()).add(row[column])
        assert all(len(sets) == 1 for sets in sets_of.values()), column
        assert len(set().union(*sets_of.values())) >= 2
    stable = {row["set_stable"] for row in faces if row["gender"]}
    assert stable == {"train", "dev", "test"}


def test_split_file_of_an_imported_version(filled: Filler, tmp_path: Path) -> None:
    filled.add_official("1.3", {"f000": "test", "f001": "train", "f002": "dev"})
    root = build_release(filled.database, "1.0", out_dir=tmp_path, workers=1).path
    official = rows(root / "splits" / "official.csv")
    faces = {row["image"]: row for row in rows(root / "faces.csv")}
    got = {faces[row["image"]]["face_key"].split("#")[0] + row["set"] for row in official}
    assert len(official) == 3 and len(got) == 3
    meta = json.loads((root / "release.json").read_text())
    assert meta["splits"]["official"]["official_version"] == "1.3"
    assert sum(v["total"] for v in meta["counts"]["sets"]["official"].values()) == 3
    assert verify_release(root).problems == ()


def test_bad_arguments_and_empty_database(filler: Filler, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="Invalid version"):
        build_release(filler.database, "../x", out_dir=tmp_path)
    with pytest.raises(UsageError, match="workers"):
        build_release(filler.database, "1.0", out_dir=tmp_path, workers=0)
    with pytest.raises(CompileError, match="Nothing to build"):
        build_release(filler.database, "1.0", out_dir=tmp_path, workers=1)
    assert not (tmp_path / "kaokore-1.0").exists()
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".kaokore")] == []


@pytest.mark.slow
def test_a_lost_folder_or_row_is_restored_identically(filled: Filler, tmp_path: Path) -> None:
    first = build_release(filled.database, "1.0", out_dir=tmp_path, workers=1)
    before = tree(first.path)
    shutil.rmtree(first.path)  # the folder is gone, the Release row is not
    again = build_release(filled.database, "1.0", out_dir=tmp_path, workers=1)
    assert again.created and tree(again.path) == before
    with filled.database.session() as session:  # the row is gone, the folder is not
        session.delete(session.query(Release).filter_by(version="1.0").one())
    third = build_release(filled.database, "1.0", out_dir=tmp_path, workers=1)
    assert not third.created and third.checksum == first.checksum
    with filled.database.session() as session:
        assert session.query(Release).filter_by(version="1.0").one().checksum == first.checksum


@pytest.mark.slow
def test_a_corrupt_stored_crop_is_left_out_without_a_number(filled: Filler, tmp_path: Path) -> None:
    with filled.database.session() as session:
        face = session.get(Face, filled.faces["f007"])
        assert face is not None and face.blob is not None
        key, blob_path = face.key, face.blob.path
    filled.store.path(blob_path).write_bytes(b"garbage")
    root = build_release(filled.database, "1.0", out_dir=tmp_path, workers=2).path
    meta = json.loads((root / "release.json").read_text())
    reasons = {item["face_key"]: item["reason"] for item in meta["left_out"]}
    assert reasons[key] == "stored crop is corrupt (sha256 mismatch)"
    assert key not in faces_by_key(root)
    assert not [p for p in (root / "images_256").iterdir() if p.name.startswith(".")]
    with filled.database.session() as session:
        assert session.get(Face, filled.faces["f007"]).file_number is None  # type: ignore[union-attr]
    assert verify_release(root).ok
