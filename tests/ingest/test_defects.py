"""Each upstream defect class, met through a whole curation with good members beside it.

What must hold for every class: the other members (and selections) are stored, the defect
is recorded with the document URL, the JSON pointer, the reason and whether the face was
kept or left out, the run counts it as a warning and exits 0 (``report.ok``), and a second
run with nothing changed makes only conditional requests and keeps the record.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select

from kaokore.db import BlobStore, Database
from kaokore.db.defects import list_defects
from kaokore.db.models import Annotation, Face
from kaokore.server.app import LocalIIIFServer
from tests.ingest.harvest_helpers import copy_mirror, edit_json, ground_truth, run_ingest

FEED = "/api/face/as/collection.json"
NIJL = "api/face/curation/json/d51e17fb-45b8-427c-9d0c-e09d1831ae37.json"
KEIO = "api/face/curation/json/89af6ab9-8162-5da1-baef-ad4bcdbadccf.json"


def _canvas(member: dict[str, Any]) -> str:
    return str(member["@id"]).split("#")[0]


def _set_region(region: str) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        member = doc["selections"][0]["members"][1]
        member["@id"] = f"{_canvas(member)}#xywh={region}"

    return change


def _move_canvas(doc: dict[str, Any]) -> None:
    member = doc["selections"][0]["members"][1]
    member["@id"] = member["@id"].replace("/canvas/p1#", "/canvas/p99#")


def _empty_label(doc: dict[str, Any]) -> None:
    doc["selections"][0]["members"][1]["metadata"].insert(0, {"label": "", "value": ""})


def _no_within(doc: dict[str, Any]) -> None:
    del doc["selections"][1]["within"]


@dataclass(frozen=True)
class Case:
    """One defect class: which curation, how to break it, and what must come of it."""

    document: str
    change: Callable[[dict[str, Any]], None]
    code: str
    outcome: str
    pointer: str
    #: Faces of the sample that are not stored because of the defect.
    lost: int


CASES = {
    "member unreadable": Case(
        NIJL, _set_region("1,2,3"), "member_unreadable", "left_out", "/selections/0/members/1/@id", 1
    ),
    "selection unreadable": Case(
        KEIO, _no_within, "selection_unreadable", "left_out", "/selections/1/within", 3
    ),
    "empty label": Case(
        NIJL, _empty_label, "empty_label", "kept", "/selections/0/members/1/metadata/0/label", 0
    ),
    "region partly outside": Case(
        NIJL, _set_region("-19,200,128,128"), "region_partly_outside", "kept",
        "/selections/0/members/1", 0,
    ),
    "region wholly outside": Case(
        NIJL, _set_region("90000,90000,50,50"), "region_outside", "left_out",
        "/selections/0/members/1", 1,
    ),
    "canvas not found": Case(
        NIJL, _move_canvas, "canvas_not_found", "left_out", "/selections/0/members/1", 1
    ),
}  # fmt: skip


def _faces(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Face)) or 0


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.slow
def test_a_defect_costs_only_its_own_member(database: Database, tmp_path: Path, name: str) -> None:
    case = CASES[name]
    mirror = copy_mirror(tmp_path / "mirror")
    edit_json(mirror / case.document, case.change)
    with LocalIIIFServer(mirror) as server:
        report = run_ingest(database, [server.url(FEED)], images=False)
        url = server.url("/" + case.document.removesuffix(".json"))
        assert report.ok, report.failures  # a handled defect is a warning: exit 0
        assert dict(report.defects) == {(case.code, case.outcome): 1}
        assert report.defect_examples and url in report.defect_examples[0]
        assert _faces(database) == len(ground_truth()["faces"]) - case.lost
        with database.session() as session:
            (stored,) = list_defects(session)
            assert (stored.document_url, stored.pointer, stored.code, stored.outcome) == (
                url,
                case.pointer,
                case.code,
                case.outcome,
            )
            assert stored.reason
        again = run_ingest(database, [server.url(FEED)], images=False)
    assert again.ok and not again.defects  # nothing re-read: the document is unchanged
    assert again.requests == again.conditional_requests
    with database.session() as session:
        assert len(list_defects(session)) == 1  # the record stays while upstream is unchanged


def test_an_empty_label_is_skipped_and_the_other_labels_kept(
    database: Database, tmp_path: Path
) -> None:
    mirror = copy_mirror(tmp_path / "mirror")
    edit_json(mirror / NIJL, _empty_label)
    doc = json.loads((mirror / NIJL).read_text(encoding="utf-8"))
    member = doc["selections"][0]["members"][1]
    with LocalIIIFServer(mirror) as server:
        assert run_ingest(database, [server.url(FEED)], images=False).ok
    with database.session() as session:
        face = session.scalars(
            select(Face).where(Face.member_uri.endswith(member["@id"][6:]))
        ).one()
        labels = session.execute(
            select(Annotation.label, Annotation.value).where(
                Annotation.face_id == face.id, Annotation.retracted_at.is_(None)
            )
        ).all()
    expected = [(m["label"], m["value"]) for m in member["metadata"] if m["label"]]
    assert sorted(labels) == sorted(expected)


@pytest.mark.slow
def test_a_region_partly_outside_is_cut_at_the_page_edge_then_squared(
    database: Database, tmp_path: Path
) -> None:
    """Like an Image API server answering ``-19,200,128,128/256,256/``: the inside, stretched."""
    mirror = copy_mirror(tmp_path / "mirror")
    edit_json(mirror / NIJL, _set_region("-19,200,128,128"))
    with LocalIIIFServer(mirror) as server:
        report = run_ingest(database, [server.url(FEED)])
    assert report.ok, report.failures
    with database.session() as session:
        face = session.scalars(
            select(Face).where(Face.member_uri.endswith("-19,200,128,128"))
        ).one()
        assert face.crop_status == "ok" and face.blob_sha256 is not None
        assert (face.square_x, face.square_y, face.square_w, face.square_h) == (0, 200, 109, 128)
        assert face.key.endswith("#-19,200,128,128")  # the key keeps the square as upstream drew it
        sha256 = face.blob_sha256
    blobs = BlobStore(database.settings.blob_dir)
    crop = Image.open(io.BytesIO(blobs.path(blobs.relative_path(sha256)).read_bytes())).convert(
        "RGB"
    )
    page = Image.open(mirror / "images/nijl/200016463_00001.jpg").convert("RGB")
    expected = page.crop((0, 200, 109, 328)).resize((256, 256), Image.Resampling.LANCZOS)
    difference = np.abs(np.asarray(crop, dtype=int) - np.asarray(expected, dtype=int)).mean()
    assert crop.size == (256, 256) and difference < 4.0


@pytest.mark.slow
def test_the_command_exits_0_counts_the_defect_and_lists_it(
    kaokore_home: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from kaokore.cli import app

    mirror = copy_mirror(tmp_path / "mirror")
    edit_json(mirror / NIJL, _empty_label)
    runner = CliRunner()
    with LocalIIIFServer(mirror) as server:
        result = runner.invoke(app, ["ingest", server.url(FEED), "--no-images", "--retries", "2"])
    assert result.exit_code == 0, result.output
    assert "1 upstream defects handled (1 faces kept with a repair, 0 left out)" in result.output
    assert "empty_label (kept) 1" in result.output
    listed = runner.invoke(app, ["db", "status", "--defects"], terminal_width=400)
    assert listed.exit_code == 0, listed.output
    assert "/selections/0/members/1/metadata/0/label" in listed.output
    assert "1 defects: empty_label (kept) 1" in listed.output
    status = runner.invoke(app, ["db", "status"], terminal_width=200)
    assert "1 (1 kept, 0 left out)" in status.output
