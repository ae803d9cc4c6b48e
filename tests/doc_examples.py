"""Run the Python examples of a Markdown page, so the docs cannot drift from the code.

The ```` ```python ```` blocks run in order in one namespace (a later block uses the names an
earlier one made); a block whose first line is ``# needs: MODULE`` runs only where MODULE
imports. A failing block fails the test with the page, the block and the error.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
from pathlib import Path

import pytest

__all__ = ["python_blocks", "run_examples"]

_NEEDS = re.compile(r"#\s*needs:\s*([\w.]+)")


def python_blocks(page: Path) -> list[str]:
    """The ```` ```python ```` blocks of ``page``, in order."""
    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)


def run_examples(page: Path, namespace: dict[str, object]) -> tuple[str, list[str]]:
    """Run the blocks of ``page`` in ``namespace``; return what they printed and the
    modules whose blocks were left out because they do not import here."""
    printed = io.StringIO()
    missing: list[str] = []
    with contextlib.redirect_stdout(printed):
        for block in python_blocks(page):
            needs = _NEEDS.match(block)
            if needs and importlib.util.find_spec(needs.group(1)) is None:
                missing.append(needs.group(1))
                continue
            try:
                exec(compile(block, str(page), "exec"), namespace)  # noqa: S102
            except Exception as exc:  # pragma: no cover - the message names the block
                pytest.fail(f"{page.name} example failed: {exc!r}\n{block}")
    return printed.getvalue(), missing
