"""The one writer of the review loop: machine suggestions, review decisions and their undo.

Why one module: the loop's promises are rules about writes, and they are easiest to keep (and
to test) when every write goes through here:

* a suggestion adds a machine annotation (and its :class:`~kaokore.db.models_review.Suggestion`
  row); it never retracts or edits a human annotation. A newer model's suggestion for the same
  face and task retracts the older *suggestion*, so a face has one current machine opinion.
* a decision adds a human annotation (and its :class:`~kaokore.db.models_review.Review` row)
  beside the experts' ones, which it never retracts: an expert-only release reads exactly what
  it read before any review.
* undo retracts the reviewer's own annotation and stamps the review ``undone_at``.

Each model and each reviewer asserts through a document of its own (``kaokore:model:SHA256``,
kind ``model``; ``kaokore:reviewer:NAME``, kind ``review``), as a curation does: the history
names who said it, and a rule that weighs one source against another (per document and agent)
never merges two reviewers, or two models, into one source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kaokore.db.models import Annotation, Document, Face, utcnow
from kaokore.db.models_review import Classifier, Review, Reviewer, Suggestion
from kaokore.db.writer import labels_changed
from kaokore.errors import UsageError
from kaokore.vocab import GENDER_CLASSES, STATUS_CLASSES, category_key

__all__ = [
    "TASKS",
    "ClassifierIdentity",
    "Decision",
    "Prediction",
    "class_values",
    "japanese_class",
    "model_document",
    "record_decision",
    "reviewer_document",
    "store_suggestions",
    "undo_decision",
]

TASKS: Final[tuple[str, ...]] = ("gender", "status")
_CLASSES: Final = {"gender": GENDER_CLASSES, "status": STATUS_CLASSES}


def class_values(task: str) -> list[str]:
    """The Japanese values of ``task``'s classes, in class-index order (男, 女 / 貴族 ...)."""
    return [japanese for japanese, _english in _CLASSES[task]]


def japanese_class(task: str, value: str) -> str:
    """The Japanese class value of ``value`` (Japanese, English or a class index), or
    UsageError naming the task and the values it accepts."""
    if task not in TASKS:
        raise UsageError(f"Unknown task {task!r}. Valid values are gender, status.")
    classes = _CLASSES[task]
    for index, (japanese, english) in enumerate(classes):
        if value in (japanese, english, str(index)):
            return japanese
    names = ", ".join(f"{en}/{ja}" for ja, en in classes)
    raise UsageError(f"{value!r} is not a {task} class. Valid values are {names}.")


@dataclass(frozen=True, kw_only=True, slots=True)
class ClassifierIdentity:
    """What identifies a model that suggests: its checkpoint, its network, what it learnt from."""

    checkpoint_sha256: str
    arch: str
    task: str
    classes: tuple[str, ...]
    image_size: int
    release_version: str | None
    release_checksum: str | None
    split: str | None
    run_dir: str | None

    @property
    def short(self) -> str:
        """``resnet18@3fa2c1d0e9ab``: how history and the web app name the model."""
        return f"{self.arch}@{self.checkpoint_sha256[:12]}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Prediction:
    """One face's class probabilities (in the classifier's class order)."""

    face_id: int
    probabilities: tuple[float, ...]
    in_training: bool | None
    blob_sha256: str | None


def model_document(checkpoint_sha256: str) -> str:
    """The URL of the document a model's suggestions are asserted by."""
    return f"kaokore:model:{checkpoint_sha256}"


def reviewer_document(name: str) -> str:
    """The URL of the document a reviewer's decisions are asserted by."""
    return f"kaokore:reviewer:{name}"


def _document(session: Session, url: str, kind: str) -> int:
    """The id of the document ``url`` (made on first use; never fetched by a harvest)."""
    found = session.scalars(select(Document.id).where(Document.url == url)).one_or_none()
    if found is not None:
        return found
    row = Document(url=url, kind=kind, status="ok", fetched_at=utcnow())
    session.add(row)
    session.flush()
    return row.id


def _classifier(session: Session, identity: ClassifierIdentity) -> Classifier:
    found = session.scalars(
        select(Classifier).where(Classifier.checkpoint_sha256 == identity.checkpoint_sha256)
    ).one_or_none()
    if found is not None:
        return found
    row = Classifier(
        checkpoint_sha256=identity.checkpoint_sha256,
        arch=identity.arch,
        task=identity.task,
        classes=list(identity.classes),
        image_size=identity.image_size,
        release_version=identity.release_version,
        release_checksum=identity.release_checksum,
        split=identity.split,
        run_dir=identity.run_dir,
    )
    session.add(row)
    session.flush()
    return row


