"""Operational errors end in one line that says what to do (issue 14): a database file that
cannot be written, a recorded revision behind the schema, a full disk."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from kaokore.cli import app
from kaokore.config import Settings
from kaokore.db import Database, migrate, open_database

runner = CliRunner()


def fingerprint(database: Database) -> str:
    """Every table's rows and the names of tables and views."""
    digest = hashlib.sha256()
    with database.engine.connect() as connection:
        inspector = inspect(connection)
        tables = sorted(inspector.get_table_names())
        digest.update(repr((tables, sorted(inspector.get_view_names()))).encode())
        for table in tables:
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
            digest.update(repr(sorted(repr(tuple(row)) for row in rows)).encode())
    return digest.hexdigest()


def invoke(url: str, home: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", url, "--home", str(home), *args])
    return result.exit_code, result.stdout, result.stderr


def _make_read_only(path: Path) -> bool:
    """Make ``path`` unwritable even for root (chattr +i); False if this system cannot."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        return True
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    return done.returncode == 0


def _make_writable(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True, check=False)
    path.chmod(0o644)


@pytest.fixture
def read_only_db(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    home = tmp_path / "home"
    path = home / "kaokore.db"
    url = f"sqlite:///{path}"
    open_database(Settings(home=home, db_url=url)).close()
    for side in (path.with_name("kaokore.db-wal"), path.with_name("kaokore.db-shm")):
        assert not side.exists()  # closed cleanly: a reader need not write them
    if not _make_read_only(path):
        pytest.skip("cannot make a file read-only here (root without chattr)")
    try:
        yield url, home, path
    finally:
        _make_writable(path)


def test_read_only_file_reading_commands_work(read_only_db: tuple[str, Path, Path]) -> None:
    url, home, path = read_only_db
    before = path.read_bytes()
    code, out, err = invoke(url, home, "db", "status")
    assert code == 0, err
    assert "faces" in out
    code, out, err = invoke(
        url, home, "sql", "SELECT count(*) AS n FROM faces_current", "-f", "csv"
    )
    assert code == 0 and out.split() == ["n", "0"], err
    code, out, err = invoke(url, home, "query", "stats", "--by", "status", "-f", "csv")
    assert code == 0, err
    code, _, err = invoke(url, home, "sparql", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert code == 0, err
    assert path.read_bytes() == before


def test_read_only_file_writing_commands_say_why(read_only_db: tuple[str, Path, Path]) -> None:
    url, home, path = read_only_db
    before = path.read_bytes()
    for args in (
        ("db", "upgrade"),
        ("ingest", "http://127.0.0.1:9/feed.json"),
        ("build", "--version", "x"),
    ):
        code, _, err = invoke(url, home, *args)
        assert code == 2, (args, err)
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert "cannot be written: the file is read-only" in err, err
        assert "read-only commands" in err
    assert path.read_bytes() == before


@pytest.mark.slow
def test_a_revision_behind_the_schema_says_what_to_do(database_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    head = migrate.head_revision()
    database = open_database(Settings(home=home, db_url=database_url))
    try:
        with database.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        before = fingerprint(database)
        code, _, err = invoke(database_url, home, "db", "upgrade")
        assert code == 2, err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert "recorded revision 0001" in err and f"kaokore db stamp {head}" in err, err
        assert fingerprint(database) == before
        # Reading commands name the remedy too, and change nothing.
        code, _, err = invoke(database_url, home, "sql", "SELECT 1")
        assert code == 2 and f"behind {head}. Run `kaokore db upgrade` first." in err
        # The remedy the message names works.
        code, out, err = invoke(database_url, home, "db", "stamp", head)
        assert code == 0 and head in out, err
        code, _, err = invoke(database_url, home, "db", "status")
        assert code == 0, err
    finally:
        database.close()


def _sqlite_db(tmp_path: Path, name: str) -> Database:
    home = tmp_path / name
    return open_database(Settings(home=home, db_url=f"sqlite:///{home / 'kaokore.db'}"))


@pytest.mark.slow
def test_a_full_disk_stops_the_run_in_one_line_and_the_next_run_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import event

    from kaokore.errors import DiskFullError, operational_error
    from kaokore.mirror import sample_dir
    from kaokore.server import LocalIIIFServer
    from tests.ingest.harvest_helpers import run_ingest, snapshot

    with LocalIIIFServer(sample_dir()) as server:
        feed = server.url("/api/face/as/collection.json")
        reference = _sqlite_db(tmp_path, "reference")
        run_ingest(reference, [feed])
        expected = snapshot(reference)
        reference.close()

        # The database file may not grow past a few pages: SQLite's "database or disk is full".
        database = _sqlite_db(tmp_path, "full")
        with database.engine.connect() as connection:
            pages = connection.exec_driver_sql("PRAGMA page_count").scalar()

        def limit(dbapi_connection: object, _record: object) -> None:
            dbapi_connection.execute(f"PRAGMA max_page_count = {int(pages) + 6}")  # type: ignore[attr-defined]

        event.listen(database.engine, "connect", limit)
        database.engine.dispose()
        with pytest.raises(Exception) as raised:
            run_ingest(database, [feed])
        error = operational_error(raised.value)
        assert isinstance(error, DiskFullError), raised.value
        assert "\n" not in str(error) and "run the command again" in str(error)
        database.close()

        # The blob store's disk fills up: the CLI says so in one line, exit 2.
        home = tmp_path / "full"
        from kaokore.db import blobs

        def no_space(*_args: object, **_kwargs: object) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(blobs.BlobStore, "put", no_space)
        url = f"sqlite:///{home / 'kaokore.db'}"
        code, _, err = invoke(url, home, "ingest", feed)
        lines = [line for line in err.splitlines() if line.strip()]  # (progress leaves a blank)
        assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
        assert lines[0].startswith("Error: The disk is full ([Errno 28] No space left on device)")
        monkeypatch.undo()

        # With space again, the next run ends where an uninterrupted run ends.
        code, _, err = invoke(url, home, "ingest", feed)
        assert code == 0, err
        resumed = _sqlite_db(tmp_path, "full")
        try:
            assert snapshot(resumed) == expected
        finally:
            resumed.close()
