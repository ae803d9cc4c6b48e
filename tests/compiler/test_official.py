"""Reproducing an official KaoKore version's files from the database.

The real versions come from the session-wide import of ``tests/ingest/test_official.py``
(skipped when ``../shared`` is absent); hand-made folders run everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from kaokore.compiler.files import metadata_en, metadata_ja
from kaokore.compiler.official import official_layout
from kaokore.config import Settings
from kaokore.db.models import Face, ImageService
from kaokore.db.session import Database, open_database
from kaokore.errors import CompileError
from kaokore.ingest.official import import_official
from kaokore.release.layout import OFFICIAL_FILES
from tests.ingest.test_official import (
    KEIO,
    KEIO_TAGS,
    KYOTO,
    METADATA_EN,
    METADATA_JA,
    NIJL,
    NIJL_TAGS,
    VERSIONS,
    ImportedOfficial,
    imported_official,
    write_folder,
)

NOW = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = open_database(Settings(home=tmp_path / "home"))
    yield db
    db.close()


@pytest.fixture(scope="session")
def official(tmp_path_factory: pytest.TempPathFactory) -> ImportedOfficial:
    return imported_official(tmp_path_factory)


def irregular_folder(root: Path) -> Path:
    """Every quirk of the real files in six numbers.

    An ``http`` line among ``https`` ones of the same host, a Keio ``!200,200`` size, a gap
    whose number is labelled and tagged (v1.1), a duplicated crop, an empty ``=`` pair,
    repeated keys, a negative region, and labels.csv rows in shuffled order.
    """
    keio_https = KEIO.replace("http://", "https://")
    return write_folder(
        root / "v1.2",
        urls=[
            f"{KEIO}/583,812,222,222/!200,200/0/default.jpg",
            f"{keio_https}/691,1157,205,205/!200,200/0/default.jpg",
            "",
            f"{NIJL}/-5,1140,246,246/256,256/0/default.jpg",
            f"{keio_https}/1468,966,216,216/!200,200/0/default.jpg",
            f"{keio_https}/583,812,222,222/!200,200/0/default.jpg",
            f"{KYOTO}/1842,876,107,107/256,256/0/default.jpg",
        ],
        tags=[
            "00000000.jpg:制作年=from 1500;制作年=to 1600;" + KEIO_TAGS.format(g="男", s="貴族"),
            "00000001.jpg:" + KEIO_TAGS.format(g="女", s="貴族"),
            "00000002.jpg:" + NIJL_TAGS.format(g="男", s="武士"),
            "00000003.jpg:=;タグ=中国;タグ=外国;" + NIJL_TAGS.format(g="男", s="僧侶"),
            "00000004.jpg:" + KEIO_TAGS.format(g="男", s="庶民"),
            "00000005.jpg:制作年=from 1500;制作年=to 1600;" + KEIO_TAGS.format(g="男", s="貴族"),
            "00000006.jpg:タグ=;京都大学貴重資料デジタルアーカイブレコードID= RB00013604;制作年=;"
            "原典=病草子;向き=四分の三;性別=女;所蔵=京都大学;身分=貴族",
        ],
        labels=[
            "00000005.jpg,0,0,dev",
            "00000002.jpg,0,1,train",
            "00000000.jpg,0,0,train",
            "00000006.jpg,1,0,test",
            "00000004.jpg,0,3,train",
            "00000001.jpg,1,0,train",
        ],
    )


def test_metadata_files_match_the_official_layout() -> None:
    assert metadata_en() == METADATA_EN.encode()
    assert metadata_ja() == METADATA_JA.encode("utf-8")


def test_a_version_not_imported_is_a_compile_error(database: Database) -> None:
    with database.session() as session, pytest.raises(CompileError, match="ingest --official"):
        official_layout(session, "1.3")


def test_irregular_folder_is_reproduced_byte_for_byte(tmp_path: Path, database: Database) -> None:
    folder = irregular_folder(tmp_path)
    import_official(database, folder, now=NOW)

    with database.session() as session:
        layout = official_layout(session, "1.2")

    assert set(layout.files) == set(OFFICIAL_FILES)
    for name in OFFICIAL_FILES:
        assert layout.files[name] == (folder / name).read_bytes(), name
    names = [name for name, _face in layout.members]
    assert names == [f"{n:08d}.jpg" for n in range(7)]
    faces = dict(layout.members)
    assert faces["00000002.jpg"] is None
    assert faces["00000000.jpg"] == faces["00000005.jpg"] is not None


@pytest.mark.slow
def test_reproduction_follows_a_moved_service(tmp_path: Path, database: Database) -> None:
    """A later harvest that moves a service changes its URLs, not the faces or the labels."""
    folder = irregular_folder(tmp_path)
    import_official(database, folder, now=NOW)
    with database.session() as session:
        session.execute(
            update(ImageService)
            .where(ImageService.base_url == KYOTO)
            .values(base_url=KYOTO.replace("/iiif/", "/iiif/3/"))
        )
        session.execute(update(Face).values(square_x=0))  # a clamp must not change the URLs

    with database.session() as session:
        layout = official_layout(session, "1.2")

    urls = layout.files["urls.txt"].decode().splitlines()
    assert (
        urls[6] == f"{KYOTO.replace('/iiif/', '/iiif/3/')}/1842,876,107,107/256,256/0/default.jpg"
    )
    assert urls[3] == f"{NIJL}/-5,1140,246,246/256,256/0/default.jpg"
    for name in ("labels.csv", "original_tags.txt"):
        assert layout.files[name] == (folder / name).read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS)
def test_official_files_are_reproduced_byte_for_byte(
    official: ImportedOfficial, version: str
) -> None:
    with official.database.session() as session:
        layout = official_layout(session, version)

    folder = official.root / f"v{version}"
    for name in OFFICIAL_FILES:
        assert layout.files[name] == (folder / name).read_bytes(), f"v{version}/{name}"


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS)
def test_members_follow_the_official_numbering_with_gaps(
    official: ImportedOfficial, version: str
) -> None:
    with official.database.session() as session:
        layout = official_layout(session, version)
        keys = {face_id: key for face_id, key in session.execute(select(Face.id, Face.key))}

    urls = (official.root / f"v{version}" / "urls.txt").read_text("utf-8").splitlines()
    assert [name for name, _ in layout.members] == [f"{n:08d}.jpg" for n in range(len(urls))]
    for (name, face_id), url in zip(layout.members, urls, strict=True):
        assert (face_id is None) == (url == ""), name
        if face_id is not None:
            region = url.split("/")[-4]
            assert keys[face_id].endswith(f"#{region}"), name
