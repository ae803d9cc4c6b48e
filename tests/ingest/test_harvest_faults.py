"""A harvest under upstream faults, bad documents and a kill ends where a clean run ends."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kaokore.config import Settings
from kaokore.db import BlobStore, Database, open_database
from kaokore.db.models import Document, Face
from kaokore.ingest.client import ClientSettings
from kaokore.ingest.harvester import HarvestOptions, harvest
from kaokore.server.app import LocalIIIFServer
from kaokore.server.faults import FaultKind, FaultPlan, Override
from tests.ingest.harvest_helpers import (
    TEST_CLIENT,
    copy_mirror,
    ground_truth,
    run_ingest,
    snapshot,
)

FEED = "/api/face/as/collection.json"


@pytest.fixture(scope="module")
def clean_snapshot(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The database a fault-free harvest of the sample ends with."""
    root = tmp_path_factory.mktemp("clean")
    mirror = copy_mirror(root / "mirror")
    database = open_database(Settings(home=root / "home"))
    with LocalIIIFServer(mirror) as server:
        report = run_ingest(database, [server.url(FEED)])
    assert report.ok, report.failures
    shot = snapshot(database)
    database.close()
    return shot


@pytest.mark.slow
def test_faults_on_a_third_of_requests_end_in_the_fault_free_state(
    database: Database, tmp_path: Path, clean_snapshot: dict[str, object]
) -> None:
    plan = FaultPlan(
        rate=0.35,
        seed=7,
        first_attempt_only=True,
        kinds=(
            FaultKind.SERVICE_UNAVAILABLE,
            FaultKind.TOO_MANY_REQUESTS,
            FaultKind.TRUNCATED,
            FaultKind.HTML_200,
            FaultKind.STALL,
        ),
        retry_after=1,
        stall_seconds=3.0,
    )
    mirror = copy_mirror(tmp_path / "mirror")
    with LocalIIIFServer(mirror, faults=plan) as server:
        client = ClientSettings(
            host_rate=0, host_concurrency=8, backoff=0.01, max_backoff=0.05, timeout=1.0, retries=4
        )
        report = run_ingest(database, [server.url(FEED)], client=client)
        faulted = [record.fault for record in server.requests if record.fault]
    assert report.ok, report.failures
    assert {str(kind) for kind in faulted} >= {"503", "429", "truncate", "html", "stall"}, faulted
    assert snapshot(database) == clean_snapshot


def test_failures_after_all_retries_are_recorded_and_retried_next_run(
    database: Database, tmp_path: Path, clean_snapshot: dict[str, object]
) -> None:
    mirror = copy_mirror(tmp_path / "mirror")
    work = ground_truth()["works"][2]
    curation_path = "/" + work["curation_file"].removesuffix(".json")
    plan = FaultPlan(overrides={curation_path: Override.status_code(503, times=50)})
    with LocalIIIFServer(mirror, faults=plan) as server:
        client = ClientSettings(host_rate=0, backoff=0.01, max_backoff=0.02, retries=3, timeout=2.0)
        first = run_ingest(database, [server.url(FEED)], client=client)
        assert not first.ok
        assert [f.url for f in first.failures] == [server.url(curation_path)]
        assert "HTTP 503" in first.failures[0].reason
        with database.session() as session:
            stored = session.scalars(
                select(Document).where(Document.url == server.url(curation_path))
            ).one()
            assert (stored.status, stored.http_status) == ("failed", 503)
        server.faults = None
        second = run_ingest(database, [], client=client)
    assert second.ok, second.failures
    assert snapshot(database) == clean_snapshot


def _stored_faces(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Face)) or 0


