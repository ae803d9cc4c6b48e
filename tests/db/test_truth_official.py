"""The rule through the write path: official versions, curations that change or disagree,
deletions, and every reader (query, view, compiler) agreeing, on tiny hand-made data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from kaokore.compiler.select import read_build_input
from kaokore.config import Settings
from kaokore.db import Database, open_database
from kaokore.db.models import Document, Face
from kaokore.db.repository import Assertion, sync_annotations
from kaokore.db.writer import labels_changed
from kaokore.errors import UsageError
from kaokore.ingest.official import import_official
from kaokore.query import diff, faces, history, sql, stats
from kaokore.query.filters import FaceFilter
from tests.ingest.test_official import write_folder

T1 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
T2 = dt.datetime(2024, 2, 1, tzinfo=dt.UTC)
T3 = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
PAGE = "https://img.example.org/iiif/book/p1"
TAGS = "原典=草子;DOI=10.20730/1;所蔵=国文学研究資料館;性別=男;身分=貴族;向き={o}"


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = open_database(Settings(home=tmp_path, db_url=f"sqlite:///{tmp_path / 'k.db'}"))
    yield db
    db.close()


def version(root: Path, name: str, faces: dict[int, str]) -> Path:
    """An official folder with a face per square offset and its orientation."""
    numbers = sorted(faces)
    return write_folder(
        root / name,
        urls=[f"{PAGE}/{10 * n},10,50,50/256,256/0/default.jpg" for n in numbers],
        tags=[f"{i:08d}.jpg:" + TAGS.format(o=faces[n]) for i, n in enumerate(numbers)],
        labels=[f"{i:08d}.jpg,0,0,train" for i in range(len(numbers))],
    )


def orientation_everywhere(db: Database) -> dict[str, dict[int, str | None]]:
    """Each face's orientation as query, view and compiler read it."""
    by_query = {row.face_id: row.orientation for row in faces(db)}
    view = sql(db, "SELECT face_id, orientation FROM faces_current")
    by_view = {int(row[0]): row[1] for row in view.rows}
    with db.session() as session:
        rows = read_build_input(session, version="9.9").rows
    by_compiler = {
        row.face_id: next((a.value for a in row.annotations if a.label == "向き"), None)
        for row in rows
    }
    return {"query": by_query, "view": by_view, "compiler": by_compiler}


@pytest.mark.parametrize("order", [("1.2", "1.3"), ("1.3", "1.2")])
def test_a_later_official_version_supersedes_the_earlier(
    tmp_path: Path, database: Database, order: tuple[str, str]
) -> None:
    folders = {
        "1.2": version(tmp_path, "v1.2", {1: "後", 2: "横", 3: "正面"}),
        "1.3": version(tmp_path, "v1.3", {1: "横", 2: "横", 4: "後"}),
    }
    for when, name in zip((T1, T2), order, strict=True):
        import_official(database, folders[name], now=when)
    ids = {row.key.rsplit("#", 1)[1].split(",")[0]: row.face_id for row in faces(database)}
    # face 3 was listed by 1.2 only: 1.3 removed it upstream (flagged, never erased)
    assert set(ids) == {"10", "20", "40"}
    expected = {ids["10"]: "横", ids["20"]: "横", ids["40"]: "後"}
    for reader, seen in orientation_everywhere(database).items():
        assert seen == expected, reader
    assert {r.face_id for r in faces(database, where=FaceFilter(orientation="back"))} == {ids["40"]}
    counts = stats(database, by="orientation")
    assert sum(row.count for row in counts.rows) == counts.total == 3
    states = {(h.value, h.state) for h in history(database, ids["10"]) if h.label == "向き"}
    assert states == {("後", "retracted"), ("横", "current")}
    (old,) = [h for h in history(database, ids["10"]) if h.value == "後"]
    assert old.ended_by is not None and old.ended_by.endswith("v1.3/original_tags.txt")
    assert old.retracted_at is None  # 1.2 still says 後: its own assertion is kept as it was
    with database.session() as session:
        gone = session.scalars(select(Face).where(Face.key.endswith("#30,10,50,50"))).one()
        assert gone.deleted
        versions = {
            d.dataset_version: d.superseded_by_id is None
            for d in session.scalars(select(Document).where(Document.dataset.is_not(None)))
        }
    assert versions == {"1.2": False, "1.3": True}


def _doc(session, url: str) -> Document:  # type: ignore[no-untyped-def]
    document = Document(url=url, kind="curation", status="ok")
    session.add(document)
    session.flush()
    return document


def _face(session, key: str) -> Face:  # type: ignore[no-untyped-def]
    face = Face(key=key, square_x=0, square_y=0, square_w=10, square_h=10)
    session.add(face)
    session.flush()
    return face


def _says(label: str, *values: str) -> list[Assertion]:
    return [
        Assertion(label=label, raw_value=value, value=value, position=position)
        for position, value in enumerate(values)
    ]


