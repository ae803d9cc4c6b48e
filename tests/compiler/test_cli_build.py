"""``kaokore build`` and ``kaokore verify`` through the CLI: exit codes and ``Error:`` lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kaokore.cli import app
from kaokore.compiler import verify_release
from tests.compiler.conftest import Filler

runner = CliRunner()


@pytest.mark.slow
def test_build_then_verify(filled: Filler, kaokore_home: Path) -> None:
    result = runner.invoke(app, ["build", "--version", "1.0", "--workers", "1"])
    assert result.exit_code == 0, result.output
    root = kaokore_home / "releases" / "kaokore-1.0"
    assert verify_release(root).ok
    assert "kaokore-1.0" in result.output

    again = runner.invoke(app, ["build", "--version", "1.0", "--workers", "1"])
    assert again.exit_code == 0 and "unchanged" in again.output

    checked = runner.invoke(app, ["verify", str(root)])
    assert checked.exit_code == 0 and "is sound" in checked.output


@pytest.mark.slow
def test_existing_version_with_changed_data_is_an_error(
    filled: Filler, kaokore_home: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert (
        runner.invoke(
            app, ["build", "--version", "1.0", "--out", str(out), "--workers", "1"]
        ).exit_code
        == 0
    )
    filled.relabel("f001", "身分", "庶民")
    result = runner.invoke(app, ["build", "--version", "1.0", "--out", str(out), "--workers", "1"])
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1
    assert errors[0].startswith("Error: Release 1.0 exists")
    assert "kaokore build --version 1.1" in errors[0]


@pytest.mark.slow
def test_verify_names_problems_and_exits_1(filled: Filler, kaokore_home: Path) -> None:
    assert runner.invoke(app, ["build", "--version", "2", "--workers", "1"]).exit_code == 0
    root = kaokore_home / "releases" / "kaokore-2"
    (root / "images_256" / "00000000.jpg").write_bytes(b"broken")
    (root / "urls.txt").unlink()
    result = runner.invoke(app, ["verify", str(root)])
    assert result.exit_code == 1
    assert "checksum mismatch: images_256/00000000.jpg" in result.output
    assert "missing file: urls.txt (listed in SHA256SUMS)" in result.output
    assert "problem(s) found" in result.output


@pytest.mark.slow
def test_usage_errors(kaokore_home: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["build"])
    assert (
        result.exit_code == 2 and "Error: Give the release version with --version" in result.output
    )
    result = runner.invoke(app, ["verify", str(tmp_path / "missing")])
    assert result.exit_code == 1 and "Error: No release at" in result.output
    result = runner.invoke(app, ["build", "--version", "1.0"])
    assert result.exit_code == 1 and "Error: Nothing to build" in result.output
