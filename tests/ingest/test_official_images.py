"""Official images from disk: matched to urls.txt lines, checked, stored and copied as they are."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select
from typer.testing import CliRunner

from kaokore.cli import app
from kaokore.compiler.build import build_release
from kaokore.config import Settings
from kaokore.db import Database, open_database
from kaokore.db.models import Face
from kaokore.errors import UsageError
from kaokore.ingest.official import import_official
from kaokore.ingest.official_images import check_image, expected_size, store_official_images
from tests.conftest import shared_path
from tests.ingest.test_official import small_folder


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = open_database(Settings(home=tmp_path / "home"))
    yield db
    db.close()


def jpeg(size: tuple[int, int], colour: tuple[int, int, int], quality: int = 87) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="JPEG", quality=quality)
    return out.getvalue()


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("256,256", (256, 256, None)),
        ("256,", (256, None, None)),
        ("!200,200", (None, None, 200)),
        ("full", (None, None, None)),
    ],
)
def test_expected_size_of_an_image_api_size(
    size: str, expected: tuple[int | None, int | None, int | None]
) -> None:
    assert expected_size(size) == expected


def test_check_image_names_what_is_wrong() -> None:
    assert check_image(jpeg((256, 256), (9, 9, 9)), "256,256") is None
    assert check_image(jpeg((256, 180), (9, 9, 9)), "256,") is None
    assert check_image(jpeg((200, 150), (9, 9, 9)), "!200,200") is None
    assert "is 255x256" in (check_image(jpeg((255, 256), (9, 9, 9)), "256,256") or "")
    assert "does not decode" in (check_image(b"<html>not found</html>", "256,256") or "")


def test_images_are_stored_as_they_are_and_the_like_official_build_copies_them(
    tmp_path: Path, database: Database
) -> None:
    folder = small_folder(tmp_path)  # lines 0, 1, 3 name faces; 2 is blank
    images = folder / "images_256"
    images.mkdir()
    files = {0: jpeg((256, 256), (200, 10, 10)), 3: jpeg((256, 256), (10, 200, 10), 70)}
    for number, data in files.items():
        (images / f"{number:08d}.jpg").write_bytes(data)
    (images / "00000001.jpg").write_bytes(jpeg((100, 256), (0, 0, 0)))  # not what it asks for
    import_official(database, folder)
    report = store_official_images(database, folder)
    assert (report.matched, report.missing, report.faces_given_crop) == (2, 0, 2)
    ((path, reason),) = report.bad
    assert path.endswith("00000001.jpg") and "is 100x256" in reason
    with database.session() as session:
        statuses = sorted(face.crop_status for face in session.scalars(select(Face)))
    assert statuses == ["ok", "ok", "pending"]
    again = store_official_images(database, folder)
    assert again.faces_given_crop == 0 and again.matched == 2  # idempotent
    summary = build_release(database, "1.0-like", like_official="1.0", workers=1)
    out = summary.path / "images_256"
    for number, data in files.items():
        assert (out / f"{number:08d}.jpg").read_bytes() == data  # copied, not re-encoded
    assert (summary.path / "labels.csv").read_bytes() == (folder / "labels.csv").read_bytes()


def test_images_need_an_imported_version_and_a_folder(tmp_path: Path, database: Database) -> None:
    folder = small_folder(tmp_path)
    with pytest.raises(UsageError, match="no such folder"):
        store_official_images(database, folder)
    (folder / "images_256").mkdir()
    with pytest.raises(UsageError, match="not imported"):
        store_official_images(database, folder)


def test_images_option_needs_official(kaokore_home: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["ingest", "--images", str(tmp_path)])
    assert result.exit_code == 2
    assert "use it with --official" in result.output


@pytest.mark.slow
def test_official_1_2_with_its_images_rebuilds_byte_identical(
    kaokore_home: Path, tmp_path: Path
) -> None:
    """The whole 1.2: import with the 8,446 local images, build --like-official, compare."""
    official = shared_path("data", "kaokore", "official", "v1.2")
    images = shared_path("data", "kaokore", "images_256")
    folder = tmp_path / "v1.2"
    shutil.copytree(official, folder)
    runner = CliRunner()
    result = runner.invoke(
        app, ["ingest", "--official", str(folder), "--images", str(images), "--no-images"]
    )
    assert result.exit_code == 0, result.output  # its defects are handled: warnings
    assert "8446 matched to urls.txt lines" in " ".join(result.output.split())
    built = runner.invoke(app, ["build", "--like-official", "1.2", "--workers", "2"])
    assert built.exit_code == 0, built.output
    release = kaokore_home / "releases" / "kaokore-1.2-official"
    made = sorted(path.name for path in (release / "images_256").iterdir())
    assert made == sorted(path.name for path in images.iterdir())
    differing = [
        name
        for name in made
        if (release / "images_256" / name).read_bytes() != (images / name).read_bytes()
    ]
    assert differing == []
    for name in ("labels.csv", "urls.txt", "original_tags.txt"):
        assert (release / name).read_bytes() == (official / name).read_bytes(), name