@pytest.mark.parametrize(
    ("path_of", "override", "reason"),
    [
        (
            lambda w: "/" + w["curation_file"].removesuffix(".json"),
            Override.content(
                b'{"@type": "cr:Curation", "selections": [', content_type="application/json"
            ),
            "malformed JSON",
        ),
        (
            lambda w: "/" + w["curation_file"].removesuffix(".json"),
            Override.content(
                json.dumps(
                    {"@type": "cr:Curation", "@id": "x", "label": "x", "selections": {"a": 1}}
                ).encode(),
                content_type="application/json",
            ),
            "/selections",
        ),
        (
            lambda w: "/" + w["manifest_file"],
            Override.redirect("ftp://127.0.0.1/manifest.json"),
            "refusing the ftp scheme",
        ),
        (
            lambda w: "/" + w["manifest_file"],
            Override.oversized(5_000_000, declare_length=False),
            "byte limit",
        ),
    ],
    ids=["truncated-json", "unknown-shape", "redirect-to-ftp", "oversized"],
)
def test_a_bad_document_is_recorded_with_its_url_and_the_rest_is_harvested(
    database: Database, tmp_path: Path, path_of, override: Override, reason: str
) -> None:
    work = ground_truth()["works"][0]
    bad_path = path_of(work)
    mirror = copy_mirror(tmp_path / "mirror")
    with LocalIIIFServer(mirror, faults=FaultPlan(overrides={bad_path: override})) as server:
        client = ClientSettings(
            host_rate=0, backoff=0.01, max_backoff=0.02, retries=2, timeout=2.0, max_bytes=1_000_000
        )
        report = run_ingest(database, [server.url(FEED)], client=client, images=False)
        failures = [(f.url, f.reason) for f in report.failures]
    assert any(url == server.url(bad_path) and reason in why for url, why in failures), failures
    others = sum(1 for face in ground_truth()["faces"] if face["work"] != work["work"])
    assert _stored_faces(database) == others


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        (Override.html(content_type="image/jpeg"), "not an image"),
        (Override.bomb(side=20_000), "decompression bomb"),
    ],
    ids=["html-as-image", "decompression-bomb"],
)
@pytest.mark.slow
def test_a_bad_image_is_recorded_and_every_other_crop_is_stored(
    database: Database, tmp_path: Path, override: Override, reason: str
) -> None:
    mirror = copy_mirror(tmp_path / "mirror")
    victim = ground_truth()["faces"][0]
    identifier = victim["identifier"]
    pattern = f"/iiif/{victim['image_api']}/{identifier}/*/default.jpg"
    with LocalIIIFServer(mirror, faults=FaultPlan(overrides={pattern: override})) as server:
        client = ClientSettings(host_rate=0, backoff=0.01, max_backoff=0.02, retries=2, timeout=5.0)
        report = run_ingest(database, [server.url(FEED)], client=client)
    crop_failures = [f for f in report.failures if f.stage == "crops"]
    assert crop_failures and all(reason in f.reason for f in crop_failures), crop_failures
    with database.session() as session:
        failed = session.scalars(select(Face).where(Face.crop_status == "failed")).all()
        ok = session.scalar(select(func.count()).select_from(Face).where(Face.crop_status == "ok"))
    assert failed and all(reason in (face.crop_error or "") for face in failed)
    assert len(failed) == len(crop_failures)
    assert ok == len(ground_truth()["faces"]) - len(failed)


def test_a_bad_new_version_of_a_curation_loses_nothing_already_stored(
    database: Database, tmp_path: Path
) -> None:
    mirror = copy_mirror(tmp_path / "mirror")
    with LocalIIIFServer(mirror) as server:
        run_ingest(database, [server.url(FEED)], images=False)
        before = snapshot(database)
        work = ground_truth()["works"][0]
        (mirror / work["curation_file"]).write_text(
            '{"@type": "cr:Curation", "selections": [{"@type": "sc:Range"'
        )
        report = run_ingest(
            database, [work["curation"].replace("{BASE}", server.base_url)], images=False
        )
    assert not report.ok and "malformed JSON" in report.failures[0].reason
    assert snapshot(database) == before


def test_region_outside_the_canvas_is_a_defect_and_skipped(
    database: Database, tmp_path: Path
) -> None:
    mirror = copy_mirror(tmp_path / "mirror")
    work = ground_truth()["works"][0]
    path = mirror / work["curation_file"]
    doc = json.loads(path.read_text(encoding="utf-8"))
    member = doc["selections"][0]["members"][0]
    canvas = member["@id"].split("#")[0]
    member["@id"] = f"{canvas}#xywh=90000,90000,50,50"
    path.write_text(json.dumps(doc, ensure_ascii=False))
    with LocalIIIFServer(mirror) as server:
        report = run_ingest(database, [server.url(FEED)], images=False)
    assert report.ok and dict(report.defects) == {("region_outside", "left_out"): 1}
    assert "lies outside the 1600x1100 page" in report.defect_examples[0]
    assert _stored_faces(database) == len(ground_truth()["faces"]) - 1


KILL_SCRIPT = """
import asyncio, sys
from kaokore.config import Settings
from kaokore.db import open_database
from kaokore.ingest.client import ClientSettings
from kaokore.ingest.harvester import harvest
db = open_database(Settings(home=sys.argv[1], db_url=sys.argv[3] or None))
asyncio.run(harvest(db, [sys.argv[2]] if sys.argv[2] else [],
                    client_settings=ClientSettings(host_rate=0, host_concurrency=2, backoff=0.01, timeout=5)))
"""


