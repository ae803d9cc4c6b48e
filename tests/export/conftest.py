"""A real release, built once per test session, for the export and tf.data tests.

Why a real build and not a hand-made folder: every export checks its input with
``verify_release``, and a folder that passes it is exactly what ``kaokore build`` writes. The
database is the compiler tests' standard collection (24 ordinary faces and the special cases,
plus three real KaoKore faces when ``../shared`` is present); building it takes seconds, so it
is done once and every test that would change the release works on a copy.
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from pathlib import Path

import pytest

from kaokore.compiler import build_release
from kaokore.config import Settings
from kaokore.db import BlobStore, open_database
from tests.compiler.conftest import Filler, fill_standard


@pytest.fixture(scope="session")
def built_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release folder (``kaokore-1.0``) that passes ``kaokore verify``; treat it as read-only."""
    home = tmp_path_factory.mktemp("export-home")
    database = open_database(Settings(home=home, db_url=None))
    try:
        filler = Filler(database=database, store=BlobStore(database.settings.blob_dir))
        fill_standard(filler)
        # Twelve more works, so that every set of the by-work split holds faces.
        filler.add_many(36, start=100, works=12)
        summary = build_release(database, "1.0", out_dir=home / "releases", workers=1)
    finally:
        database.close()
    return summary.path


@pytest.fixture
def release_copy(built_release: Path, tmp_path: Path) -> Path:
    """A private copy of the built release, for tests that damage it."""
    return Path(shutil.copytree(built_release, tmp_path / built_release.name))


def label_rows(root: Path, split_file: str | None = None) -> list[dict[str, str]]:
    """Rows of ``labels.csv`` (image, gender, status, set), with the sets of a split file."""
    with (root / "labels.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if split_file is not None:
        with (root / "splits" / f"{split_file}.csv").open(newline="", encoding="utf-8") as handle:
            sets = {row["image"]: row["set"] for row in csv.DictReader(handle)}
        rows = [{**row, "set": sets[row["image"]]} for row in rows if row["image"] in sets]
    return rows


def label_counts(rows: list[dict[str, str]]) -> Counter[tuple[str, str, str]]:
    """``(set, gender, status)`` counts: what every export must give back unchanged."""
    return Counter((row["set"], row["gender"], row["status"]) for row in rows)
