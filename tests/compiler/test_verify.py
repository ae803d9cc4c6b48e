"""``verify_release``: a clean release passes; every kind of damage is named, one line each."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from kaokore.compiler import build_release, verify_release
from kaokore.config import Settings
from kaokore.db import BlobStore, open_database
from kaokore.errors import ReleaseError
from tests.compiler.conftest import Filler, fill_standard


@pytest.fixture(scope="module")
def clean_release(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One release built for the whole module (builds are the slow part)."""
    home = tmp_path_factory.mktemp("verify-home")
    database = open_database(Settings(home=home))
    try:
        fill_standard(Filler(database=database, store=BlobStore(database.settings.blob_dir)))
        yield build_release(database, "1.0", out_dir=home / "releases", workers=1).path
    finally:
        database.close()


@pytest.fixture
def release(clean_release: Path, tmp_path: Path) -> Path:
    """A private copy of the clean release, to damage."""
    return Path(shutil.copytree(clean_release, tmp_path / clean_release.name))


def problems(root: Path) -> list[str]:
    return list(verify_release(root).problems)


@pytest.mark.slow
def test_a_clean_release_passes(release: Path) -> None:
    report = verify_release(release)
    assert report.ok and report.problems == ()
    assert report.version == "1.0"
    assert report.images == len(list((release / "images_256").iterdir()))
    assert report.files == len((release / "SHA256SUMS").read_text().splitlines())


def test_a_corrupted_image_is_named(release: Path) -> None:
    (release / "images_256" / "00000002.jpg").write_bytes(b"not a jpeg at all")
    found = problems(release)
    assert "checksum mismatch: images_256/00000002.jpg (its bytes differ from SHA256SUMS)" in found
    assert any(p.startswith("images_256/00000002.jpg: does not decode") for p in found)
    assert len(found) == 2


def test_a_truncated_image_is_named(release: Path) -> None:
    path = release / "images_256" / "00000004.jpg"
    path.write_bytes(path.read_bytes()[:2000])
    found = problems(release)
    assert any(p.startswith("images_256/00000004.jpg: does not decode") for p in found)
    assert any(p.startswith("checksum mismatch: images_256/00000004.jpg") for p in found)


def test_a_missing_image_is_named_everywhere(release: Path) -> None:
    (release / "images_256" / "00000003.jpg").unlink()
    found = problems(release)
    assert "missing file: images_256/00000003.jpg (listed in SHA256SUMS)" in found
    assert any(p.startswith("labels.csv:") and "00000003.jpg: no such image" in p for p in found)
    assert any(p.startswith("original_tags.txt:") and "00000003.jpg" in p for p in found)
    assert any(p.startswith("release.json: counts.images") for p in found)


def test_a_missing_file_is_named(release: Path) -> None:
    (release / "faces.parquet").unlink()
    assert problems(release) == ["missing file: faces.parquet (listed in SHA256SUMS)"]


def test_a_tampered_checksum_is_named(release: Path) -> None:
    sums = release / "SHA256SUMS"
    lines = sums.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.endswith("  labels.csv"))
    lines[index] = "0" * 64 + "  labels.csv"
    sums.write_text("\n".join(lines) + "\n")
    assert problems(release) == ["checksum mismatch: labels.csv (its bytes differ from SHA256SUMS)"]


def test_unlisted_files_and_missing_sums(release: Path) -> None:
    (release / "notes.txt").write_text("mine")
    assert problems(release) == ["unlisted file: notes.txt (not in SHA256SUMS)"]
    (release / "SHA256SUMS").unlink()
    assert problems(release) == ["missing file: SHA256SUMS (no file can be checked)"]


def test_bad_rows_and_a_face_in_two_sets(release: Path) -> None:
    path = release / "splits" / "stable.csv"
    lines = path.read_text().splitlines()
    image, gender, status, set_name = lines[1].split(",")
    other = "test" if set_name != "test" else "train"
    lines += [
        f"{image},{gender},{status},{other}",
        "99999999.jpg,7,9,holdout",
        "99999998.jpg,0,0,train",
    ]
    path.write_text("\n".join(lines) + "\n")
    found = problems(release)
    assert any(
        f"{image} is listed on line 2 already, in {set_name} (here in {other})" in p for p in found
    )
    assert (
        "splits/stable.csv:" + str(len(lines)) + ": 99999998.jpg: no such image in images_256/"
        in found
    )
    assert any(
        "99999999.jpg: unknown gender '7' (expected 0 (male), 1 (female))" in p for p in found
    )
    assert any("99999999.jpg: unknown status '9'" in p for p in found)
    assert any(
        "99999999.jpg: unknown set 'holdout' (expected one of train, dev, test)" in p for p in found
    )
    assert "checksum mismatch: splits/stable.csv (its bytes differ from SHA256SUMS)" in found


def test_a_work_shared_between_sets_is_named(release: Path) -> None:
    path = release / "splits" / "by-work.csv"
    lines = path.read_text().splitlines()
    image, gender, status, set_name = lines[1].split(",")
    other = "test" if set_name != "test" else "train"
    lines[1] = f"{image},{gender},{status},{other}"
    path.write_text("\n".join(lines) + "\n")
    found = problems(release)
    assert any(p.startswith("splits/by-work.csv: work:") and "sets" in p for p in found)


def test_a_wrong_size_image_and_inconsistent_release_json(release: Path) -> None:
    out = io.BytesIO()
    Image.new("L", (200, 200), 128).save(out, format="JPEG")
    (release / "images_256" / "00000001.jpg").write_bytes(out.getvalue())
    meta = json.loads((release / "release.json").read_text())
    meta["counts"]["labelled"] += 1
    (release / "release.json").write_text(json.dumps(meta))
    found = problems(release)
    assert "images_256/00000001.jpg: is 200x200 L, not 256x256 RGB" in found
    assert any(p.startswith("release.json: counts.labelled is") for p in found)


def test_no_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError, match="No release at"):
        verify_release(tmp_path / "nothing")
