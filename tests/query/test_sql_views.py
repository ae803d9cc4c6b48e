"""The documented views, and ``kaokore sql`` refusing every kind of write."""

from __future__ import annotations

import hashlib
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import inspect

from kaokore.db import Database
from kaokore.errors import UsageError
from kaokore.query import VIEWS, faces, sql
from tests.query.conftest import SmallDb, TagLine


def test_views_have_the_documented_columns(small_db: SmallDb) -> None:
    names = set(inspect(small_db.database.engine).get_view_names())
    for view in VIEWS:
        assert view.name in names
        result = sql(small_db.database, f"SELECT * FROM {view.name} LIMIT 0")
        assert result.columns == tuple(column for column, _ in view.columns), view.name


def test_faces_current_matches_the_python_rows(small_db: SmallDb) -> None:
    result = sql(small_db.database, "SELECT * FROM faces_current ORDER BY face_id")
    rows = {row.face_id: row for row in faces(small_db.database)}
    assert len(result.rows) == len(rows) == 6
    for record in result.as_dicts():
        row = rows[record["face_id"]]
        assert (record["work"], record["holder"], record["status"], record["gender"]) == (
            row.work, row.holder, row.status, row.gender,
        )  # fmt: skip
        assert (record["period_from"], record["period_to"]) == (row.period_from, row.period_to)
        assert set(filter(None, (record["tags"] or "").split(" | "))) == set(row.tags)
    by_id = {r["face_id"]: r for r in result.as_dicts()}
    b1 = by_id[small_db.ids["b1"]]
    assert b1["has_machine_labels"] == 1 and b1["status_en"] == "warrior"
    assert b1["period_raw"] == "1651 | 慶安4" and (b1["period_from"], b1["period_to"]) == (
        1651,
        1651,
    )


def test_faces_current_periods_on_official_data(
    official_db: Database, official_tags: list[TagLine]
) -> None:
    result = sql(
        official_db,
        "SELECT period_from, period_to, count(*) FROM faces_current GROUP BY 1, 2",
    )
    from tests.query.test_faces_official import face_range

    expected = Counter(face_range(line) for line in official_tags)
    assert {(a, b): n for a, b, n in result.rows} == expected


def test_status_counts_by_sql(official_db: Database, official_tags: list[TagLine]) -> None:
    result = sql(official_db, "SELECT status, count(*) FROM faces_current GROUP BY status")
    assert dict(result.rows) == Counter(line.first("身分") for line in official_tags)


def test_history_view_keeps_retracted_rows(small_db: SmallDb) -> None:
    face_id = small_db.ids["a2"]
    result = sql(
        small_db.database,
        f"SELECT value, is_current FROM annotation_history WHERE face_id = {face_id} AND label = '身分'",
    )
    assert sorted(result.rows) == [("庶民", 0), ("貴族", 1)]


def _state(path: Path) -> str:
    """A digest of every row of every table and the schema: the database's content."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    digest = hashlib.sha256()
    try:
        for name, statement in connection.execute(
            "SELECT name, sql FROM sqlite_master ORDER BY name"
        ):
            digest.update(f"{name}:{statement}".encode())
        tables = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        for table in sorted(tables):
            for row in connection.execute(f'SELECT * FROM "{table}" ORDER BY 1'):
                digest.update(repr(row).encode())
        digest.update(repr(connection.execute("PRAGMA user_version").fetchone()).encode())
    finally:
        connection.close()
    return digest.hexdigest()


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            "INSERT INTO faces (key, square_x, square_y, square_w, square_h) VALUES ('x', 0, 0, 1, 1)",
            "INSERT is refused",
        ),
        ("UPDATE annotations SET value = 'x'", "UPDATE is refused"),
        ("DELETE FROM faces", "DELETE is refused"),
        ("DROP VIEW faces_current", "DROP is refused"),
        ("DROP TABLE annotations", "DROP is refused"),
        ("ATTACH DATABASE ':memory:' AS other", "ATTACH is refused"),
        ("CREATE TABLE t (a)", "CREATE is refused"),
        ("PRAGMA user_version = 7", "read-only"),
        ("PRAGMA journal_mode = DELETE", "read-only"),
        ("PRAGMA writable_schema = ON", "read-only"),
        ("SELECT 1; DELETE FROM faces", "stacked statements are refused"),
        ("SELECT 1; SELECT 2", "stacked statements are refused"),
        ("/* hidden */ DELETE FROM faces", "DELETE is refused"),
        ("WITH x AS (SELECT 1) DELETE FROM faces", "read-only"),
        ("WITH x AS (SELECT 1) INSERT INTO works (key) SELECT 'k' FROM x", "read-only"),
        ("  vacuum", "VACUUM is refused"),
        ("REPLACE INTO works (key) VALUES ('k')", "REPLACE is refused"),
    ],
)
def test_writes_are_refused_and_change_nothing(
    small_db: SmallDb, statement: str, message: str
) -> None:
    path = small_db.home / "kaokore.db"
    before = _state(path)
    with pytest.raises(UsageError, match=message):
        sql(small_db.database, statement)
    assert _state(path) == before


def test_reads_still_work(small_db: SmallDb) -> None:
    assert sql(small_db.database, "SELECT count(*) FROM faces_current;").rows == ((6,),)
    assert sql(small_db.database, "SELECT ';' AS semi -- ; DELETE FROM faces").rows == ((";",),)
    assert sql(small_db.database, "PRAGMA table_info(faces)").rows[0][1] == "id"
    assert sql(
        small_db.database, "SELECT name FROM pragma_table_info('faces_current') LIMIT 1"
    ).rows == (("face_id",),)
    assert len(sql(small_db.database, "SELECT * FROM faces", limit=2).rows) == 2
    with pytest.raises(UsageError, match="SQL error: no such table"):
        sql(small_db.database, "SELECT * FROM nowhere")
