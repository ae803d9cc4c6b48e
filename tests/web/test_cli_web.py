"""``kaokore web`` on the command line: help, defaults, and a database that is not there."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kaokore.cli import app

runner = CliRunner()


def test_help_names_the_defaults() -> None:
    result = runner.invoke(app, ["web", "--help"])
    assert result.exit_code == 0
    assert (
        "127.0.0.1" in result.output and "--port" in result.output and "Read-only" in result.output
    )


def test_missing_database_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--home", str(tmp_path / "nothing"), "web"])
    assert result.exit_code == 2
    assert "No database at" in result.output
    assert not (tmp_path / "nothing").exists()  # nothing was created


def test_serves_on_loopback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import uvicorn

    from kaokore.config import Settings
    from kaokore.db import open_database

    open_database(Settings(home=tmp_path, db_url=f"sqlite:///{tmp_path / 'kaokore.db'}")).close()
    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw, app=app))
    result = runner.invoke(app, ["--home", str(tmp_path), "web", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert seen["host"] == "127.0.0.1" and seen["port"] == 8123
