"""Reading and importing the official KaoKore files (versions 1.0 to 1.3).

Hand-made folders in ``tmp_path`` test the reader and the importer everywhere; the real
files in ``../shared/data/kaokore/official`` (skipped when absent) test the official counts,
the known defects and that one crop is one face across versions. The real versions are
imported once per session (1.0, then 1.3, then 1.1 and 1.2) into one database that the
compiler tests share through :func:`imported_official`.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kaokore.config import Settings
from kaokore.db.defects import list_defects
from kaokore.db.models import (
    Annotation,
    Document,
    Face,
    ImageService,
    Release,
    ReleaseMember,
    Source,
    Work,
)
from kaokore.db.session import Database, open_database
from kaokore.errors import ImportFileError, UsageError
from kaokore.ingest.official import (
    OfficialImportReport,
    find_defects,
    import_official,
    read_official,
    version_of_folder,
)
from tests.conftest import shared_path

NOW = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
LATER = dt.datetime(2024, 2, 3, 4, 5, 6, tzinfo=dt.UTC)

METADATA_EN = (
    "gender\tstatus\n2\t4\n\ngender\n\t0\tmale\n\t1\tfemale\n\n"
    "status\n\t0\tnoble\n\t1\twarrior\n\t2\tincarnation\n\t3\tcommoner\n\n"
)
METADATA_JA = (
    "性別\t身分\n2\t4\n\n性別\n\t0\t男\n\t1\t女\n\n"
    "身分\n\t0\t貴族\n\t1\t武士\n\t2\t化身\n\t3\t庶民\n\n"
)

NIJL = "http://codh.rois.ac.jp/pmjt/iiif/200014685/200014685_00005.tif"
KEIO = "http://iiif.lib.keio.ac.jp/iipsrv/NRE/110X-445-3-2/tif/2_004.tif"
KYOTO = "https://rmda.kulib.kyoto-u.ac.jp/iiif/RB00013604/RB00013604_00003_0.ptif"
NIJL_TAGS = (
    "原典=文正草子;原典ID=10.20730/200014685;向き=横;性別={g};所蔵=国文学研究資料館;身分={s}"
)
KEIO_TAGS = "原典=ふんせう;原典ID=110X@445@3@2;向き=横;性別={g};所蔵=慶應義塾大学;身分={s}"


def write_folder(
    folder: Path,
    *,
    urls: list[str],
    tags: list[str],
    labels: list[str],
    header: str = "image,gender,status,set",
) -> Path:
    """An official-looking folder: LF line ends and a final newline, as the real files."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "urls.txt").write_text("".join(f"{u}\n" for u in urls), encoding="utf-8")
    (folder / "original_tags.txt").write_text("".join(f"{t}\n" for t in tags), encoding="utf-8")
    (folder / "labels.csv").write_text(
        "".join(f"{row}\n" for row in [header, *labels]), encoding="utf-8"
    )
    (folder / "labels.metadata.en.txt").write_text(METADATA_EN, encoding="utf-8")
    (folder / "labels.metadata.ja.txt").write_text(METADATA_JA, encoding="utf-8")
    return folder


def small_folder(root: Path, name: str = "v1.0") -> Path:
    """Four numbers: two faces, a gap, a Keio face (repeated tag keys)."""
    return write_folder(
        root / name,
        urls=[
            f"{NIJL}/100,200,50,50/256,/0/default.jpg",
            f"{NIJL}/300,200,60,60/256,/0/default.jpg",
            "",
            f"{KEIO}/583,812,222,222/256,/0/default.jpg",
        ],
        tags=[
            "00000000.jpg:タグ=外国;タグ=中国;" + NIJL_TAGS.format(g="男", s="貴族"),
            "00000001.jpg:" + NIJL_TAGS.format(g="女", s="僧侶"),
            "00000003.jpg:制作年=from 1500;制作年=to 1600;" + KEIO_TAGS.format(g="男", s="武士"),
        ],
        labels=["00000003.jpg,0,1,train", "00000000.jpg,0,0,test"],
    )


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = open_database(Settings(home=tmp_path / "home"))
    yield db
    db.close()


