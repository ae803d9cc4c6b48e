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
from kaokore.db import Database, open_database

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


def test_a_revision_behind_the_schema_says_what_to_do(database_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    database = open_database(Settings(home=home, db_url=database_url))
    try:
        with database.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        before = fingerprint(database)
        code, _, err = invoke(database_url, home, "db", "upgrade")
        assert code == 2, err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert "recorded revision 0001" in err and "kaokore db stamp 0002" in err, err
        assert fingerprint(database) == before
        # Reading commands name the remedy too, and change nothing.
        code, _, err = invoke(database_url, home, "sql", "SELECT 1")
        assert code == 2 and "behind 0002. Run `kaokore db upgrade` first." in err
        # The remedy the message names works.
        code, out, err = invoke(database_url, home, "db", "stamp", "0002")
        assert code == 0 and "0002" in out, err
        code, _, err = invoke(database_url, home, "db", "status")
        assert code == 0, err
    finally:
        database.close()
