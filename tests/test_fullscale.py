"""The whole of the real data: an upstream built from KaoKore 1.2 and 1.3, harvested.

From the official files and the real images in ``../shared``, :mod:`kaokore.mirror.upstream`
builds a local upstream shaped like CODH's (one curation per work, the three holders'
manifest and image-service shapes, every real quirk kept); ``kaokore serve`` serves it with
faults injected on 5 % of first attempts; ``kaokore ingest`` harvests it as a scheduled job
would (its own process); ``kaokore build`` compiles a release. Then, against the official
1.2 files: every url line's face is stored, the labels of every labelled face are the
official ones, the crops of the 8 faces whose region starts outside the page are close to
their official images (and so is nearly every other real crop), the run exits 0, and a
second run makes only conditional requests, fetches no image bytes and exits 0.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kaokore.config import Settings
from kaokore.db import open_database
from kaokore.mirror.realcheck import check_against_official
from kaokore.mirror.upstream import FEED_PATH, build_upstream
from tests.conftest import shared_path
from tests.processes import kaokore_serve

#: The harvest alone takes about 4 minutes on an idle 2-core machine, longer on a busy one.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]


def ingest(home: Path, *args: str) -> tuple[int, str, float]:
    """``kaokore ingest`` as a scheduled job runs it: exit code, output, seconds."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "kaokore", "--home", str(home), "ingest", *args],
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "COLUMNS": "200"},
    )
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


def test_the_whole_of_the_real_data_is_harvested(tmp_path: Path) -> None:
    shared = shared_path()
    shared_path("data", "kaokore", "official", "v1.3")
    shared_path("data", "kaokore", "images_256")
    started = time.monotonic()
    upstream = build_upstream(shared, tmp_path / "upstream")
    assert (upstream.faces, upstream.edge_faces) == (9683, 8)
    home = tmp_path / "home"
    with kaokore_serve(upstream.root, "--faults", "0.05") as base_url:
        feed = f"{base_url}{FEED_PATH}"
        code, output, first = ingest(home, feed, "--host-rate", "0", "--host-concurrency", "8")
        assert code == 0, output[-4000:]
        code, again, second = ingest(home, "--host-rate", "0", "--host-concurrency", "8")
        assert code == 0, again[-4000:]
    made = re.search(r"(\d+) requests \((\d+) conditional\), ([\d.]+) MB received", again)
    assert made is not None, again
    assert made.group(1) == made.group(2)  # only conditional requests
    assert float(made.group(3)) < 0.05  # 304s only: no image bytes, no documents
    database = open_database(Settings(home=home))
    try:
        check = check_against_official(database, upstream.root, base_url, shared)
    finally:
        database.close()
    assert (check.lines, check.found) == (8848, 8848)
    assert check.labelled == 8446 and check.label_mismatches == []
    assert len(check.edge_differences) == 8
    assert max(check.edge_differences.values()) < 6.0, check.edge_differences
    close = sum(1 for value in check.differences.values() if value < 8.0)
    assert check.missing_crops == [] and close >= 0.98 * len(check.differences)
    built = subprocess.run(
        [sys.executable, "-m", "kaokore", "--home", str(home), "build", "--version", "full"],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    rows = (home / "releases" / "kaokore-full" / "labels.csv").read_text().splitlines()[1:]
    assert len(rows) >= 8446 - 3  # every labelled face of 1.2 (3 are http/https duplicates)
    defects = re.search(r"\d+ upstream defects handled[^\n]*", output)
    print(f"\n{defects.group(0) if defects else 'no defects'}")
    print(
        f"full-scale: {upstream.faces} faces, first ingest {first:.0f} s "
        f"({upstream.faces / first:.1f} faces/s), second {second:.0f} s, "
        f"whole test {time.monotonic() - started:.0f} s"
    )