def count(db: Database, model: type) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def table_counts(db: Database) -> dict[str, int]:
    models = (Source, Document, Work, ImageService, Face, Annotation, Release, ReleaseMember)
    return {model.__name__: count(db, model) for model in models}


# --- reading -----------------------------------------------------------------------------


def test_read_keeps_blank_lines_as_gaps_and_parses_requests(tmp_path: Path) -> None:
    official = read_official(small_folder(tmp_path))

    assert official.version == "1.0"
    assert [line.file_name for line in official.urls] == [
        "00000000.jpg",
        "00000001.jpg",
        "00000002.jpg",
        "00000003.jpg",
    ]
    assert official.urls[2].blank and official.urls[2].face_key is None
    first = official.urls[0]
    assert first.request is not None and first.request.service_url == NIJL
    assert first.request.size == "256,"
    assert (first.region.x, first.region.y, first.region.w, first.region.h) == (100, 200, 50, 50)
    assert first.face_key == "/pmjt/iiif/200014685/200014685_00005.tif#100,200,50,50"
    assert official.faces_with_urls == 3
    assert official.errors == ()


def test_read_keeps_repeated_keys_in_order_with_positions(tmp_path: Path) -> None:
    official = read_official(small_folder(tmp_path))

    pairs = official.tags[0].pairs
    assert [(p.key, p.raw_value, p.position) for p in pairs[:2]] == [
        ("タグ", "外国", 0),
        ("タグ", "中国", 1),
    ]
    keio = official.tags_by_number()[3]
    assert [(p.raw_value, p.position) for p in keio.pairs if p.key == "制作年"] == [
        ("from 1500", 0),
        ("to 1600", 1),
    ]
    assert [(row.image, row.gender, row.status, row.set) for row in official.labels] == [
        ("00000003.jpg", 0, 1, "train"),
        ("00000000.jpg", 0, 0, "test"),
    ]


def test_version_comes_from_the_folder_name_unless_given(tmp_path: Path) -> None:
    assert version_of_folder(Path("/x/v1.3")) == "1.3"
    assert version_of_folder(Path("1.2")) == "1.2"
    folder = small_folder(tmp_path, "kaokore-download")
    with pytest.raises(UsageError, match="kaokore-download"):
        read_official(folder)
    assert read_official(folder, version="9.9").version == "9.9"


def test_missing_file_is_an_import_file_error_naming_it(tmp_path: Path) -> None:
    folder = small_folder(tmp_path)
    (folder / "original_tags.txt").unlink()

    with pytest.raises(ImportFileError) as info:
        read_official(folder)
    assert info.value.path == str(folder.resolve() / "original_tags.txt")
    assert "original_tags.txt" in str(info.value)


def test_malformed_lines_are_reported_with_file_line_and_reason(tmp_path: Path) -> None:
    folder = write_folder(
        tmp_path / "v2.0",
        urls=[
            f"{NIJL}/100,200,50,50/256,256/0/default.jpg",
            "http://codh.rois.ac.jp/pmjt/iiif/broken",
            f"{NIJL}/300,200,60,60/256,256/0/default.jpg",
            f"{NIJL}/full/256,256/0/default.jpg",
        ],
        tags=[
            "00000000.jpg:" + NIJL_TAGS.format(g="男", s="貴族"),
            "00000001.jpg 性別=男",
            "00000002.jpg:性別=女;oops;" + NIJL_TAGS.format(g="女", s="庶民").split(";", 1)[1],
        ],
        labels=[
            "00000000.jpg,0,0,train",
            "00000002.jpg,1,7,dev",
            "face.jpg,0,0,test",
            "00000002.jpg,1,3,validation",
        ],
    )

    official = read_official(folder)
    found = {(Path(e.path).name, e.line, e.code) for e in official.errors}

    assert found == {
        ("urls.txt", 2, "broken_url"),
        ("urls.txt", 4, "broken_url"),
        ("original_tags.txt", 2, "tag_without_colon"),
        ("original_tags.txt", 3, "pair_without_equals"),
        ("labels.csv", 3, "label"),
        ("labels.csv", 4, "bad_file_name"),
        ("labels.csv", 5, "label"),
    }
    by_line = {(Path(e.path).name, e.line): str(e) for e in official.errors}
    assert by_line[("labels.csv", 3)] == (
        f"{folder.resolve() / 'labels.csv'}:3: 00000002.jpg: unknown status '7' "
        "(expected 0 (noble), 1 (warrior), 2 (incarnation), 3 (commoner))"
    )
    assert by_line[("original_tags.txt", 2)].endswith(
        "original_tags.txt:2: no ':' after the file name"
    )
    assert "broken URL" in by_line[("urls.txt", 2)]
    assert all(e.kind == "malformed" for e in official.errors)


