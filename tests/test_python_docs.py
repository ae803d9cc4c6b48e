"""docs/python.md stays true: its examples run, in order, against the bundled mirror and
eight real official lines, and it names each stage's command and function."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REAL_OFFICIAL_LINES, REPO_ROOT
from tests.doc_examples import python_blocks, run_examples

PAGE = REPO_ROOT / "docs" / "python.md"


def test_every_stage_is_documented_with_its_command_and_function() -> None:
    text = PAGE.read_text(encoding="utf-8")
    for command, function in (
        ("kaokore ingest", "harvest("),
        ("kaokore ingest --official", "import_official("),
        ("kaokore build", "build_release("),
        ("kaokore verify", "verify_release("),
        ("kaokore query", "query.faces("),
        ("kaokore export", "export_imagefolder("),
        ("kaokore train classify", "train_classifier("),
    ):
        assert command in text and function in text, (command, function)
    assert "python.md" in (REPO_ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.slow  # harvests, builds, exports and (with torch) trains: tens of seconds
def test_the_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copytree(REAL_OFFICIAL_LINES, tmp_path / "kaokore-official" / "v1.2")
    assert len(python_blocks(PAGE)) >= 7
    printed, missing = run_examples(PAGE, {})
    assert "kaokore-1.0 33 images, 31 labelled" in printed
    assert "ReleaseError True" in printed
    assert "1.0 31 rows;" in printed and "the folder does not exist" in printed
    assert "agent | agent 'robot': use human or machine" in printed
    assert (tmp_path / "kaokore-demo" / "releases" / "kaokore-1.0" / "SHA256SUMS").is_file()
    assert missing in ([], ["torch"])
