"""The public names of ``kaokore.learn``: complete, sorted, and loaded only when used."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("torch", reason="needs the train extra")

import kaokore.learn  # noqa: E402


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert kaokore.learn.__all__ == sorted(kaokore.learn.__all__)
    for name in kaokore.learn.__all__:
        assert getattr(kaokore.learn, name) is not None
    assert kaokore.learn.Kaokore is kaokore.learn.KaoKore  # the official loader's class name
    with pytest.raises(AttributeError, match="has no attribute 'KaoKoreDataset'"):
        kaokore.learn.KaoKoreDataset  # noqa: B018


def test_importing_the_package_and_release_reader_does_not_import_torch() -> None:
    script = "import sys, kaokore.learn, kaokore.release; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