def test_malformed_lines_leave_the_rest_imported(tmp_path: Path, database: Database) -> None:
    folder = write_folder(
        tmp_path / "v2.0",
        urls=[
            f"{NIJL}/100,200,50,50/256,256/0/default.jpg",
            "not a url",
            f"{NIJL}/300,200,60,60/256,256/0/default.jpg",
        ],
        tags=[
            "00000000.jpg:" + NIJL_TAGS.format(g="男", s="貴族"),
            "garbage line",
            "00000002.jpg:性別=女;oops",
        ],
        labels=["00000000.jpg,0,0,train", "00000002.jpg,2,0,dev"],
    )

    report = import_official(database, folder, now=NOW)

    assert {(Path(e.path).name, e.line) for e in report.errors} == {
        ("urls.txt", 2),
        ("original_tags.txt", 2),
        ("original_tags.txt", 3),
        ("labels.csv", 3),
    }
    assert report.faces_with_urls == 2 and report.new_faces == 2
    assert report.labelled == 1 and report.labelled_by_set == {"train": 1, "dev": 0, "test": 0}
    with database.session() as session:
        labels = session.execute(
            select(Annotation.label, Annotation.raw_value)
            .join(Face)
            .where(Face.key.endswith("#300,200,60,60"))
        ).all()
        members = session.execute(
            select(ReleaseMember.file_name, ReleaseMember.face_id, ReleaseMember.split)
        ).all()
    assert labels == [("性別", "女")]  # the pair without '=' is left out, its line kept
    assert len(members) == 3
    assert [name for name, face_id, _ in members if face_id is None] == ["00000001.jpg"]


# --- importing -----------------------------------------------------------------------------


def test_import_records_source_document_services_works_faces_and_release(
    tmp_path: Path, database: Database
) -> None:
    folder = small_folder(tmp_path)

    report = import_official(database, folder, now=NOW)

    assert (report.lines, report.faces_with_urls, report.new_faces, report.matched_faces) == (
        4,
        3,
        3,
        0,
    )
    assert report.labelled_by_label == {"gender": {0: 2}, "status": {0: 1, 1: 1}}
    assert report.changed
    with database.session() as session:
        source = session.scalars(select(Source)).one()
        assert (source.kind, source.url) == ("official", str(folder.resolve()))
        document = session.scalars(select(Document)).one()
        assert document.kind == "official_file"
        assert document.url == (folder.resolve() / "original_tags.txt").as_uri()
        services = session.scalars(select(ImageService).order_by(ImageService.id)).all()
        assert [(s.base_url, s.key) for s in services] == [
            (NIJL, "/pmjt/iiif/200014685/200014685_00005.tif"),
            (KEIO, "/iipsrv/NRE/110X-445-3-2/tif/2_004.tif"),
        ]
        works = {w.key: (w.holder, w.record_id, w.label) for w in session.scalars(select(Work))}
        assert works == {
            "record:国文学研究資料館:10.20730/200014685": (
                "国文学研究資料館",
                "10.20730/200014685",
                "文正草子",
            ),
            "record:慶應義塾大学:110X-445-3-2": ("慶應義塾大学", "110X-445-3-2", "ふんせう"),
        }
        keio = session.scalars(select(Face).where(Face.key.endswith("#583,812,222,222"))).one()
        assert (keio.square_x, keio.square_y, keio.square_w, keio.square_h) == (583, 812, 222, 222)
        assert keio.crop_status == "pending" and keio.work is not None
        assert keio.work.record_id == "110X-445-3-2"
        call_number = [a for a in keio.annotations if a.label == "原典ID"][0]
        assert (call_number.raw_value, call_number.value) == ("110X@445@3@2", "110X-445-3-2")
        assert all(a.document_id == document.id for a in keio.annotations)
        release = session.scalars(select(Release)).one()
        assert (release.kind, release.version) == ("official", "1.0")
        members = session.execute(
            select(ReleaseMember.file_name, ReleaseMember.split, ReleaseMember.gender)
            .where(ReleaseMember.release_id == release.id)
            .order_by(ReleaseMember.id)
        ).all()
    # Labelled rows first, in labels.csv order; then the rest by number.
    assert members == [
        ("00000003.jpg", "train", 0),
        ("00000000.jpg", "test", 0),
        ("00000001.jpg", None, None),
        ("00000002.jpg", None, None),
    ]


