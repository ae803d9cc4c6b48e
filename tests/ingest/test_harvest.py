"""Harvesting the bundled sample mirror from the local IIIF server, end to end."""

from __future__ import annotations

import asyncio
import gc
import io
import os
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat
from sqlalchemy import func, select

from kaokore.db import BlobStore, Database
from kaokore.db.models import Annotation, Document, Face, Source
from kaokore.ingest.harvester import HarvestOptions, harvest
from kaokore.mirror import sample_dir
from kaokore.server.app import LocalIIIFServer
from tests.ingest.harvest_helpers import (
    TEST_CLIENT,
    copy_mirror,
    edit_json,
    ground_truth,
    run_ingest,
    snapshot,
)

FEED = "/api/face/as/collection.json"


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    return copy_mirror(tmp_path / "mirror")


@pytest.fixture
def server(mirror: Path) -> LocalIIIFServer:
    with LocalIIIFServer(mirror) as running:
        yield running


@pytest.mark.slow
def test_sample_feed_harvest_stores_every_face_its_labels_and_its_crop(
    database: Database, server: LocalIIIFServer
) -> None:
    report = run_ingest(database, [server.url(FEED)])
    assert report.ok, report.failures
    truth = {
        face["member_id"].replace("{BASE}", server.base_url): face
        for face in ground_truth()["faces"]
    }
    blobs = BlobStore(database.settings.blob_dir)
    with database.session() as session:
        faces = session.scalars(select(Face)).all()
        assert {face.member_uri for face in faces} == set(truth)
        assert report.counts["faces"]["new"] == len(truth) == report.counts["crops"]["new"]
        for face in faces:
            expected = truth[face.member_uri]
            assert [face.square_x, face.square_y, face.square_w, face.square_h] == expected[
                "crop_box_image"
            ]
            labels = sorted((a.label, a.value) for a in face.annotations if a.retracted_at is None)
            expected_labels = {
                (k, v.strip()) for k, v in expected["kaokore_v1_2"]["tags"] if v.strip()
            }
            assert {pair for pair in labels if pair[0] in {"性別", "身分", "所蔵", "原典"}} == {
                pair for pair in expected_labels if pair[0] in {"性別", "身分", "所蔵", "原典"}
            }
            assert face.crop_status == "ok" and face.blob is not None
            assert blobs.verify(face.blob.sha256, face.blob.path)
            crop = Image.open(io.BytesIO(blobs.read(face.blob.path)))
            assert crop.size == (256, 256)
            page = Image.open(sample_dir() / expected["page_file"]).convert("RGB")
            x, y, w, h = expected["crop_box_image"]
            reference = page.crop((x, y, x + w, y + h)).resize((256, 256), Image.Resampling.LANCZOS)
            difference = ImageStat.Stat(ImageChops.difference(crop.convert("RGB"), reference)).mean
            assert max(difference) < 12, (
                f"{face.member_uri}: crop differs from the page by {difference}"
            )


def test_curation_metadata_becomes_annotations_with_agent_and_repeats(
    database: Database, server: LocalIIIFServer
) -> None:
    run_ingest(database, [server.url(FEED)], images=False)
    with database.session() as session:
        agents = set(session.scalars(select(Annotation.agent)))
        repeated = session.execute(
            select(Annotation.face_id, Annotation.label, func.count())
            .group_by(Annotation.face_id, Annotation.label)
            .having(func.count() > 1)
        ).all()
        works = {face.work.label for face in session.scalars(select(Face))}
    assert agents == {"human", "machine"}
    assert repeated, "repeatable labels (タグ, 制作年) keep every value"
    assert len(works) == 3


@pytest.mark.slow
def test_second_ingest_makes_only_conditional_requests_and_fetches_no_image(
    database: Database, server: LocalIIIFServer
) -> None:
    run_ingest(database, [server.url(FEED)])
    before = snapshot(database)
    server.reset_log()
    report = run_ingest(database, [])  # the source is remembered
    log = server.requests
    assert report.ok
    assert log, "the feed is still checked"
    assert all(record.conditional for record in log), [r.path for r in log if not r.conditional]
    assert all(record.status == 304 and record.bytes_sent == 0 for record in log)
    assert not any(record.path.startswith("/iiif/") for record in log)
    assert snapshot(database) == before


def _touch_feed(mirror: Path, server: LocalIIIFServer, activity: dict[str, object]) -> None:
    """Announce a change on the newest feed page, as CODH's feed would."""
    page = mirror / "api/face/as/page-2.json"
    edit_json(page, lambda doc: doc["orderedItems"].append(activity))


def _curation_file(mirror: Path) -> Path:
    return mirror / ground_truth()["works"][0]["curation_file"]


