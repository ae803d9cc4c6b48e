"""Hostile SQL (issue 14): the attacks that once wrote, and unbounded queries, on both backends.

Each attack asserts that the database content (every row of every table, and the names of
its tables and views) is unchanged and that the CLI answers with one ``Error:`` line.
"""

from __future__ import annotations

import hashlib
import os
import time
import tracemalloc
from collections.abc import Iterator

import pytest
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from kaokore.cli import app
from kaokore.db import Database, open_readonly
from kaokore.errors import QueryLimitError, UsageError
from kaokore.query import sql
from tests.query.conftest import SmallDb

runner = CliRunner()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_db(request: pytest.FixtureRequest) -> Iterator[SmallDb]:
    """The hand-made database on SQLite, and on PostgreSQL when KAOKORE_TEST_PG is set."""
    name = "small_db" if request.param == "sqlite" else "small_pg_db"
    yield request.getfixturevalue(name)


def fingerprint(database: Database) -> str:
    """A digest of the schema's table and view names and every row of every table."""
    digest = hashlib.sha256()
    with database.engine.connect() as connection:
        inspector = inspect(connection)
        tables = sorted(inspector.get_table_names())
        digest.update(repr((tables, sorted(inspector.get_view_names()))).encode())
        for table in tables:
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
            digest.update(repr(sorted(repr(tuple(row)) for row in rows)).encode())
    return digest.hexdigest()


def invoke(small_db: SmallDb, *args: str) -> tuple[int, str, str]:
    url = small_db.database.engine.url.render_as_string(hide_password=False)
    result = runner.invoke(app, ["--db", url, "--home", str(small_db.home), *args])
    return result.exit_code, result.stdout, result.stderr


# The statements of the issue, and their relatives: each once wrote or escaped on some backend.
ATTACKS = [
    "SELECT $a1$'$a1$; COMMIT; DELETE FROM annotations; --'",
    "SELECT E'\\''; COMMIT; DROP TABLE release_members; -- '",
    "SELECT 1; COMMIT; DELETE FROM annotations",
    "SELECT 1; DELETE FROM faces",
    "WITH gone AS (DELETE FROM annotations RETURNING 1) SELECT count(*) FROM gone",
    "DELETE FROM annotations",
    "DROP TABLE release_members",
    "/* */ UPDATE annotations SET value = 'x'",
    "COPY (SELECT 1) TO PROGRAM 'touch /tmp/kaokore-pwned'",
    "ATTACH DATABASE '/tmp/kaokore-attached.db' AS other",
    "PRAGMA writable_schema = ON",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    "SET TRANSACTION READ WRITE",
    "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
]


@pytest.mark.parametrize("statement", ATTACKS)
def test_attacks_change_nothing_and_say_one_line(any_db: SmallDb, statement: str) -> None:
    before = fingerprint(any_db.database)
    code, out, err = invoke(any_db, "sql", statement)
    # Either refused with one line, or (set_config, harmless in a read-only session)
    # answered; in both cases the next statement still cannot write.
    assert code in (0, 2), err
    if code == 2:
        assert err.startswith("Error: ") and err.count("\n") == 1, err
        assert "Traceback" not in err
    code, _, err = invoke(any_db, "sql", "DELETE FROM annotations")
    assert code == 2 and err.count("\n") == 1
    assert fingerprint(any_db.database) == before
    assert not os.path.exists("/tmp/kaokore-pwned")
    assert not os.path.exists("/tmp/kaokore-attached.db")


def test_stacked_statements_are_refused_by_the_database(any_db: SmallDb) -> None:
    """No splitter: the driver refuses a second statement however it is quoted."""
    # ($a1 is a parameter on SQLite, a dollar-quote tag on PostgreSQL: refused either way.)
    with pytest.raises(UsageError, match="one read-only statement at a time|bindings"):
        sql(any_db.database, "SELECT $a1$'$a1$; COMMIT; DELETE FROM annotations; --'")
    with pytest.raises(UsageError, match="one read-only statement at a time|no such column"):
        sql(any_db.database, "SELECT E'\\''; COMMIT; DROP TABLE release_members; -- '")
    with pytest.raises(UsageError, match="one read-only statement at a time"):
        sql(any_db.database, "SELECT 'a;b'; SELECT 2")
    # Semicolons inside strings and comments are plain text.
    assert sql(any_db.database, "SELECT ';' AS semi -- ; DELETE FROM faces").rows == ((";",),)


def test_read_only_opening_refuses_writes_through_sqlalchemy(any_db: SmallDb) -> None:
    """The library entry point for other code (the web app): its engine cannot write."""
    url = any_db.database.engine.url.render_as_string(hide_password=False)
    before = fingerprint(any_db.database)
    with open_readonly(url) as database:
        assert database.read_only
        with database.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM faces_current")).scalar() == 6
        with (
            pytest.raises(Exception, match="read-only|readonly|not authorized"),
            database.engine.begin() as connection,
        ):
            connection.execute(text("DELETE FROM annotations"))
    assert fingerprint(any_db.database) == before