def test_reimport_changes_nothing(tmp_path: Path, database: Database) -> None:
    folder = small_folder(tmp_path)
    import_official(database, folder, now=NOW)
    before = table_counts(database)

    again = import_official(database, folder, now=LATER)

    assert not again.changed
    assert (again.new_faces, again.matched_faces, again.annotations_added) == (0, 3, 0)
    assert again.annotations_retracted == 0
    assert table_counts(database) == before
    with database.session() as session:
        assert session.scalars(select(Source.last_synced_at)).one() == NOW
        assert session.scalars(select(Document.fetched_at)).one() == NOW


def test_existing_faces_keep_their_links_and_get_missing_ones(
    tmp_path: Path, database: Database
) -> None:
    folder = small_folder(tmp_path)
    import_official(database, folder, now=NOW)
    with database.session() as session:
        faces = session.scalars(select(Face).order_by(Face.id)).all()
        faces[0].work_id = None
        faces[1].image_service_id = None
        faces[2].square_x = 0  # as a harvest that knows the image size would clamp it
        expected = [(f.id, f.work_id, f.image_service_id) for f in faces]

    report = import_official(database, folder, now=LATER)

    assert report.changed and report.new_faces == 0
    with database.session() as session:
        faces = session.scalars(select(Face).order_by(Face.id)).all()
        assert all(f.work_id is not None and f.image_service_id is not None for f in faces)
        assert faces[2].square_x == 0
        assert (faces[2].id, faces[2].work_id, faces[2].image_service_id) == expected[2]


def test_changed_tags_are_retracted_and_added_not_overwritten(
    tmp_path: Path, database: Database
) -> None:
    folder = small_folder(tmp_path)
    import_official(database, folder, now=NOW)
    tags = folder / "original_tags.txt"
    tags.write_text(tags.read_text(encoding="utf-8").replace("向き=横", "向き=正面", 1), "utf-8")

    report = import_official(database, folder, now=LATER)

    assert (report.annotations_added, report.annotations_retracted) == (1, 1)
    with database.session() as session:
        rows = session.execute(
            select(Annotation.raw_value, Annotation.retracted_at)
            .join(Face)
            .where(Face.key.endswith("#100,200,50,50"), Annotation.label == "向き")
            .order_by(Annotation.id)
        ).all()
    assert rows == [("横", LATER), ("正面", None)]


