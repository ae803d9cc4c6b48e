"""Every reader agrees on every label, after the official 1.0 -> 1.3 import in order and a
harvest of the bundled mirror's curations (skipped without ``../shared``).

Readers: ``kaokore.query.faces``, the ``faces_current`` view, what ``kaokore build`` writes
(``labels.csv`` classes and ``original_tags.txt`` lines, from the compiler's reader and file
writers), the RDF export and the curation export. ``stats --by`` any single-valued column
sums to the number of faces. Face 8242 (後 in 1.1 and 1.2, 横 in 1.3) and the two other
orientation changes of 1.3 are checked by name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from rdflib.namespace import RDF
from typer.testing import CliRunner

from kaokore.cli import app
from kaokore.compiler.files import tag_line
from kaokore.compiler.select import read_build_input
from kaokore.config import Settings
from kaokore.db import Database, open_database
from kaokore.ingest.official import import_official
from kaokore.query import diff, faces, history, sql, stats
from kaokore.query.curation_export import curation_document
from kaokore.query.filters import FaceFilter
from kaokore.query.rdf import KAOKORE, OA, faces_graph
from kaokore.query.rows import FaceRow
from kaokore.server.app import LocalIIIFServer
from kaokore.vocab import class_index
from tests.conftest import shared_path
from tests.ingest.harvest_helpers import copy_mirror, run_ingest

FEED = "/api/face/as/collection.json"


@dataclass
class Imported:
    database: Database
    rows: list[FaceRow]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Imported]:
    official = shared_path("data", "kaokore", "official")
    home = tmp_path_factory.mktemp("one-truth")
    database = open_database(Settings(home=home, db_url=f"sqlite:///{home / 'kaokore.db'}"))
    for version in ("1.0", "1.1", "1.2", "1.3"):
        import_official(database, official / f"v{version}")
    mirror = copy_mirror(home / "mirror")
    with LocalIIIFServer(mirror) as server:
        report = run_ingest(database, [server.url(FEED)], images=False)
        assert report.ok, report.failures
    yield Imported(database=database, rows=faces(database))
    database.close()


def _labels(row: FaceRow) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for label in row.labels:
        out[label.label].append(label.value)
    return dict(out)


def test_every_reader_agrees_on_every_label(imported: Imported) -> None:
    database, rows = imported.database, imported.rows
    assert len(rows) == 9683 + 33 - 0  # the mirror's faces are not official crops
    by_id = {row.face_id: row for row in rows}

    # 1. the faces_current view
    view = sql(
        database,
        "SELECT face_id, gender, status, orientation, work, holder, record_id, tags "
        "FROM faces_current",
        limit=0,
    )
    assert len(view.rows) == len(rows)
    for face_id, gender, status, orientation, work, holder, record_id, tags in view.rows:
        row = by_id[int(face_id)]
        assert (gender, status, orientation) == (row.gender, row.status, row.orientation)
        assert (work, holder, record_id) == (row.work, row.holder, row.record_id)
        assert sorted(tags.split(" | ") if tags else []) == sorted(row.tags)

    # 2. what a release writes: labels.csv classes and original_tags.txt lines
    with database.session() as session:
        samples = {s.face_id: s for s in read_build_input(session, version="9.9").rows}
    assert set(samples) == set(by_id)
    for face_id, sample in samples.items():
        row = by_id[face_id]
        assert sample.gender == (class_index("gender", row.gender) if row.gender else None)
        assert sample.status == (class_index("status", row.status) if row.status else None)
        line = tag_line("x.jpg", sample).partition(":")[2]
        pairs = sorted(tuple(p.split("=", 1)) for p in line.split(";") if p)
        expected = sorted(
            (label.label, label.raw_value) for label in row.labels if label.agent == "human"
        )
        assert pairs == expected, face_id

    # 3. the RDF export: one body per (label, value) the face currently has
    graph = faces_graph(rows)
    bodies: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for face, body in graph.subject_objects(OA.hasBody):
        label = graph.value(body, KAOKORE.label)
        value = graph.value(body, RDF.value)
        bodies[str(graph.value(face, KAOKORE.faceId))].add((str(label), str(value)))
    for row in rows:
        expected = {(x.label, x.value) for x in row.labels if x.label and x.value != ""}
        assert bodies.get(str(row.face_id), set()) == expected, row.face_id

    # 4. the curation export (faces with a canvas: the mirror's)
    exported = curation_document(rows).document
    members = [m for s in exported["selections"] for m in s["members"]]
    assert len(members) == 33
    for member in members:
        row = by_id[int(member["label"].split()[1])]
        got = sorted((m["label"], m["value"]) for m in member["metadata"])
        assert got == sorted((x.label, x.raw_value) for x in row.labels if x.label.strip())


@pytest.mark.parametrize(
    "column",
    ["gender", "status", "orientation", "holder", "work", "record_id", "period", "century"],
)
def test_stats_by_a_single_valued_column_sums_to_the_faces(imported: Imported, column: str) -> None:
    result = stats(imported.database, by=column)
    assert result.total == len(imported.rows)
    assert sum(row.count for row in result.rows) == result.total


def test_face_8242_and_the_three_orientation_changes(imported: Imported) -> None:
    database = imported.database
    superseded = sql(
        database,
        "SELECT DISTINCT face_id FROM annotation_history "
        "WHERE label = '向き' AND value = '後' AND state = 'superseded' AND face_id NOT IN "
        "(SELECT face_id FROM labels_current WHERE label = '向き' AND value = '後')",
        limit=0,
    )
    candidates = {int(row[0]) for row in superseded.rows}
    by_id = {row.face_id: row for row in imported.rows}
    changed = [
        by_id[face_id]
        for face_id in sorted(candidates)
        if any(
            h.label == "向き" and h.value == "後" and h.state == "retracted"
            for h in history(database, face_id)
        )
    ]
    assert {row.face_id for row in changed} >= {8242}
    assert len(changed) == 3
    for row in changed:
        assert row.orientation == "横"
        states = {(h.value, h.state) for h in history(database, row.face_id) if h.label == "向き"}
        assert ("後", "retracted") in states and ("横", "current") in states
    back = {r.face_id for r in faces(database, where=FaceFilter(orientation="back"))}
    profile = {r.face_id for r in faces(database, where=FaceFilter(orientation="profile"))}
    assert 8242 in profile and 8242 not in back
    view = sql(database, "SELECT orientation FROM faces_current WHERE face_id = 8242")
    assert view.rows == (("横",),)
    assert {history_row.ended_by for history_row in history(database, 8242)
            if history_row.state == "retracted"} == {
        (shared_path("data", "kaokore", "official") / "v1.3" / "original_tags.txt")
        .resolve().as_uri()
    }  # fmt: skip


def test_diff_1_2_to_1_3_shows_the_three_orientation_changes(imported: Imported) -> None:
    database = imported.database
    result = diff(database, "1.2", "1.3", labels=["向き"])
    relabelled = [c for c in result.changes if c.change == "relabelled"]
    assert len(relabelled) == 3 and 8242 in {c.face_id for c in relabelled}
    v13 = (shared_path("data", "kaokore", "official") / "v1.3" / "original_tags.txt").resolve()
    for change in relabelled:
        assert (change.label, change.old, change.new) == ("向き", "後", "横")
        assert change.who == v13.as_uri() and change.when is not None
    summary = result.summary()
    assert (summary["faces_a"], summary["faces_b"]) == (8845, 9683)
    assert (summary["added"], summary["removed"]) == (838, 0)
    assert summary["relabelled_labels"] == {"向き": 3}
    everything = diff(database, "official:1.2", "official:1.3").summary()
    assert everything["relabelled_labels"]["向き"] == 3
    assert everything["relabelled_labels"]["原典ID"] == 8845  # 1.3 gave each holder its key
    code = CliRunner().invoke(
        app,
        ["--db", str(database.engine.url), "query", "diff", "1.2", "1.3", "--label", "orientation",
         "--format", "csv"],
    )  # fmt: skip
    assert code.exit_code == 0, code.output
    lines = code.output.strip().splitlines()
    assert lines[0] == "change,face_id,face_key,label,old,new,who,when"
    assert sum(1 for line in lines if line.startswith("relabelled,")) == 3