def test_two_curations_disagree_the_newest_wins_in_every_reader(database: Database) -> None:
    with database.session() as session:
        a, b = _doc(session, "https://x.org/a.json"), _doc(session, "https://x.org/b.json")
        face = _face(session, "/p#0,0,10,10")
        # b (2024) is stored first, a (2020-ish, T1) later: order of storing does not matter
        sync_annotations(session, face, _says("身分", "貴族"), document=b, now=T3)
        sync_annotations(
            session, face, _says("身分", "武士") + _says("性別", "男"), document=a, now=T1
        )
        labels_changed(session, [face.id])
        face_id = face.id
    (row,) = faces(database)
    assert (row.status, row.gender) == ("貴族", "男")
    assert sql(database, "SELECT status FROM faces_current").rows == (("貴族",),)
    with database.session() as session:
        (sample,) = read_build_input(session, version="9.9").rows
    assert sample.status == 0  # noble, in labels.csv too
    assert [a.value for a in sample.annotations if a.label == "身分"] == ["貴族"]
    assert {(h.value, h.state) for h in history(database, face_id) if h.label == "身分"} == {
        ("貴族", "current"),
        ("武士", "outranked"),
    }


def test_a_changed_curation_and_a_deleted_one(database: Database) -> None:
    with database.session() as session:
        doc = _doc(session, "https://x.org/a.json")
        face = _face(session, "/p#0,0,10,10")
        sync_annotations(session, face, _says("タグ", "鬼", "鬼", "少年"), document=doc, now=T1)
        labels_changed(session, [face.id])
        face_id = face.id
    (row,) = faces(database)
    assert row.tags == ("鬼", "少年")  # asserted twice, counted once
    assert stats(database, by="tag").total == 1
    with database.session() as session:
        doc = session.scalars(select(Document)).one()
        face = session.get(Face, face_id)
        assert face is not None
        sync_annotations(session, face, _says("タグ", "少年"), document=doc, now=T2)
        labels_changed(session, [face_id])
    assert faces(database)[0].tags == ("少年",)
    from kaokore.ingest.store import retract_document

    with database.session() as session:
        doc = session.scalars(select(Document)).one()
        session.get(Face, face_id).curation_document_id = doc.id  # type: ignore[union-attr]
        retract_document(session, doc, T3)
    assert faces(database) == []
    assert sql(database, "SELECT COUNT(*) FROM labels_current").rows == ((0,),)
    states = {h.state for h in history(database, face_id)}
    assert states == {"retracted"}


def test_diff_of_two_versions_and_of_two_dates(tmp_path: Path, database: Database) -> None:
    import_official(database, version(tmp_path, "v1.2", {1: "後", 2: "横", 3: "正面"}), now=T1)
    import_official(database, version(tmp_path, "v1.3", {1: "横", 2: "横", 4: "後"}), now=T2)
    ids = {row.key.rsplit("#", 1)[1].split(",")[0]: row.face_id for row in faces(database)}
    with database.session() as session:
        dropped = session.scalars(select(Face.id).where(Face.key.endswith("#30,10,50,50"))).one()
    for a, b in (("1.2", "1.3"), ("2024-01-15", "2024-02-15")):
        result = diff(database, a, b)
        kinds = {(c.change, c.face_id, c.label, c.old, c.new) for c in result.changes}
        assert kinds == {
            ("relabelled", ids["10"], "向き", "後", "横"),
            ("added", ids["40"], None, None, None),
            ("removed", dropped, None, None, None),
        }, (a, b)
        (relabel,) = [c for c in result.changes if c.change == "relabelled"]
        assert relabel.who is not None and relabel.who.endswith("v1.3/original_tags.txt")
        assert relabel.when == T2
    assert diff(database, "2023-12-31", "2024-01-15").summary()["added"] == 3
    with pytest.raises(UsageError, match="no such release"):
        diff(database, "9.9", "1.3")


def test_diff_of_two_built_releases(database: Database) -> None:
    from kaokore.db.models import Release, ReleaseMember

    with database.session() as session:
        a, b, c = (_face(session, f"/p#{n},0,10,10") for n in (0, 1, 2))
        for version, members in (("1.0", [(a, 0, 0), (b, 1, 1)]), ("1.1", [(a, 0, 1), (c, 1, 2)])):
            release = Release(kind="built", version=version, built_at=T1)
            session.add(release)
            session.flush()
            for number, (face, gender, status) in enumerate(members):
                session.add(
                    ReleaseMember(
                        release_id=release.id,
                        face_id=face.id,
                        file_name=f"{number:08d}.jpg",
                        gender=gender,
                        status=status,
                    )
                )
        ids = (a.id, b.id, c.id)
    result = diff(database, "built:1.0", "1.1")
    assert {(c.change, c.face_id, c.label, c.old, c.new) for c in result.changes} == {
        ("relabelled", ids[0], "身分", "貴族", "武士"),
        ("removed", ids[1], None, None, None),
        ("added", ids[2], None, None, None),
    }
    assert result.changes[0].who == "release built:1.1"