ENDLESS = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "


def test_endless_recursion_is_stopped_by_the_timeout(any_db: SmallDb) -> None:
    started = time.monotonic()
    with pytest.raises(QueryLimitError, match="time limit of 1 s"):
        sql(any_db.database, ENDLESS + "SELECT count(*) FROM r", timeout=1)
    assert time.monotonic() - started < 10
    code, _, err = invoke(any_db, "sql", ENDLESS + "SELECT count(*) FROM r", "--timeout", "0.5")
    assert code == 2 and err.count("\n") == 1 and "--timeout" in err


def test_endless_rows_are_streamed_and_cut(any_db: SmallDb) -> None:
    started = time.monotonic()
    result = sql(any_db.database, ENDLESS + "SELECT n FROM r", max_rows=1000)
    assert len(result.rows) == 1000 and result.truncated
    assert result.rows[-1] == (1000,)
    assert time.monotonic() - started < 10
    code, out, err = invoke(
        any_db, "sql", ENDLESS + "SELECT n FROM r", "--max-rows", "5", "-f", "csv"
    )
    assert code == 0 and out.split() == ["n", "1", "2", "3", "4", "5"]
    assert "cut after 5 rows (--max-rows)" in err
    # Fewer rows than the bound: nothing said.
    result = sql(any_db.database, "SELECT face_id FROM faces_current", max_rows=6)
    assert len(result.rows) == 6 and not result.truncated
    assert sql(any_db.database, ENDLESS + "SELECT n FROM r", limit=3).truncated is False


def test_a_large_result_does_not_grow_memory(any_db: SmallDb) -> None:
    """Three million rows of 300 bytes (~1 GB) asked for: memory stays with --max-rows."""
    big = (
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3000000) "
        "SELECT n, '" + "x" * 300 + "' AS pad FROM r"
    )
    tracemalloc.start()
    try:
        started = time.monotonic()
        result = sql(any_db.database, big, max_rows=10_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(result.rows) == 10_000 and result.truncated
    assert peak < 64 * 2**20, peak
    assert time.monotonic() - started < 20


@pytest.mark.postgres
def test_pg_sleep_does_not_outlive_the_timeout(small_pg_db: SmallDb) -> None:
    with pytest.raises(QueryLimitError):
        sql(small_pg_db.database, "SELECT pg_sleep(100)", timeout=0.5)
    with small_pg_db.database.engine.connect() as connection:
        running = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE query LIKE 'SELECT pg_sleep(100)%' AND state = 'active'"
            )
        ).scalar()
    assert running == 0


@pytest.mark.postgres
def test_reader_role_reads_the_views_only(small_pg_db: SmallDb) -> None:
    from sqlalchemy.engine import make_url

    from kaokore.query.roles import create_reader_role

    url = small_pg_db.database.engine.url
    os.environ.setdefault("KAOKORE_TEST_READER_PW", "reader-secret")
    code, out, err = invoke(
        small_pg_db,
        "db",
        "reader-role",
        "kaokore_test_reader",
        "--password-env",
        "KAOKORE_TEST_READER_PW",
    )
    assert code == 0, err
    assert "SELECT on faces_current" in out
    again = create_reader_role(
        small_pg_db.database, "kaokore_test_reader", password="reader-secret"
    )
    assert not again.created
    reader_url = make_url(url.render_as_string(hide_password=False)).set(
        username="kaokore_test_reader", password="reader-secret"
    )
    reader = reader_url.render_as_string(hide_password=False)
    before = fingerprint(small_pg_db.database)
    result = sql(reader, "SELECT count(*) FROM faces_current")
    assert result.rows == ((6,),)
    with pytest.raises(UsageError, match="permission denied"):
        sql(reader, "SELECT count(*) FROM annotations")
    with pytest.raises(UsageError, match="refused|permission denied"):
        sql(reader, "SELECT pg_read_file('/etc/passwd')")
    # Even outside kaokore (a plain psql-like client), the role cannot write.
    from sqlalchemy import create_engine

    engine = create_engine(reader)
    try:
        with (
            pytest.raises(Exception, match="read-only|permission denied"),
            engine.begin() as connection,
        ):
            connection.execute(text("SET default_transaction_read_only = off"))
            connection.execute(text("DELETE FROM annotations"))
    finally:
        engine.dispose()
    assert fingerprint(small_pg_db.database) == before
    code, _, err = invoke(small_pg_db, "db", "reader-role", "Bad Name")
    assert code == 2 and err.startswith("Error: Role name 'Bad Name'")


def test_reader_role_on_sqlite_says_what_to_do(small_db: SmallDb) -> None:
    code, _, err = invoke(small_db, "db", "reader-role")
    assert code == 2 and err.count("\n") == 1
    assert "read access to the file" in err
