"""docs/research.md stays honest: its Python examples run, and every command is in it."""

from __future__ import annotations

from pathlib import Path

from kaokore.db import Database
from tests.doc_examples import python_blocks, run_examples

DOC = Path(__file__).resolve().parents[2] / "docs" / "research.md"


def test_every_research_command_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for command in (
        "kaokore query faces",
        "kaokore query stats",
        "kaokore query history",
        "kaokore sql",
        "kaokore sparql",
        "kaokore export rdf",
        "kaokore export curation",
        "kaokore similar",
    ):
        assert command in text, command
    import kaokore.query

    for name in (
        "faces",
        "stats",
        "history",
        "sql",
        "sparql",
        "export_rdf",
        "export_curation",
        "similar",
    ):
        assert f"query.{name}(" in text and name in kaokore.query.__all__, name


def test_python_examples_run(official_db: Database) -> None:
    assert len(python_blocks(DOC)) >= 8
    printed, _missing = run_examples(DOC, {"db": official_db})
    assert "1600-1700" in printed and "warrior" in printed
