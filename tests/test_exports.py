"""Each package exports its public names, lazily where importing them costs (torch, the
database), and the package says it is typed (``py.typed``)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

PACKAGES = [
    "kaokore",
    "kaokore.db",
    "kaokore.ingest",
    "kaokore.compiler",
    "kaokore.query",
    "kaokore.export",
    "kaokore.server",
    "kaokore.mirror",
    "kaokore.review",
    "kaokore.learn",
    "kaokore.release",
]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_resolves(package: str) -> None:
    if package == "kaokore.learn":
        pytest.importorskip("torch", reason="kaokore.learn's names need the train extra")
    module = importlib.import_module(package)
    names = list(module.__all__)
    assert names, package
    missing = [name for name in names if getattr(module, name, None) is None]
    assert missing == [], f"{package} exports names it does not have: {missing}"
    assert set(names) <= set(dir(module))


def test_unknown_names_are_attribute_errors() -> None:
    import kaokore.ingest

    with pytest.raises(AttributeError, match="kaokore.ingest.*no_such_name"):
        _ = kaokore.ingest.no_such_name  # type: ignore[attr-defined]


def test_importing_the_packages_imports_no_heavy_library() -> None:
    """``import kaokore.learn`` and friends stay cheap: names load on first use."""
    code = (
        "import sys, kaokore, kaokore.ingest, kaokore.compiler, kaokore.export, kaokore.learn\n"
        "heavy = {'torch', 'tensorflow', 'httpx', 'pyarrow'} & set(sys.modules)\n"
        "print(sorted(heavy))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert run.stdout.strip() == "[]", run.stdout + run.stderr


def test_the_package_is_marked_typed() -> None:
    assert (REPO_ROOT / "kaokore" / "py.typed").is_file()
    pyproject = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"py.typed"' in pyproject  # shipped as package data
