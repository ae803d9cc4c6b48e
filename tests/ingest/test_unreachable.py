"""A host that refuses every connection costs one round of retries, not one per request."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from kaokore.cli import app
from kaokore.db import Database
from kaokore.db.models import Face
from kaokore.errors import FetchError
from kaokore.ingest.client import ClientSettings, HostUnreachableError, make_client
from kaokore.mirror import sample_dir
from kaokore.server.app import LocalIIIFServer
from tests.ingest.harvest_helpers import copy_mirror, ground_truth, run_ingest

FEED = "/api/face/as/collection.json"
KEIO_MANIFEST = "keio/iiif/133X-142-1/manifest.json"
#: The library's defaults except a shorter back-off: one round of 5 attempts is < 4 s.
PATIENT = ClientSettings(host_rate=0, retries=5, backoff=0.25, timeout=30.0)


def refusing_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_requests_to_a_refusing_host_fail_fast_after_one_round() -> None:
    dead = f"http://127.0.0.1:{refusing_port()}"
    urls = [f"{dead}/doc{index}.json" for index in range(60)]

    async def run() -> tuple[list[BaseException | object], dict[str, str], int, int]:
        async with make_client(PATIENT) as client:
            results = await asyncio.gather(*(client.fetch(u) for u in urls), return_exceptions=True)
            return results, client.unreachable, client.requests_made, sum(client.skipped.values())

    started = time.monotonic()
    results, unreachable, made, skipped = asyncio.run(run())
    elapsed = time.monotonic() - started
    assert elapsed < 8, f"60 requests to a refusing host took {elapsed:.1f} s"
    assert all(isinstance(r, HostUnreachableError) for r in results)
    (reason,) = unreachable.values()
    assert {str(r) for r in results} == {reason}  # one reason, said once in a summary
    assert "refused" in reason.lower() or "connection failed" in reason
    assert made >= PATIENT.retries and made + skipped >= len(urls)
    assert made < 4 * PATIENT.retries + 4  # the concurrent first round, then nothing


def test_a_host_that_answers_is_not_declared_down_by_a_404() -> None:
    async def run() -> dict[str, str]:
        async with make_client(PATIENT) as client:
            server = LocalIIIFServer(sample_dir()).start()
            try:
                with pytest.raises(FetchError):
                    await client.fetch(server.url("/no/such/document.json"))
                await client.fetch(server.url(FEED))
            finally:
                server.close()
            return client.unreachable

    assert asyncio.run(run()) == {}


@pytest.mark.slow
def test_a_harvest_with_one_host_down_ends_in_seconds_and_harvests_the_others(
    database: Database, tmp_path: Path
) -> None:
    mirror = copy_mirror(tmp_path / "mirror")
    dead = f"http://127.0.0.1:{refusing_port()}"
    manifest = mirror / KEIO_MANIFEST
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace("{BASE}/iiif/", f"{dead}/iiif/"),
        encoding="utf-8",
    )
    keio = sum(1 for face in ground_truth()["faces"] if face["work"] == "keio")
    started = time.monotonic()
    with LocalIIIFServer(mirror) as server:
        report = run_ingest(database, [server.url(FEED)], client=PATIENT)
    elapsed = time.monotonic() - started
    assert elapsed < 15, f"the harvest took {elapsed:.1f} s"
    assert list(report.unreachable) == [dead.removeprefix("http://")]
    assert report.counts["crops"]["failed"] == keio  # every Keio crop, and only those
    assert report.counts["crops"]["new"] == len(ground_truth()["faces"]) - keio
    assert report.requests > 0 and report.requests_skipped > 0
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Face)) == len(
            ground_truth()["faces"]
        )


@pytest.mark.slow
def test_the_command_says_it_once_per_host_and_exits_1(kaokore_home: Path, tmp_path: Path) -> None:
    mirror = copy_mirror(tmp_path / "mirror")
    dead = f"127.0.0.1:{refusing_port()}"
    manifest = mirror / KEIO_MANIFEST
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace("{BASE}/iiif/", f"http://{dead}/iiif/"),
        encoding="utf-8",
    )
    with LocalIIIFServer(mirror) as server:
        result = CliRunner().invoke(
            app, ["ingest", server.url(FEED), "--retries", "3", "--host-rate", "0"]
        )
    assert result.exit_code == 1, result.output  # a later run can get them: retryable
    lines = [line for line in result.output.splitlines() if dead in line]
    assert len([line for line in lines if line.startswith("failed")]) == 1, result.output
    assert "requests (" in result.output and "0 requests" not in result.output
