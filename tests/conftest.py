"""Fixtures shared by the whole suite.

``fixtures_dir`` and ``REAL_OFFICIAL_LINES`` are small real documents copied into
``tests/fixtures/`` (sources and licences in its ``ATTRIBUTION.md``), so a fresh clone runs the
real-fixture parser tests. ``shared_dir`` points at ``../shared`` beside the checkout (the
whole of the official KaoKore files and images); tests that need it skip with a reason naming
the missing path, so the suite still passes on a machine without it, and never passes silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from kaokore.db import Database

try:  # torchvision crashes if it is first imported after TensorFlow in one process
    import torch  # noqa: F401
    import torchvision  # noqa: F401
except ImportError:  # the light install: torch tests skip themselves
    pass

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("KAOKORE_SHARED", REPO_ROOT.parent / "shared"))
FIXTURES_DIR = REPO_ROOT / "tests" / "fixtures"
#: Eight real lines of the official 1.2 files, with their quirks (see tests/fixtures/ATTRIBUTION.md).
REAL_OFFICIAL_LINES = FIXTURES_DIR / "official" / "v1.2"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow",
        action="store_true",
        help="also run the tests marked slow: the whole suite, as .ci/run does",
    )


def pytest_report_header(config: pytest.Config) -> str:
    if config.getoption("--slow") or config.option.markexpr:
        return "kaokore: every selected test runs"
    return "kaokore: tests marked slow are deselected (the fast run); --slow runs the whole suite"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The fast default: without ``--slow`` (or an explicit ``-m``), leave the slow tests out."""
    if config.getoption("--slow") or config.option.markexpr:
        return
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item.get_closest_marker("slow") is None]


def shared_path(*parts: str) -> Path:
    """Return a path under ``../shared``, or skip the calling test if it is absent."""
    path = SHARED_DIR.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (the shared data folder beside the checkout), which is absent")
    return path


def skip_without_psycopg() -> None:
    """Skip the calling test when the postgres extra (psycopg) is not installed."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("PostgreSQL tests need the postgres extra (psycopg), which is not installed")


@pytest.fixture
def shared_dir() -> Path:
    """The ``../shared`` folder; skips the test when it does not exist."""
    return shared_path()


@pytest.fixture
def fixtures_dir() -> Path:
    """Real public IIIF and Curation Platform documents, copied into ``tests/fixtures/iiif``."""
    return FIXTURES_DIR / "iiif"


@pytest.fixture
def official_dir() -> Path:
    """The official KaoKore files of versions 1.0 to 1.3."""
    return shared_path("data", "kaokore", "official")


@pytest.fixture
def kaokore_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh ``KAOKORE_HOME`` with no ``KAOKORE_DB`` set, so commands use its SQLite file."""
    home = tmp_path / "home"
    monkeypatch.setenv("KAOKORE_HOME", str(home))
    monkeypatch.delenv("KAOKORE_DB", raising=False)
    yield home


PG_ENV = "KAOKORE_TEST_PG"


def _fresh_pg_database(admin_url: str) -> tuple[str, str]:
    """Create an empty PostgreSQL database for one test; return its URL and name."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"kaokore_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), name


def _drop_pg_database(admin_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL, on SQLite and (when ``KAOKORE_TEST_PG`` is set) PostgreSQL.

    Tests that take this fixture run once per backend, so the same suite covers both.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kaokore.db'}"
        return
    admin_url = os.environ.get(PG_ENV)
    if not admin_url:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}=postgresql+psycopg://... (CI sets it)")
    skip_without_psycopg()
    url, name = _fresh_pg_database(admin_url)
    try:
        yield url
    finally:
        _drop_pg_database(admin_url, name)


@pytest.fixture
def database(database_url: str, tmp_path: Path) -> Iterator[Database]:
    """An open database at head, on each backend, with its home folder in ``tmp_path``."""
    from kaokore.config import Settings
    from kaokore.db import open_database

    db = open_database(Settings(home=tmp_path / "home", db_url=database_url))
    try:
        yield db
    finally:
        db.close()
