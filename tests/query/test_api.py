"""The public surface of kaokore.query: complete, sorted, and light to import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import kaokore.query


def test_all_is_sorted_and_resolves() -> None:
    assert kaokore.query.__all__ == sorted(kaokore.query.__all__)
    for name in kaokore.query.__all__:
        assert getattr(kaokore.query, name) is not None, name


@pytest.mark.slow
def test_importing_the_api_does_not_import_torch_or_pandas() -> None:
    code = "import sys, kaokore.query, kaokore.cli; print('torch' in sys.modules, 'pandas' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]