def store_suggestions(
    session: Session,
    identity: ClassifierIdentity,
    predictions: Iterable[Prediction],
    *,
    now: dt.datetime | None = None,
) -> int:
    """Store each prediction as a machine annotation with its suggestion row; return how many
    were new (a face the same checkpoint already suggested for is left as it is)."""
    if identity.task not in TASKS:
        raise UsageError(f"Unknown task {identity.task!r}. Valid values are gender, status.")
    values = class_values(identity.task)
    label = category_key(identity.task)
    moment = now or utcnow()
    classifier = _classifier(session, identity)
    document_id = _document(session, model_document(identity.checkpoint_sha256), "model")
    batch = list(predictions)
    if not batch:
        return 0
    ids = [p.face_id for p in batch]
    done = set(
        session.scalars(
            select(Suggestion.face_id).where(
                Suggestion.classifier_id == classifier.id, Suggestion.face_id.in_(ids)
            )
        )
    )
    fresh = [p for p in batch if p.face_id not in done]
    if not fresh:
        return 0
    fresh_ids = [p.face_id for p in fresh]
    # A face has one current machine opinion per task: retract older models' suggestions.
    older = select(Suggestion.annotation_id).where(
        Suggestion.task == identity.task, Suggestion.face_id.in_(fresh_ids)
    )
    session.execute(
        update(Annotation)
        .where(
            Annotation.id.in_(older),
            Annotation.agent == "machine",
            Annotation.retracted_at.is_(None),
        )
        .values(retracted_at=moment)
        .execution_options(synchronize_session=False)
    )
    for prediction in fresh:
        if len(prediction.probabilities) != len(values):
            raise ValueError(
                f"face {prediction.face_id}: {len(prediction.probabilities)} probabilities "
                f"for {len(values)} {identity.task} classes"
            )
        best = max(range(len(values)), key=lambda i: prediction.probabilities[i])
        annotation = Annotation(
            face_id=prediction.face_id,
            label=label,
            raw_value=values[best],
            value=values[best],
            position=0,
            agent="machine",
            document_id=document_id,
            asserted_at=moment,
        )
        session.add(annotation)
        session.flush()
        session.add(
            Suggestion(
                annotation_id=annotation.id,
                face_id=prediction.face_id,
                classifier_id=classifier.id,
                task=identity.task,
                value=values[best],
                confidence=float(prediction.probabilities[best]),
                probabilities=[round(float(p), 6) for p in prediction.probabilities],
                in_training=prediction.in_training,
                blob_sha256=prediction.blob_sha256,
                created_at=moment,
            )
        )
    session.flush()
    labels_changed(session, fresh_ids)  # the read model (kaokore.db.truth) follows
    return len(fresh)


@dataclass(frozen=True, kw_only=True, slots=True)
class Decision:
    """A recorded review decision, as the web app and the tests see it."""

    review_id: int
    annotation_id: int
    face_id: int
    task: str
    value: str
    decision: str
    suggestion_id: int | None
    reviewer: str
    decided_at: dt.datetime


def _decision(review: Review, reviewer: str) -> Decision:
    return Decision(
        review_id=review.id,
        annotation_id=review.annotation_id,
        face_id=review.face_id,
        task=review.task,
        value=review.value,
        decision=review.decision,
        suggestion_id=review.suggestion_id,
        reviewer=reviewer,
        decided_at=review.decided_at,
    )


def record_decision(
    session: Session,
    *,
    reviewer_id: int,
    face_id: int,
    task: str,
    value: str,
    suggestion_id: int | None = None,
    now: dt.datetime | None = None,
) -> Decision:
    """Record that a reviewer labelled ``face_id``'s ``task`` as ``value``.

    ``suggestion_id`` names the suggestion the reviewer was shown: the decision confirms it
    when the values agree and overrides it otherwise. Raises UsageError for an unknown face,
    reviewer or value, or a suggestion about another face or task.
    """
    japanese = japanese_class(task, value)
    reviewer = session.get(Reviewer, reviewer_id)
    if reviewer is None or reviewer.disabled:
        raise UsageError(f"No active reviewer with id {reviewer_id}.")
    face = session.get(Face, face_id)
    if face is None or face.deleted:
        raise UsageError(f"No face {face_id} to review.")
    suggestion = None
    decision = "labelled"
    if suggestion_id is not None:
        suggestion = session.get(Suggestion, suggestion_id)
        if suggestion is None or suggestion.face_id != face_id or suggestion.task != task:
            raise UsageError(f"Suggestion {suggestion_id} is not about face {face_id}'s {task}.")
        decision = "confirmed" if suggestion.value == japanese else "overrode"
    moment = now or utcnow()
    annotation = Annotation(
        face_id=face_id,
        label=category_key(task),
        raw_value=japanese,
        value=japanese,
        position=0,
        agent="human",
        document_id=_document(session, reviewer_document(reviewer.name), "review"),
        asserted_at=moment,
    )
    session.add(annotation)
    session.flush()
    review = Review(
        annotation_id=annotation.id,
        face_id=face_id,
        reviewer_id=reviewer_id,
        task=task,
        value=japanese,
        decision=decision,
        suggestion_id=suggestion.id if suggestion is not None else None,
        decided_at=moment,
    )
    session.add(review)
    session.flush()
    labels_changed(session, [face_id])  # the read model (kaokore.db.truth) follows
    return _decision(review, reviewer.name)


def undo_decision(
    session: Session, *, review_id: int, reviewer_id: int, now: dt.datetime | None = None
) -> Decision:
    """Undo one of the reviewer's own decisions: its annotation is retracted, the review is
    stamped ``undone_at``; both stay in the history. Raises UsageError for another
    reviewer's decision or one already undone."""
    review = session.get(Review, review_id)
    if review is None or review.reviewer_id != reviewer_id:
        raise UsageError(f"Review {review_id} is not one of this reviewer's decisions.")
    if review.undone_at is not None:
        raise UsageError(f"Review {review_id} was undone already.")
    moment = now or utcnow()
    review.undone_at = moment
    annotation = session.get(Annotation, review.annotation_id)
    if annotation is not None and annotation.retracted_at is None:
        annotation.retracted_at = moment
    session.flush()
    labels_changed(session, [review.face_id])  # the read model (kaokore.db.truth) follows
    return _decision(review, review.reviewer.name)


def reviewed_faces(session: Session, task: str, face_ids: Sequence[int]) -> set[int]:
    """The faces among ``face_ids`` with a current (not undone) review of ``task``."""
    if not face_ids:
        return set()
    return set(
        session.scalars(
            select(Review.face_id).where(
                Review.task == task, Review.undone_at.is_(None), Review.face_id.in_(face_ids)
            )
        )
    )
