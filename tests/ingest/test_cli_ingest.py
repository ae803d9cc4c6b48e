"""``kaokore ingest`` through the CLI: its exit codes and ``--official``.

0: everything available stored, upstream defects handled included; 1: something a later run
can get failed (an unreachable host, a malformed line); 2: a usage error, without a traceback.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kaokore.cli import app
from tests.conftest import REAL_OFFICIAL_LINES
from tests.processes import free_port


def ingest(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["ingest", *args], terminal_width=400)
    return result.exit_code, " ".join(result.output.split())


@pytest.fixture
def official(tmp_path: Path) -> Path:
    """The eight real official 1.2 lines, in a folder of their own."""
    return Path(shutil.copytree(REAL_OFFICIAL_LINES, tmp_path / "v1.2"))


def test_official_with_handled_defects_exits_0(kaokore_home: Path, official: Path) -> None:
    code, output = ingest("--official", str(official), "--no-images")
    assert code == 0, output
    assert "Official KaoKore 1.2: 8 faces with urls (7 new), 7 labelled" in output
    assert "5 upstream defects handled" in output
    listed = CliRunner().invoke(app, ["db", "status", "--defects"], terminal_width=400)
    assert listed.exit_code == 0, listed.output
    assert "negative_region" in listed.output and "duplicate_crop" in listed.output
    again, output = ingest("--official", str(official), "--no-images")
    assert again == 0, output
    assert "(0 new)" in output


def test_official_with_a_malformed_line_exits_1_naming_it(
    kaokore_home: Path, official: Path
) -> None:
    urls = official / "urls.txt"
    lines = urls.read_text(encoding="utf-8").splitlines()
    lines[1] = "http://codh.rois.ac.jp/pmjt/iiif/broken"  # number 1 was blank
    urls.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    code, output = ingest("--official", str(official), "--no-images")
    assert code == 1, output
    assert "urls.txt:2" in output
    assert "7 new" in output  # the rest is imported


def test_an_unreachable_source_exits_1(kaokore_home: Path) -> None:
    feed = f"http://127.0.0.1:{free_port()}/api/face/as/collection.json"
    code, output = ingest(feed, "--retries", "1", "--timeout", "2", "--no-images")
    assert code == 1, output
    assert "unreachable" in output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--official", "{official}", "http://127.0.0.1:9/feed.json"], "--official"),
        (["--official", "{official}", "--dry-run"], "--dry-run"),
        (["--images", "{official}"], "--official"),
        (["--official", "{official}/absent"], "absent"),
        (["--retries", "0", "http://127.0.0.1:9/feed.json"], "--retries"),
        (["--no-such-option"], "--no-such-option"),
    ],
    ids=[
        "official-with-source",
        "official-dry-run",
        "images-alone",
        "no-folder",
        "retries-0",
        "unknown",
    ],
)
def test_usage_errors_exit_2_without_a_traceback(
    kaokore_home: Path, official: Path, args: list[str], words: str
) -> None:
    code, output = ingest(*(arg.format(official=official) for arg in args))
    assert code == 2, output
    assert words in output
    assert "Traceback" not in output
