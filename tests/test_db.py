"""The research database: migrations without drift, the at-head check, SQLite settings."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from kaokore.config import Settings
from kaokore.db import Database, Document, Face, migrate, open_database
from kaokore.db.models import Base
from kaokore.errors import DatabaseBehindHead, DatabaseError, NotAKaokoreDatabase
from tests.conftest import PG_ENV, REPO_ROOT, skip_without_psycopg


def test_upgrade_on_empty_database_yields_exactly_the_orm_schema(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        drift = compare_metadata(context, Base.metadata)
        assert drift == [], f"migrations and models disagree: {drift}"
        assert migrate.current_revision(connection) == migrate.head_revision()
        tables = set(inspect(connection).get_table_names())
    assert {
        "sources",
        "documents",
        "works",
        "canvases",
        "image_services",
        "faces",
        "annotations",
        "blobs",
        "releases",
        "release_members",
    } <= tables


def test_indexes_for_research_queries_exist(database: Database) -> None:
    inspector = inspect(database.engine)
    indexed = {
        (table, tuple(index["column_names"]))
        for table in ("faces", "annotations", "works")
        for index in inspector.get_indexes(table)
    }
    assert ("faces", ("work_id",)) in indexed
    assert ("annotations", ("label", "value")) in indexed
    assert ("works", ("holder",)) in indexed


def test_timestamps_come_back_timezone_aware_utc(database: Database) -> None:
    tokyo = dt.timezone(dt.timedelta(hours=9))
    when = dt.datetime(2026, 1, 2, 9, 0, tzinfo=tokyo)
    with database.session() as session:
        session.add(Document(url="http://127.0.0.1/x.json", kind="curation", fetched_at=when))
    with database.session() as session:
        stored = session.scalars(select(Document.fetched_at)).one()
    assert stored is not None and stored.utcoffset() == dt.timedelta(0)
    assert stored == when


def test_naive_timestamps_are_refused(database: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"), database.session() as session:
        session.add(Document(url="u", kind="curation", fetched_at=dt.datetime(2026, 1, 1)))
        session.flush()


def test_foreign_keys_are_enforced(database: Database) -> None:
    with pytest.raises(Exception, match="(?i)foreign key"), database.session() as session:
        session.add(
            Face(key="k#0,0,1,1", square_x=0, square_y=0, square_w=1, square_h=1, work_id=999)
        )
        session.flush()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    db = open_database(Settings(home=tmp_path))
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    db.close()
    assert (tmp_path / "kaokore.db").exists()


def test_a_file_that_is_not_a_database_is_refused_and_left_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database\n" * 10)
    before = path.read_bytes()
    with pytest.raises(NotAKaokoreDatabase, match="not a kaokore database"):
        open_database(Settings(db_url=f"sqlite:///{path}"))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_a_foreign_sqlite_database_is_refused_and_left_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE birds (name TEXT)")
        connection.execute("INSERT INTO birds VALUES ('crane')")
    before = path.read_bytes()
    with pytest.raises(NotAKaokoreDatabase, match="no kaokore schema version"):
        open_database(Settings(db_url=f"sqlite:///{path}"))
    assert path.read_bytes() == before
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_a_database_behind_head_is_refused_until_upgraded(tmp_path: Path) -> None:
    revisions = sorted(migrate.known_revisions())
    if len(revisions) < 2:
        pytest.skip("only one migration exists, so no database can be behind head yet")
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db = open_database(Settings(db_url=url), create=True, upgrade=False)
    db.close()
    from kaokore.db.session import make_engine

    engine = make_engine(url)
    from alembic import command

    command.downgrade(migrate.alembic_config(engine), revisions[0])
    engine.dispose()
    before = (tmp_path / "old.db").read_bytes()
    with pytest.raises(DatabaseBehindHead, match="Run `kaokore db upgrade` first"):
        open_database(Settings(db_url=url))
    assert (tmp_path / "old.db").read_bytes() == before
    upgraded = open_database(Settings(db_url=url), upgrade=True)
    with upgraded.engine.connect() as connection:
        assert migrate.current_revision(connection) == migrate.head_revision()
    upgraded.close()


def test_unknown_revision_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        connection.execute("INSERT INTO alembic_version VALUES ('9999_from_the_future')")
    with pytest.raises(NotAKaokoreDatabase, match="unknown to kaokore"):
        open_database(Settings(db_url=f"sqlite:///{path}"))


def test_missing_database_without_create_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="kaokore db upgrade"):
        open_database(Settings(db_url=f"sqlite:///{tmp_path / 'absent.db'}"), create=False)


def test_unreachable_server_is_one_clear_error() -> None:
    skip_without_psycopg()
    with pytest.raises(DatabaseError, match="Cannot connect"):
        open_database(Settings(db_url="postgresql+psycopg://nobody@127.0.0.1:9/none"))


def test_a_postgres_url_without_psycopg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as on an install without the extra
    with pytest.raises(DatabaseError, match=r"kaokore\[postgres\]"):
        open_database(Settings(db_url="postgresql+psycopg://nobody@127.0.0.1:9/none"))


def test_postgres_tests_skip_without_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(pytest.skip.Exception, match="postgres extra"):
        skip_without_psycopg()


@pytest.mark.slow  # a second pytest process: importing torch alone takes tens of seconds
def test_this_file_passes_without_psycopg(tmp_path: Path) -> None:
    """The whole file, psycopg hidden, with a PostgreSQL URL set: the PG parts skip cleanly."""
    hide = (
        "import sys; sys.modules['psycopg'] = None; import pytest; "
        f"sys.exit(pytest.main(['-q', '-rs', '-p', 'no:cacheprovider', {__file__!r}, "
        "'-k', 'not without_psycopg']))"
    )
    env = {**os.environ, PG_ENV: "postgresql+psycopg://postgres@127.0.0.1:9/postgres"}
    run = subprocess.run(
        [sys.executable, "-c", hide],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "the postgres extra (psycopg), which is not installed" in run.stdout
    assert " passed" in run.stdout
