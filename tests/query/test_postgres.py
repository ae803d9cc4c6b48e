"""The research queries on PostgreSQL: views, filters, read-only SQL (KAOKORE_TEST_PG)."""

from __future__ import annotations

import pytest

from kaokore.errors import UsageError
from kaokore.query import VIEWS, count_faces, faces, sparql, sql, stats
from kaokore.query.filters import FaceFilter
from tests.query.conftest import SmallDb

pytestmark = pytest.mark.postgres


def test_views_and_python_rows_agree(small_pg_db: SmallDb) -> None:
    for view in VIEWS:
        result = sql(small_pg_db.database, f"SELECT * FROM {view.name} LIMIT 0")
        assert result.columns == tuple(column for column, _ in view.columns), view.name
    records = sql(small_pg_db.database, "SELECT * FROM faces_current ORDER BY face_id").as_dicts()
    rows = {row.face_id: row for row in faces(small_pg_db.database)}
    for record in records:
        row = rows[record["face_id"]]
        assert (record["status"], record["period_from"], record["period_to"]) == (
            row.status,
            row.period_from,
            row.period_to,
        )


def test_filters_and_stats(small_pg_db: SmallDb) -> None:
    db = small_pg_db.database
    assert count_faces(db, where=FaceFilter(status="noble")) == 2
    assert count_faces(db, where=FaceFilter(text="warrior")) == 1
    assert count_faces(db, where=FaceFilter(period="1600-1650")) == 3  # a1, a2, b2; b1 is 1651
    assert count_faces(db, where=FaceFilter(record_id="110X@1@1")) == 2
    assert count_faces(db, where=FaceFilter(agent="machine")) == 1
    assert {r.values: r.count for r in stats(db, by="holder").rows}[("京都大学",)] == 3


def test_sparql_equals_sql(small_pg_db: SmallDb) -> None:
    query = """SELECT ?s (COUNT(DISTINCT ?f) AS ?n) WHERE {
        ?b kaokore:label "身分" ; rdf:value ?s . ?f oa:hasBody ?b } GROUP BY ?s"""
    by_sql = sql(small_pg_db.database, "SELECT status, count(*) FROM faces_current GROUP BY 1")
    assert dict(sparql(small_pg_db.database, query).rows) == dict(by_sql.rows)


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM faces",
        "SELECT 1; DELETE FROM faces",
        "WITH gone AS (DELETE FROM faces RETURNING id) SELECT count(*) FROM gone",
        "SELECT 1; COMMIT; DROP TABLE faces",
        "CREATE TABLE t (a int)",
    ],
)
def test_writes_are_refused(small_pg_db: SmallDb, statement: str) -> None:
    with pytest.raises(UsageError, match="read-only|refused"):
        sql(small_pg_db.database, statement)
    assert count_faces(small_pg_db.database) == 6
