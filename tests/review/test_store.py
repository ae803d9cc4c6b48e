"""The review loop's writes: suggestions never touch human labels, decisions and undo keep
history, the queue orders faces by what a review would teach."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from kaokore.db import Annotation, Database
from kaokore.db.models_review import Review, Suggestion
from kaokore.errors import UsageError
from kaokore.query import faces, history
from kaokore.review import (
    ClassifierIdentity,
    Prediction,
    least_confident_order,
    random_order,
    record_decision,
    review_queue,
    store_suggestions,
    undo_decision,
)
from tests.compiler.conftest import Filler

IDENTITY = ClassifierIdentity(
    checkpoint_sha256="ab" * 32,
    arch="resnet18",
    task="gender",
    classes=("male", "female"),
    image_size=32,
    release_version="1.0",
    release_checksum=None,
    split=None,
    run_dir=None,
)


def _human(database: Database) -> list[tuple[int, int, str, str, object]]:
    with database.session() as session:
        rows = session.scalars(
            select(Annotation).where(Annotation.agent == "human").order_by(Annotation.id)
        )
        return [(a.id, a.face_id, a.label, a.value, a.retracted_at) for a in rows]


def _suggest_opposite(database: Database, filled: Filler, identity: ClassifierIdentity) -> None:
    """Suggest, with high confidence, the gender the experts did not give."""
    predictions = []
    for name, face_id in filled.faces.items():
        gender, _status = filled.labels[name]
        female = 0.99 if gender == 0 else 0.01
        predictions.append(
            Prediction(
                face_id=face_id,
                probabilities=(1 - female, female),
                in_training=False,
                blob_sha256=None,
            )
        )
    with database.session() as session:
        assert store_suggestions(session, identity, predictions) == len(predictions)


def test_a_suggestion_never_changes_a_human_label(database: Database, filled: Filler) -> None:
    before_rows = _human(database)
    before = {row.face_id: (row.gender, row.status) for row in faces(database)}
    _suggest_opposite(database, filled, IDENTITY)
    assert _human(database) == before_rows
    assert {row.face_id: (row.gender, row.status) for row in faces(database)} == before
    with database.session() as session:
        machine = session.scalars(
            select(Annotation).join(Suggestion, Suggestion.annotation_id == Annotation.id)
        ).all()
    assert len(machine) == len(filled.faces)
    assert all(a.agent == "machine" and a.retracted_at is None for a in machine)


def test_same_checkpoint_suggests_once_and_a_newer_model_supersedes(
    database: Database, filled: Filler
) -> None:
    _suggest_opposite(database, filled, IDENTITY)
    face_id = filled.faces["f000"]
    with database.session() as session:
        again = Prediction(
            face_id=face_id, probabilities=(0.5, 0.5), in_training=None, blob_sha256=None
        )
        assert store_suggestions(session, IDENTITY, [again]) == 0
        newer = ClassifierIdentity(**{**_fields(IDENTITY), "checkpoint_sha256": "cd" * 32})
        assert store_suggestions(session, newer, [again]) == 1
    current = [
        row for row in history(database, face_id) if row.agent == "machine" and row.label == "性別"
    ]
    # The older suggestion is retracted; the newer one stands but is not a current label:
    # the experts' 性別 outranks any machine's (docs/labels.md).
    assert [(r.state, r.provenance is not None) for r in current] == [
        ("retracted", True),
        ("outranked", True),
    ]
    assert "cdcdcdcdcdcd" in (current[1].provenance or "")


def _fields(identity: ClassifierIdentity) -> dict[str, object]:
    return {name: getattr(identity, name) for name in identity.__slots__}


def test_a_decision_is_a_human_annotation_in_history_with_its_provenance(
    database: Database, filled: Filler, reviewer: int
) -> None:
    _suggest_opposite(database, filled, IDENTITY)
    face_id = filled.faces["f000"]  # the experts say 男; the model says 女
    with database.session() as session:
        suggestion = session.scalars(select(Suggestion).where(Suggestion.face_id == face_id)).one()
        decision = record_decision(
            session,
            reviewer_id=reviewer,
            face_id=face_id,
            task="gender",
            value="male",
            suggestion_id=suggestion.id,
        )
    assert decision.decision == "overrode" and decision.value == "男"
    rows = history(database, face_id)
    mine = next(row for row in rows if row.annotation_id == decision.annotation_id)
    assert mine.agent == "human" and mine.current and mine.value == "男"
    assert mine.provenance is not None
    assert mine.provenance.startswith(f"review by alice: overrode suggestion {suggestion.id}")
    assert "resnet18@abababababab" in mine.provenance
    # the experts' annotation is still there, never retracted; the reviewer's later word is
    # the current label (docs/labels.md), the experts' is outranked while the review stands
    experts = [r for r in rows if r.label == "性別" and r.agent == "human" and r.provenance is None]
    assert [(r.value, r.retracted_at, r.state) for r in experts] == [("男", None, "outranked")]

    with database.session() as session:
        undone = undo_decision(session, review_id=decision.review_id, reviewer_id=reviewer)
    assert undone.review_id == decision.review_id
    mine = next(
        row for row in history(database, face_id) if row.annotation_id == decision.annotation_id
    )
    assert not mine.current and mine.provenance is not None and "undone at" in mine.provenance
    experts = [
        r
        for r in history(database, face_id)
        if r.label == "性別" and r.agent == "human" and r.provenance is None
    ]
    assert [(r.value, r.state) for r in experts] == [("男", "current")]  # current again
    with database.session() as session, pytest.raises(UsageError, match="undone already"):
        undo_decision(session, review_id=decision.review_id, reviewer_id=reviewer)


@pytest.mark.slow
def test_decisions_refuse_bad_input_and_other_reviewers_undo(
    database: Database, filled: Filler, reviewer: int
) -> None:
    from kaokore.review.users import add_reviewer

    face_id = filled.faces["f001"]
    with database.session() as session:
        with pytest.raises(UsageError, match="not a gender class"):
            record_decision(
                session, reviewer_id=reviewer, face_id=face_id, task="gender", value="monk"
            )
        with pytest.raises(UsageError, match="No face"):
            record_decision(session, reviewer_id=reviewer, face_id=10**6, task="gender", value="男")
        decision = record_decision(
            session, reviewer_id=reviewer, face_id=face_id, task="status", value="warrior"
        )
        assert decision.decision == "labelled" and decision.suggestion_id is None
        bob = add_reviewer(session, "bob", "another long password").id
        with pytest.raises(UsageError, match="not one of this reviewer's"):
            undo_decision(session, review_id=decision.review_id, reviewer_id=bob)


def test_least_confident_first_and_seeded_random_order() -> None:
    assert least_confident_order([0.9, 0.55, 0.7, 0.55], [1, 4, 2, 3]) == [3, 1, 2, 0]
    order = random_order([10, 11, 12, 13, 14], seed=1)
    assert sorted(order) == [0, 1, 2, 3, 4]
    assert order == random_order([10, 11, 12, 13, 14], seed=1)
    assert order != random_order([10, 11, 12, 13, 14], seed=2)


def test_the_queue(database: Database, filled: Filler, reviewer: int) -> None:
    ids = sorted(filled.faces.values())
    predictions = [
        Prediction(
            face_id=face_id,
            probabilities=(0.5 + 0.01 * (i % 40), 0.5 - 0.01 * (i % 40)),
            in_training=False,
            blob_sha256=None,
        )
        for i, face_id in enumerate(ids)
    ]
    with database.session() as session:
        store_suggestions(session, IDENTITY, predictions)
        # every face has an expert gender: the unlabelled scope is empty
        assert review_queue(session, task="gender") == []
        queue = review_queue(session, task="gender", scope="all", limit=5)
        assert [item.face_id for item in queue] == ids[:5]
        assert [item.confidence for item in queue] == sorted(item.confidence for item in queue)
        assert queue[0].probabilities == (("男", 0.5), ("女", 0.5))
        skipped = review_queue(session, task="gender", scope="all", limit=2, exclude={ids[0]})
        assert [item.face_id for item in skipped] == ids[1:3]
        record_decision(
            session,
            reviewer_id=reviewer,
            face_id=ids[1],
            task="gender",
            value="女",
            suggestion_id=queue[1].suggestion_id,
        )
        after = review_queue(session, task="gender", scope="all", limit=3)
        assert [item.face_id for item in after] == [ids[0], ids[2], ids[3]]
        shuffled = review_queue(session, task="gender", scope="all", order="random", limit=None)
        assert sorted(item.face_id for item in shuffled) == sorted(set(ids) - {ids[1]})
        assert [i.face_id for i in shuffled] != sorted(i.face_id for i in shuffled)
        with pytest.raises(UsageError, match="Unknown order"):
            review_queue(session, task="gender", order="newest")
    # a face with no human gender label is in the unlabelled scope
    with database.session() as session:
        for row in session.scalars(
            select(Annotation).where(
                Annotation.face_id == ids[5],
                Annotation.label == "性別",
                Annotation.agent == "human",
            )
        ):
            row.retracted_at = dt.datetime.now(dt.UTC)
        assert [item.face_id for item in review_queue(session, task="gender")] == [ids[5]]
        assert len(session.scalars(select(Review)).all()) == 1


@pytest.mark.slow
def test_query_history_cli_shows_the_decision_with_its_provenance(
    database: Database, filled: Filler, reviewer: int
) -> None:
    import json

    from typer.testing import CliRunner

    from kaokore.cli import app

    _suggest_opposite(database, filled, IDENTITY)
    face_id = filled.faces["f003"]
    with database.session() as session:
        suggestion = session.scalars(select(Suggestion).where(Suggestion.face_id == face_id)).one()
        record_decision(
            session,
            reviewer_id=reviewer,
            face_id=face_id,
            task="gender",
            value=suggestion.value,
            suggestion_id=suggestion.id,
        )
    result = CliRunner().invoke(app, ["query", "history", str(face_id), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    review = [r for r in rows if r["agent"] == "human" and r["provenance"]]
    assert len(review) == 1 and review[0]["current"]
    assert review[0]["provenance"].startswith(
        f"review by alice: confirmed suggestion {suggestion.id}"
    )
    assert review[0]["document_url"] == "kaokore:reviewer:alice"
    machine = [r for r in rows if r["agent"] == "machine" and r["provenance"]]
    assert machine[0]["document_url"] == f"kaokore:model:{IDENTITY.checkpoint_sha256}"
