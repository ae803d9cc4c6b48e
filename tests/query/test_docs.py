"""docs/research.md stays honest: its Python examples run, and every command is in it."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from kaokore.db import Database

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
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 8
    namespace: dict[str, object] = {"db": official_db}
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        for block in blocks:
            try:
                exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102
            except Exception as exc:  # pragma: no cover - the message names the block
                pytest.fail(f"docs/research.md example failed: {exc!r}\n{block}")
    printed = output.getvalue()
    assert "1600-1700" in printed and "warrior" in printed
