"""The ``kaokore`` command: global options, one-line errors and exit codes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kaokore import __version__
from kaokore.cli import app

runner = CliRunner()


def test_help_lists_the_command_groups() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for group in ("db",):
        assert group in result.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"kaokore {__version__}"


def test_db_upgrade_creates_the_default_database_in_home(kaokore_home: Path) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (kaokore_home / "kaokore.db").exists()
    status = runner.invoke(app, ["db", "status"])
    assert status.exit_code == 0
    assert "faces" in status.output


def test_db_option_overrides_the_environment(kaokore_home: Path, tmp_path: Path) -> None:
    target = tmp_path / "chosen.db"
    result = runner.invoke(app, ["--db", f"sqlite:///{target}", "db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert target.exists()
    assert not (kaokore_home / "kaokore.db").exists()


def test_not_a_database_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "photo.db"
    path.write_bytes(b"\x89PNG not a database")
    result = runner.invoke(app, ["--db", f"sqlite:///{path}", "db", "status"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"Error: {path} is not a kaokore database (not a SQLite file: file is not a database)"
    ]
    assert path.read_bytes() == b"\x89PNG not a database"


def test_foreign_sqlite_database_is_exit_2_and_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (x)")
    before = path.read_bytes()
    result = runner.invoke(app, ["--db", f"sqlite:///{path}", "db", "upgrade"])
    assert result.exit_code == 2
    assert "not a kaokore database" in result.stderr
    assert path.read_bytes() == before


def test_unknown_command_is_a_usage_error_without_traceback() -> None:
    result = runner.invoke(app, ["db", "frobnicate"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: No such command 'frobnicate'.")
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_console_script_runs_in_a_subprocess(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "kaokore", "--home", str(tmp_path), "db", "upgrade"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "kaokore.db").exists()