def test_one_face_whatever_the_scheme_host_or_size(tmp_path: Path, database: Database) -> None:
    first = small_folder(tmp_path)
    second = write_folder(
        tmp_path / "v1.3",
        urls=[
            f"{KEIO.replace('http://', 'https://')}/583,812,222,222/!200,200/0/default.jpg",
            f"{NIJL.replace('codh.rois.ac.jp', 'CODH.example.org')}/100,200,50,50/256,/0/x.jpg",
            f"{NIJL}/999,200,60,60/256,256/0/default.jpg",
        ],
        tags=[
            "00000000.jpg:" + KEIO_TAGS.format(g="男", s="武士"),
            "00000001.jpg:" + NIJL_TAGS.format(g="男", s="貴族"),
            "00000002.jpg:" + NIJL_TAGS.format(g="男", s="貴族"),
        ],
        labels=["00000002.jpg,0,0,train"],
    )
    import_official(database, first, now=NOW)

    report = import_official(database, second, now=NOW)

    assert (report.new_faces, report.matched_faces) == (1, 2)
    assert count(database, Face) == 4
    assert count(database, ImageService) == 2  # the https Keio URL is the same service
    with database.session() as session:
        keio = session.scalars(select(Face).where(Face.key.endswith("#583,812,222,222"))).one()
        by_document = Counter(a.document.url.split("/")[-2] for a in keio.annotations)
    assert by_document == {"v1.0": 8, "v1.3": 6}  # each version asserts its own tags


def test_known_defects_are_warnings_naming_file_line_and_reason(tmp_path: Path) -> None:
    folder = write_folder(
        tmp_path / "v1.1",
        urls=[
            f"{NIJL}/-5,1140,246,246/256,256/0/default.jpg",
            "",
            f"{KEIO}/583,812,222,222/256,256/0/default.jpg",
            f"{KEIO.replace('http:', 'https:')}/583,812,222,222/256,256/0/default.jpg",
            f"{KYOTO}/1842,876,107,107/256,256/0/default.jpg",
        ],
        tags=[
            "00000000.jpg:=;" + NIJL_TAGS.format(g="男", s="貴族"),
            "00000001.jpg:" + NIJL_TAGS.format(g="女", s="貴族"),
            "00000002.jpg:" + KEIO_TAGS.format(g="男", s="武士"),
            "00000003.jpg:" + KEIO_TAGS.format(g="男", s="武士"),
            "00000004.jpg:京都大学貴重資料デジタルアーカイブレコードID=RB00000064;所蔵=京都大学;性別=女;身分=貴族",
        ],
        labels=[
            "00000001.jpg,1,0,train",
            "00000000.jpg,0,0,dev",
            "00000002.jpg,0,1,train",
            "00000003.jpg,0,1,train",
            "00000004.jpg,0,0,test",
        ],
    )

    warnings = {(Path(f.path).name, f.line, f.code) for f in find_defects(read_official(folder))}

    assert warnings == {
        ("urls.txt", 1, "negative_region"),
        ("urls.txt", 4, "duplicate_crop"),
        ("labels.csv", 2, "label_on_blank_line"),
        ("labels.csv", 6, "label_disagrees_with_tags"),
        ("original_tags.txt", 1, "empty_key"),
        ("original_tags.txt", 2, "tags_on_blank_line"),
        ("original_tags.txt", 5, "record_id_mismatch"),
    }


def test_the_library_import_records_the_defects_and_clears_the_mended(
    tmp_path: Path, database: Database
) -> None:
    urls = [
        f"{NIJL}/-5,1140,246,246/256,256/0/default.jpg",
        f"{KEIO}/583,812,222,222/256,256/0/default.jpg",
    ]
    tags = [
        "00000000.jpg:=;" + NIJL_TAGS.format(g="男", s="貴族"),
        "00000001.jpg:" + KEIO_TAGS.format(g="男", s="武士"),
    ]
    labels = ["00000000.jpg,0,0,train", "00000001.jpg,0,1,train"]
    folder = write_folder(tmp_path / "v1.1", urls=urls, tags=tags, labels=labels)

    import_official(database, folder)
    with database.session() as session:
        stored = {(d.document_url.rsplit("/", 1)[-1], d.pointer, d.code, d.outcome)
                  for d in list_defects(session)}  # fmt: skip
    assert stored == {
        ("urls.txt", "line 1", "negative_region", "kept"),
        ("original_tags.txt", "line 1", "empty_key", "kept"),
    }

    tags[0] = "00000000.jpg:" + NIJL_TAGS.format(g="男", s="貴族")
    import_official(database, write_folder(tmp_path / "v1.1", urls=urls, tags=tags, labels=labels))
    with database.session() as session:
        assert {d.code for d in list_defects(session)} == {"negative_region"}