@pytest.mark.slow
def test_killing_the_ingest_at_any_moment_then_resuming_ends_in_the_clean_state(
    database_url: str, tmp_path: Path, clean_snapshot: dict[str, object]
) -> None:
    home = tmp_path / "home"
    db_url = "" if database_url.startswith("sqlite") else database_url
    mirror = copy_mirror(tmp_path / "mirror")
    with LocalIIIFServer(mirror, latency=0.05) as server:
        feed = server.url(FEED)
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        progress = []
        # Kill at moments spread over the run: as faces appear, then as crops accumulate.
        # The crop kills run with a slower server, so that the 33 crops take seconds rather
        # than the fraction of one that a poll may take on a busy machine.
        for faces_at_least, crops_at_least in ((1, 0), (1, 4), (1, 12), (1, 22)):
            server.latency = 0.25 if crops_at_least else 0.05
            process = subprocess.Popen(
                [sys.executable, "-c", KILL_SCRIPT, str(home), feed, db_url], env=env
            )
            deadline = time.monotonic() + 60
            while process.poll() is None and time.monotonic() < deadline:
                faces, crops = _progress(home, db_url)
                if faces >= faces_at_least and crops >= crops_at_least:
                    break
                time.sleep(0.05)
            process.send_signal(signal.SIGKILL)
            process.wait()
            progress.append(_progress(home, db_url))
        server.latency = 0.05
        subprocess.run(
            [sys.executable, "-c", KILL_SCRIPT, str(home), feed, db_url],
            env=env,
            check=True,
            timeout=120,
        )
    assert any(0 < crops < len(clean_snapshot) for _, crops in progress), (
        f"no kill landed amid the crops: {progress}"
    )
    database = open_database(Settings(home=home, db_url=db_url or None))
    try:
        assert snapshot(database) == clean_snapshot
        blobs = BlobStore(database.settings.blob_dir)
        assert not list(blobs.root.glob("*/*/.tmp-*")), "no half-written blob is left"
        for blob in blobs.root.glob("*/*/*.jpg"):
            assert blobs.verify(blob.stem, str(blob.relative_to(blobs.root)))
    finally:
        database.close()


def _progress(home: Path, db_url: str) -> tuple[int, int]:
    """(faces stored, crops on disk) so far, to check that kills land mid-harvest.

    Crops are counted as files: a crop is written to the blob store at once, while its row
    is recorded in batches (of 32, about the whole sample) and would hide a mid-crop kill.
    """
    settings = Settings(home=home, db_url=db_url or None)
    crops = len(list(settings.blob_dir.glob("*/*/*.jpg"))) if settings.blob_dir.is_dir() else 0
    try:
        database = open_database(settings)
    except Exception:  # killed before the schema was created
        return 0, crops
    try:
        with database.session() as session:
            faces = session.scalar(select(func.count()).select_from(Face)) or 0
        return faces, crops
    finally:
        database.close()


def _is_crop(path: str) -> bool:
    return path.startswith("/iiif/") and not path.endswith("info.json")


@pytest.mark.postgres
def test_two_ingests_at_once_on_postgres_do_not_duplicate_rows(
    tmp_path: Path, clean_snapshot: dict[str, object]
) -> None:
    admin = os.environ.get("KAOKORE_TEST_PG")
    if not admin:
        pytest.skip("PostgreSQL tests need KAOKORE_TEST_PG=postgresql+psycopg://... (CI sets it)")
    from tests.conftest import _drop_pg_database, _fresh_pg_database

    url, name = _fresh_pg_database(admin)
    first = open_database(Settings(home=tmp_path / "home", db_url=url))
    second = open_database(Settings(home=tmp_path / "home", db_url=url))
    try:
        mirror = copy_mirror(tmp_path / "mirror")
        with LocalIIIFServer(mirror, latency=0.01) as server:
            alone = open_database(Settings(home=tmp_path / "alone"))
            run_ingest(alone, [server.url(FEED)])
            alone.close()
            single = Counter(r.path for r in server.requests if _is_crop(r.path))
            server.reset_log()

            async def both() -> None:
                options = HarvestOptions()
                await asyncio.gather(
                    harvest(
                        first, [server.url(FEED)], client_settings=TEST_CLIENT, options=options
                    ),
                    harvest(
                        second, [server.url(FEED)], client_settings=TEST_CLIENT, options=options
                    ),
                )

            asyncio.run(both())
            together = Counter(r.path for r in server.requests if _is_crop(r.path))
            run_ingest(first, [])
        assert snapshot(first) == clean_snapshot
        with first.session() as session:
            documents = session.scalars(select(Document.url)).all()
        assert len(documents) == len(set(documents))
        # Advisory claims: each crop was fetched by one of the two ingests, not both.
        assert together == single
    finally:
        first.close()
        second.close()
        _drop_pg_database(admin, name)


def _is_crop(path: str) -> bool:
    return path.startswith("/iiif/") and not path.endswith("info.json")
