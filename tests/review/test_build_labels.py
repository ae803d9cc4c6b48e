"""``kaokore build --labels``: expert-only by default, reviewed labels only when asked, and
the two builds differ exactly by the reviewed labels; reviewed labels export as a curation."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from kaokore.cli import app
from kaokore.compiler import build_release, verify_release
from kaokore.db import Database
from kaokore.db.models_review import Suggestion
from kaokore.ingest.curation import looks_like_curation, parse_curation
from kaokore.review import record_decision, undo_decision
from kaokore.review.curation import reviewed_curation
from tests.compiler.conftest import Filler
from tests.review.test_store import IDENTITY, _suggest_opposite

runner = CliRunner()
SOURCE_COLUMNS = {
    f"{category}_{part}"
    for category in ("gender", "status")
    for part in ("source", "reviewer", "decision", "suggestion")
}


def _csv(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["image"]: row for row in csv.DictReader(handle)}


def _review(database: Database, filled: Filler, reviewer: int) -> dict[str, int]:
    """alice confirms the (wrong) suggestion on f000, overrides it on f001, labels the monk's
    status without a suggestion, and undoes a decision on f002."""
    _suggest_opposite(database, filled, IDENTITY)
    with database.session() as session:

        def shown(name: str) -> int:
            return session.scalars(
                select(Suggestion.id).where(Suggestion.face_id == filled.faces[name])
            ).one()

        record_decision(
            session,
            reviewer_id=reviewer,
            face_id=filled.faces["f000"],
            task="gender",
            value="female",
            suggestion_id=shown("f000"),
        )
        record_decision(
            session,
            reviewer_id=reviewer,
            face_id=filled.faces["f001"],
            task="gender",
            value="female",
            suggestion_id=shown("f001"),
        )
        record_decision(
            session,
            reviewer_id=reviewer,
            face_id=filled.faces["unlabelled"],
            task="status",
            value="noble",
        )
        undone = record_decision(
            session,
            reviewer_id=reviewer,
            face_id=filled.faces["f002"],
            task="gender",
            value="female",
            suggestion_id=shown("f002"),
        )
        undo_decision(session, review_id=undone.review_id, reviewer_id=reviewer)
    return {name: filled.faces[name] for name in ("f000", "f001", "unlabelled")}


def test_builds_with_and_without_reviewed_labels_differ_exactly_by_them(
    database: Database, filled: Filler, reviewer: int, tmp_path: Path
) -> None:
    expert = build_release(database, "1.0", out_dir=tmp_path / "a", workers=1)
    _review(database, filled, reviewer)

    # suggestions and reviews leave the expert-only release unchanged, to the byte
    again = build_release(database, "1.0", out_dir=tmp_path / "a", workers=1)
    assert not again.created and again.checksum == expert.checksum

    reviewed = build_release(
        database, "1.1", out_dir=tmp_path / "b", workers=1, labels="expert+reviewed"
    )
    assert verify_release(reviewed.path).ok
    faces_a, faces_b = _csv(expert.path / "faces.csv"), _csv(reviewed.path / "faces.csv")
    assert faces_a.keys() == faces_b.keys()
    image_of = {row["face_key"]: image for image, row in faces_a.items()}
    keys = {face_id: key for key, face_id in _keys(database).items()}
    reviewed_images = {
        image_of[keys[filled.faces[name]]] for name in ("f000", "f001", "unlabelled")
    }
    changed = {image for image in faces_a if faces_a[image] != faces_b[image]}
    assert changed == reviewed_images
    for image in changed:
        columns = {c for c in faces_a[image] if faces_a[image][c] != faces_b[image][c]}
        assert columns <= {"gender", "status"} | SOURCE_COLUMNS, columns

    f000, f001 = (image_of[keys[filled.faces[n]]] for n in ("f000", "f001"))
    monk = image_of[keys[filled.faces["unlabelled"]]]
    assert (faces_a[f000]["gender"], faces_b[f000]["gender"]) == ("0", "1")
    assert faces_a[f000]["gender_source"] == "expert"
    assert (faces_b[f000]["gender_source"], faces_b[f000]["gender_reviewer"]) == (
        "reviewer",
        "alice",
    )
    assert faces_b[f000]["gender_decision"] == "confirmed"
    assert faces_b[f000]["gender_suggestion"].startswith("suggestion ")
    assert "resnet18@abababababab" in faces_b[f000]["gender_suggestion"]
    assert faces_b[f000]["status_source"] == "expert"
    # f001: the reviewer agreed with the experts against the model: same label, new source
    assert faces_a[f001]["gender"] == faces_b[f001]["gender"] == "1"
    assert faces_b[f001]["gender_decision"] == "overrode"
    assert (faces_a[monk]["status"], faces_b[monk]["status"]) == ("", "0")
    assert (
        faces_b[monk]["status_decision"] == "labelled" and faces_b[monk]["status_suggestion"] == ""
    )

    labels_a = _csv(expert.path / "labels.csv")
    labels_b = _csv(reviewed.path / "labels.csv")
    assert {i for i in labels_a.keys() | labels_b.keys() if labels_a.get(i) != labels_b.get(i)} == {
        f000,
        monk,
    }
    assert labels_b[f000]["set"] == labels_a[f000]["set"]

    options_a = json.loads((expert.path / "release.json").read_text())["options"]
    options_b = json.loads((reviewed.path / "release.json").read_text())["options"]
    assert (options_a["labels"], options_b["labels"]) == ("expert", "expert+reviewed")
    sheet_a = (expert.path / "DATASHEET.md").read_text()
    sheet_b = (reviewed.path / "DATASHEET.md").read_text()
    assert "Labels: expert only" in sheet_a
    assert "reviewers: alice (3)" in sheet_b
    labelled = len(labels_b)
    assert f"| gender | {labelled - 2} | 1 | 1 | 0 |" in sheet_b
    assert f"| status | {labelled - 1} | 0 | 0 | 1 |" in sheet_b


def _keys(database: Database) -> dict[str, int]:
    from kaokore.db import Face

    with database.session() as session:
        return {key: face_id for face_id, key in session.execute(select(Face.id, Face.key))}


def test_unknown_label_set_is_a_usage_error(filled: Filler, kaokore_home: Path) -> None:
    result = runner.invoke(app, ["build", "--version", "1.0", "--labels", "machine"])
    assert result.exit_code == 2
    assert "--labels 'machine': use one of expert, expert+reviewed" in result.output


def test_reviewed_labels_round_trip_as_a_curation(
    database: Database, filled: Filler, reviewer: int, tmp_path: Path
) -> None:
    faces = _review(database, filled, reviewer)
    out = tmp_path / "reviewed.json"
    url = "https://example.org/curation/reviewed.json"
    result = reviewed_curation(database, out=out, curation_id=url)
    document = json.loads(out.read_text(encoding="utf-8"))
    assert looks_like_curation(document) and document["@type"] == "cr:Curation"
    assert result.faces == 3 and result.skipped == 0
    curation = parse_curation(document, url)
    by_member = {face.member_uri: face for face in curation.faces}
    from kaokore.query import faces as query_faces

    rows = {row.face_id: row for row in query_faces(database)}
    expected = {"f000": ("女", "貴族"), "f001": ("女", "武士"), "unlabelled": ("男", "貴族")}
    for name, face_id in faces.items():
        member = by_member[rows[face_id].member_uri or ""]
        pairs = {(p.label, p.value) for p in member.pairs}
        gender, status = expected[name]
        assert ("性別", gender) in pairs and ("身分", status) in pairs, name
        assert sum(1 for label, _v in pairs if label == "性別") == 1
        assert all(p.agent == "human" for p in member.pairs)

    cli = runner.invoke(app, ["export", "reviewed"])
    assert cli.exit_code == 0, cli.output
    assert "3 reviewed faces exported" in cli.output