def test_duplicated_crop_is_one_face_and_both_lines_are_members(
    tmp_path: Path, database: Database
) -> None:
    folder = write_folder(
        tmp_path / "v1.2",
        urls=[
            f"{KEIO}/583,812,222,222/256,256/0/default.jpg",
            f"{KEIO.replace('http:', 'https:')}/583,812,222,222/256,256/0/default.jpg",
        ],
        tags=[
            "00000000.jpg:" + KEIO_TAGS.format(g="男", s="武士"),
            "00000001.jpg:" + KEIO_TAGS.format(g="男", s="武士"),
        ],
        labels=["00000000.jpg,0,1,train", "00000001.jpg,0,1,train"],
    )

    report = import_official(database, folder, now=NOW)

    assert (report.faces_with_urls, report.distinct_faces, report.labelled) == (2, 1, 2)
    assert [f.line for f in report.warnings_of("duplicate_crop")] == [2]
    with database.session() as session:
        face_ids = session.scalars(select(ReleaseMember.face_id)).all()
    assert len(face_ids) == 2 and len(set(face_ids)) == 1


# --- the real official files -----------------------------------------------------------------

#: Section 7 of SOURCES.md: labelled rows (train/dev/test) and lines naming a face.
OFFICIAL_COUNTS = {
    "1.0": (5298, {"train": 4238, "dev": 533, "test": 527}),
    "1.1": (8215, {"train": 6568, "dev": 826, "test": 821}),
    "1.2": (8446, {"train": 6756, "dev": 845, "test": 845}),
    "1.3": (9257, {"train": 7405, "dev": 926, "test": 926}),
}
FACES_WITH_URLS = {"1.0": 5552, "1.1": 8573, "1.2": 8848, "1.3": 9683}
VERSIONS = tuple(OFFICIAL_COUNTS)


@dataclass
class ImportedOfficial:
    """The four versions imported into one database (1.0, 1.3, 1.1, 1.2, in that order)."""

    database: Database
    root: Path
    reports: dict[str, OfficialImportReport]
    faces_after: dict[str, int]


_IMPORTED: list[ImportedOfficial] = []


def imported_official(tmp_path_factory: pytest.TempPathFactory) -> ImportedOfficial:
    """Import the real versions once per test session; skip when ../shared is absent."""
    root = shared_path("data", "kaokore", "official")
    if not _IMPORTED:
        home = tmp_path_factory.mktemp("official") / "home"
        database = open_database(Settings(home=home))
        reports: dict[str, OfficialImportReport] = {}
        faces_after: dict[str, int] = {}
        for version in ("1.0", "1.3", "1.1", "1.2"):
            reports[version] = import_official(database, root / f"v{version}", now=NOW)
            faces_after[version] = count(database, Face)
        _IMPORTED.append(ImportedOfficial(database, root, reports, faces_after))
    return _IMPORTED[0]


@pytest.fixture(scope="session")
def official(tmp_path_factory: pytest.TempPathFactory) -> ImportedOfficial:
    return imported_official(tmp_path_factory)


