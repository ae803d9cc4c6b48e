"""Eight real lines of the official 1.2 files (``tests/fixtures/official/v1.2``), read and
imported: the quirks the whole files have, in a fresh clone without ``../shared``.

The lines (numbers 0, 47, 49, 1764, 2020, 4242, 4315, 8799) hold a NIJL, a Keio and a Kyoto
face, an unlabelled face, two regions that start left of the page, two bare ``=`` pairs, a
record id with a trailing space, empty values and the http/https duplicate of one crop; the
other numbers are blank lines, so every line keeps its real number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from kaokore.config import Settings
from kaokore.db.session import Database, open_database
from kaokore.ingest.official import import_official, read_official, record_of
from kaokore.ingest.official_defects import find_defects
from tests.conftest import REAL_OFFICIAL_LINES

NOW = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
NUMBERS = [0, 47, 49, 1764, 2020, 4242, 4315, 8799]


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = open_database(Settings(home=tmp_path / "home"))
    yield db
    db.close()


def test_the_real_lines_parse_with_their_numbers_and_regions() -> None:
    official = read_official(REAL_OFFICIAL_LINES)
    assert official.version == "1.2"
    assert official.errors == ()
    lines = {line.number: line for line in official.urls if not line.blank}
    assert sorted(lines) == NUMBERS
    assert lines[4242].region is not None and lines[4242].region.x == -5
    assert lines[4315].region is not None and lines[4315].region.x == -19
    # The http and the https copy of one Keio crop are one face.
    assert lines[47].face_key == lines[8799].face_key is not None
    assert lines[49].request is not None and "kyoto-u" in lines[49].request.service_url


def test_the_real_tags_keep_their_quirks() -> None:
    tags = read_official(REAL_OFFICIAL_LINES).tags_by_number()
    assert sorted(tags) == NUMBERS
    assert record_of(tags[1764]) == ("原典ID", "10.20730/200021064")  # trailing space trimmed
    assert ("", "") in [(p.key, p.raw_value) for p in tags[2020].pairs]  # the bare '='
    assert [p.raw_value for p in tags[4242].pairs if p.key == "制作年"] == ["", "", ""]
    assert record_of(tags[47]) == ("原典ID", "110X-445-3-2")  # Keio's '@' as in the path


def test_the_real_defects_are_found_with_their_lines() -> None:
    findings = find_defects(read_official(REAL_OFFICIAL_LINES))
    assert sorted(f"{Path(f.path).name}:{f.line} {f.code}" for f in findings) == [
        "original_tags.txt:4 empty_key",
        "original_tags.txt:5 empty_key",
        "urls.txt:4243 negative_region",
        "urls.txt:4316 negative_region",
        "urls.txt:8800 duplicate_crop",
    ]


def test_importing_the_real_lines_merges_the_duplicate(database: Database) -> None:
    report = import_official(database, REAL_OFFICIAL_LINES, now=NOW)
    assert (report.faces_with_urls, report.distinct_faces, report.labelled) == (8, 7, 7)
    assert report.labelled_by_set == {"train": 5, "dev": 2, "test": 0}
    assert report.errors == ()
    assert {f.code for f in report.warnings} == {"negative_region", "duplicate_crop", "empty_key"}
