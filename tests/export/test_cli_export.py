"""``kaokore export imagefolder|parquet|webdataset --release DIR --out DIR``: output, exit codes, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kaokore.cli import app
from kaokore.export import open_release

runner = CliRunner()


def export(command: str, release: Path, out: Path, *options: str) -> Any:
    """``kaokore export COMMAND --release RELEASE --out OUT OPTIONS...``."""
    return runner.invoke(
        app, ["export", command, "--release", str(release), "--out", str(out), *options]
    )


@pytest.mark.slow
def test_imagefolder(built_release: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = export("imagefolder", built_release, out, "--category", "status")
    assert result.exit_code == 0, result.output
    assert "Exported release 1.0 as imagefolder" in result.output
    assert "hard links" in result.output
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["category"] == "status"
    assert sum(1 for _ in out.glob("*/*/*.jpg")) == len(open_release(built_release).samples)


def test_parquet_with_a_split(built_release: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = export("parquet", built_release, out, "--split", "by-work")
    assert result.exit_code == 0, result.output
    assert "sets from splits/by-work.csv" in result.output
    assert json.loads((out / "export.json").read_text())["release"]["split"] == "by-work"


def test_webdataset_with_a_shard_size(built_release: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = export("webdataset", built_release, out, "--shard-size", "5")
    assert result.exit_code == 0, result.output
    train = len([s for s in open_release(built_release).samples if s.set == "train"])
    assert len(list(out.glob("train-*.tar"))) == (train + 4) // 5


def test_a_non_empty_folder_exits_2(built_release: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "x").write_text("x")
    result = export("parquet", built_release, out)
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert errors == [
        f"Error: {out} exists and is not empty; an export never writes among other files. "
        "Give a new folder, or empty this one."
    ]


def test_a_broken_release_exits_1_with_the_reasons(release_copy: Path, tmp_path: Path) -> None:
    (release_copy / "labels.csv").write_text("image,gender,status,set\n")
    result = export("webdataset", release_copy, tmp_path / "out")
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1
    assert "fails `kaokore verify`" in errors[0]
    assert "checksum mismatch: labels.csv" in errors[0]
    assert not (tmp_path / "out").exists()


def test_an_unknown_split_exits_2(built_release: Path, tmp_path: Path) -> None:
    result = export("imagefolder", built_release, tmp_path / "o", "--split", "x")
    assert result.exit_code == 2
    assert "Error: Unknown split 'x'" in result.output


def test_help_shows_examples() -> None:
    for command in ("imagefolder", "parquet", "webdataset"):
        result = runner.invoke(app, ["export", command, "--help"])
        assert result.exit_code == 0
        assert f"kaokore export {command}" in result.output


def test_a_folder_that_is_not_a_release_is_named(tmp_path: Path) -> None:
    result = export("parquet", tmp_path, tmp_path / "o")
    assert result.exit_code != 0
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and str(tmp_path) in errors[0], result.output
    assert not (tmp_path / "o").exists()


def test_the_release_folder_is_an_option_not_an_argument(built_release: Path) -> None:
    result = runner.invoke(app, ["export", "parquet", str(built_release), "out"])
    assert result.exit_code == 2
    assert "--release" in result.output