def labels_csv_counts(path: Path) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """Sets, genders and statuses of a labels.csv, counted without kaokore's reader."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return (
        Counter(row["set"] for row in rows),
        Counter(row["gender"] for row in rows),
        Counter(row["status"] for row in rows),
    )


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS)
def test_each_version_has_the_official_counts(official: ImportedOfficial, version: str) -> None:
    report = official.reports[version]
    labelled, by_set = OFFICIAL_COUNTS[version]
    sets, genders, statuses = labels_csv_counts(official.root / f"v{version}" / "labels.csv")

    assert report.faces_with_urls == FACES_WITH_URLS[version]
    assert report.labelled == labelled
    assert dict(report.labelled_by_set) == by_set == dict(sets)
    assert {str(k): v for k, v in report.labelled_by_label["gender"].items()} == dict(genders)
    assert {str(k): v for k, v in report.labelled_by_label["status"].items()} == dict(statuses)
    assert report.errors == ()
    with official.database.session() as session:
        release = session.scalars(select(Release).where(Release.version == version)).one()
        stored = Counter(
            session.scalars(
                select(ReleaseMember.split).where(
                    ReleaseMember.release_id == release.id, ReleaseMember.split.is_not(None)
                )
            )
        )
        with_face = session.scalar(
            select(func.count()).where(
                ReleaseMember.release_id == release.id, ReleaseMember.face_id.is_not(None)
            )
        )
    assert dict(stored) == by_set
    assert with_face == FACES_WITH_URLS[version]


@pytest.mark.slow
def test_one_face_per_crop_from_1_0_then_1_3(official: ImportedOfficial) -> None:
    v10, v13 = official.reports["1.0"], official.reports["1.3"]

    assert official.faces_after["1.0"] == 5552
    assert official.faces_after["1.3"] == v13.distinct_faces == 9683
    assert (v13.matched_faces, v13.new_faces) == (5552, 9683 - 5552)
    assert v10.new_faces == 5552
    # 1.1 and 1.2 bring nothing new: every crop they name is one of 1.3's.
    assert official.reports["1.1"].new_faces == official.reports["1.2"].new_faces == 0
    assert official.faces_after["1.2"] == 9683


@pytest.mark.slow
def test_1_3_tags_match_the_published_value_counts(official: ImportedOfficial) -> None:
    url = (official.root / "v1.3" / "original_tags.txt").resolve().as_uri()
    with official.database.session() as session:
        rows = session.execute(
            select(Annotation.label, Annotation.value, func.count())
            .join(Document, Document.id == Annotation.document_id)
            .where(Document.url == url, Annotation.retracted_at.is_(None))
            .where(Annotation.label.in_(("性別", "所蔵")))
            .group_by(Annotation.label, Annotation.value)
        ).all()
    assert {(label, value): n for label, value, n in rows} == {
        ("性別", "男"): 7406,
        ("性別", "女"): 2228,
        ("性別", "不明"): 49,
        ("所蔵", "国文学研究資料館"): 5351,
        ("所蔵", "慶應義塾大学"): 2233,
        ("所蔵", "京都大学"): 2099,
    }


@pytest.mark.slow
def test_v1_1_defects_are_reported(official: ImportedOfficial) -> None:
    report = official.reports["1.1"]

    blank = report.warnings_of("label_on_blank_line")
    assert len(blank) == 40
    assert all(Path(w.path).name == "labels.csv" and w.line is not None for w in blank)
    assert "urls.txt is blank" in blank[0].reason
    assert len(report.warnings_of("tags_on_blank_line")) == 40
    negative = report.warnings_of("negative_region")
    assert [w.line for w in negative] == [2372, 2750, 2867, 6473, 6546, 7534, 7783, 7986]
    assert str(negative[0]).endswith(
        "urls.txt:2372: negative region -2,1372,176,176 (the crop reaches outside the image)"
    )
    assert len(official.reports["1.0"].warnings_of("negative_region")) == 3


@pytest.mark.slow
def test_v1_2_duplicates_and_record_mismatches_are_reported(official: ImportedOfficial) -> None:
    report = official.reports["1.2"]

    assert [w.line for w in report.warnings_of("duplicate_crop")] == [8064, 8800, 8811]
    assert report.distinct_faces == 8845
    mismatches = report.warnings_of("record_id_mismatch")
    assert len(mismatches) == 99
    assert all("132X-200-3-2" in w.reason and "132X-200-3-1" in w.reason for w in mismatches)
    assert len(official.reports["1.3"].warnings_of("record_id_mismatch")) == 99


@pytest.mark.slow
def test_reimporting_a_real_version_changes_nothing(official: ImportedOfficial) -> None:
    before = table_counts(official.database)

    again = import_official(official.database, official.root / "v1.1", now=LATER)

    assert not again.changed
    assert (again.new_faces, again.annotations_added, again.annotations_retracted) == (0, 0, 0)
    assert table_counts(official.database) == before
