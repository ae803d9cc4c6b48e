"""Exported curations: valid shape, and read back by the ingest reader as the same faces."""

from __future__ import annotations

import json
from pathlib import Path

from kaokore.db import Database
from kaokore.ingest.curation import looks_like_curation, parse_curation
from kaokore.query import export_curation, faces
from kaokore.query.curation_export import CURATION_CONTEXT, canvas_region
from kaokore.query.filters import FaceFilter
from tests.query.conftest import MANIFEST_A, MANIFEST_B, SmallDb


def test_curation_shape(small_db: SmallDb) -> None:
    result = export_curation(small_db.database, curation_id="https://example.org/c/1.json")
    doc = result.document
    assert doc["@context"] == CURATION_CONTEXT
    assert doc["@type"] == "cr:Curation" and doc["@id"] == "https://example.org/c/1.json"
    assert isinstance(doc["label"], str) and looks_like_curation(doc)
    assert result.faces == 5 and result.skipped == 1  # "solo" has no canvas
    within = {s["within"]["@id"]: s for s in doc["selections"]}
    assert set(within) == {MANIFEST_A, MANIFEST_B}
    for selection in doc["selections"]:
        assert selection["@type"] == "sc:Range" and selection["within"]["@type"] == "sc:Manifest"
        for member in selection["members"]:
            assert member["@type"] == "sc:Canvas" and "#xywh=" in member["@id"]
            assert all({"label", "value"} <= set(entry) for entry in member["metadata"])


def test_round_trip_through_the_ingest_reader(small_db: SmallDb, tmp_path: Path) -> None:
    out = tmp_path / "curation.json"
    url = "https://example.org/c/round-trip.json"
    export_curation(small_db.database, out=out, curation_id=url)
    curation = parse_curation(json.loads(out.read_text(encoding="utf-8")), url)
    rows = {row.member_uri or "": row for row in faces(small_db.database) if row.canvas_uri}
    read = {face.member_uri: face for face in curation.faces}
    expected_ids = {
        "{}#xywh={},{},{},{}".format(row.canvas_uri, *canvas_region(row)) for row in rows.values()
    }
    assert set(read) == expected_ids
    by_canvas_region = {
        (f.canvas_uri, (f.region.x, f.region.y, f.region.w, f.region.h)): f for f in curation.faces
    }
    for row in rows.values():
        face = by_canvas_region[(row.canvas_uri, canvas_region(row))]
        got = sorted((p.label, p.raw_value, p.value, p.agent, p.position) for p in face.pairs)
        want = sorted(
            (lab.label, lab.raw_value, lab.value, lab.agent, lab.position) for lab in row.labels
        )
        assert got == want, row.face_id
    selections = {s.manifest_url: s for s in curation.selections}
    assert selections[MANIFEST_A].manifest_label == "絵巻甲"


def test_region_scaled_from_image_to_canvas(small_db: SmallDb) -> None:
    row = next(r for r in faces(small_db.database) if r.face_id == small_db.ids["a2"])
    # square 1000,400,200,200 on a 4000 px image of a 2000 px canvas
    assert canvas_region(row) == (500, 200, 100, 100)


def test_machine_labels_keep_their_agent(small_db: SmallDb) -> None:
    doc = export_curation(small_db.database, where=FaceFilter(tag="bot")).document
    (member,) = doc["selections"][0]["members"]
    assert {"label": "タグ", "value": "bot", "agent": "machine"} in member["metadata"]


def test_annotation_page(small_db: SmallDb) -> None:
    result = export_curation(
        small_db.database, shape="annotation-page", curation_id="https://example.org/p/1"
    )
    doc = result.document
    assert (
        doc["type"] == "AnnotationPage"
        and doc["@context"] == "http://iiif.io/api/presentation/3/context.json"
    )
    assert result.faces == 6 and result.skipped == 0
    solo = next(
        item for item in doc["items"] if item["id"].endswith(f"/face/{small_db.ids['solo']}")
    )
    assert solo["target"]["source"]["type"] == "Image"
    assert solo["target"]["selector"]["value"] == "xywh=-5,20,100,100"
    a1 = next(item for item in doc["items"] if item["id"].endswith(f"/face/{small_db.ids['a1']}"))
    assert a1["motivation"] == "identifying"
    assert a1["target"]["source"]["partOf"][0]["id"] == MANIFEST_A
    assert {"少年", "笛", "貴族"} <= {body["value"] for body in a1["body"]}


def test_official_faces_have_no_canvas(official_db: Database) -> None:
    result = export_curation(official_db, where=FaceFilter(work="大職冠"))
    assert result.faces == 0 and result.skipped > 0 and result.document["selections"] == []
    page = export_curation(official_db, where=FaceFilter(work="大職冠"), shape="annotation-page")
    assert page.faces == result.skipped