def test_relabel_add_and_delete_upstream_are_reflected_with_history(
    database: Database, server: LocalIIIFServer, mirror: Path
) -> None:
    run_ingest(database, [server.url(FEED)], images=False)
    curation = _curation_file(mirror)
    members: list[dict[str, object]] = []

    def change(doc: dict) -> None:
        selection = doc["selections"][0]
        items = selection["members"]
        members.extend([items[0], items[1]])
        for pair in items[0]["metadata"]:
            if pair["label"] == "身分":
                pair["value"] = "武士"
        added = dict(items[2])
        canvas, _, _ = str(added["@id"]).partition("#")
        added["@id"] = f"{canvas}#xywh=700,500,90,110"
        items.remove(items[1])
        items.append(added)

    edit_json(curation, change)
    curation_url = ground_truth()["works"][0]["curation"].replace("{BASE}", server.base_url)
    _touch_feed(
        mirror,
        server,
        {
            "type": "Update",
            "object": {"id": curation_url, "type": "cr:Curation"},
            "endTime": "2030-01-01T00:00:00Z",
        },
    )
    report = run_ingest(database, [], images=False)
    assert report.ok, report.failures
    assert report.counts["faces"]["new"] == 1
    assert report.counts["faces"]["deleted"] == 1
    assert report.counts["faces"]["updated"] == 1
    relabelled = str(members[0]["@id"]).replace("{BASE}", server.base_url)
    removed = str(members[1]["@id"]).replace("{BASE}", server.base_url)
    with database.session() as session:
        face = session.scalars(select(Face).where(Face.member_uri == relabelled)).one()
        status_rows = [a for a in face.annotations if a.label == "身分"]
        assert [a.value for a in status_rows if a.retracted_at is None] == ["武士"]
        history = [a for a in status_rows if a.retracted_at is not None]
        assert history and history[0].value != "武士", "the old label is kept as history"
        assert (
            history[0].retracted_at is not None
            and history[0].asserted_at <= history[0].retracted_at
        )
        gone = session.scalars(select(Face).where(Face.member_uri == removed)).one()
        assert gone.deleted and gone.deleted_at is not None
        assert gone.annotations and all(a.retracted_at is not None for a in gone.annotations)


def test_a_curation_deleted_upstream_deletes_its_faces_but_keeps_history(
    database: Database, server: LocalIIIFServer, mirror: Path
) -> None:
    run_ingest(database, [server.url(FEED)], images=False)
    work = ground_truth()["works"][1]
    curation_url = work["curation"].replace("{BASE}", server.base_url)
    (mirror / work["curation_file"]).unlink()
    _touch_feed(
        mirror,
        server,
        {
            "type": "Delete",
            "object": {"id": curation_url, "type": "cr:Curation"},
            "endTime": "2030-01-02T00:00:00Z",
        },
    )
    report = run_ingest(database, [], images=False)
    assert report.ok, report.failures
    with database.session() as session:
        document = session.scalars(select(Document).where(Document.url == curation_url)).one()
        assert document.status == "deleted"
        faces = session.scalars(select(Face).where(Face.curation_document_id == document.id)).all()
        assert faces and all(face.deleted for face in faces)
        assert report.counts["faces"]["deleted"] == len(faces)
        alive = session.scalar(
            select(func.count()).select_from(Face).where(Face.deleted.is_(False))
        )
    assert alive == len(ground_truth()["faces"]) - len(faces)


def test_sources_are_remembered_and_list_files_are_read(
    database: Database, server: LocalIIIFServer, tmp_path: Path
) -> None:
    listing = tmp_path / "sources.txt"
    curation_urls = [
        w["curation"].replace("{BASE}", server.base_url) for w in ground_truth()["works"][:2]
    ]
    listing.write_text("# two curations\n" + "\n".join(curation_urls) + "\n\n")
    report = run_ingest(database, [str(listing)], images=False)
    assert report.ok
    with database.session() as session:
        sources = {(s.url, s.kind) for s in session.scalars(select(Source))}
    assert sources == {(url, "curation") for url in curation_urls}


def test_dry_run_stores_nothing(database: Database, server: LocalIIIFServer) -> None:
    report = run_ingest(database, [server.url(FEED)], dry_run=True)
    assert report.counts["faces"]["new"] == len(ground_truth()["faces"])
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Face)) == 0
        assert session.scalar(select(func.count()).select_from(Source)) == 0
    assert not os.path.exists(database.settings.blob_dir)


@pytest.mark.slow
def test_max_faces_limits_a_trial_run_and_the_next_run_completes(
    database: Database, server: LocalIIIFServer
) -> None:
    report = run_ingest(database, [server.url(FEED)], max_faces=5)
    assert report.counts["faces"]["new"] == 5
    assert report.counts["crops"]["new"] == 5
    run_ingest(database, [])
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Face)) == len(
            ground_truth()["faces"]
        )


def test_a_harvest_keeps_the_heap_it_found_out_of_full_collections_only_while_it_runs(
    database: Database, server: LocalIIIFServer
) -> None:
    """The loaded modules are frozen during a harvest (no 150 ms full collection holds the
    requests in flight) and the process gets its collector back as it was."""
    frozen_during: list[int] = []

    class Sink:
        def total(self, stage: str, n: int) -> None:
            frozen_during.append(gc.get_freeze_count())

        def advance(self, stage: str, n: int = 1) -> None:
            frozen_during.append(gc.get_freeze_count())

    assert gc.get_freeze_count() == 0
    report = asyncio.run(
        harvest(
            database,
            [server.url(FEED)],
            client_settings=TEST_CLIENT,
            options=HarvestOptions(dry_run=True),
            progress=Sink(),
        )
    )
    assert report.ok, report.failures
    assert frozen_during and min(frozen_during) > 10_000  # every module object, at least
    assert gc.get_freeze_count() == 0
