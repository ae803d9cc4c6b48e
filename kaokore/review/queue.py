"""The review queue: which faces to show a reviewer next.

Why least confident first: a label the model is sure of teaches it little; a face whose
predicted class has the lowest probability is where the model's boundary is, and where a
human label changes the next model most (uncertainty sampling, the simplest active-learning
order). Random order is kept as the baseline it is measured against (``bench/review.py``).
Both orders are pure functions of the probabilities (and a seed), shared by the web app and the
simulation, so the benchmark measures the order the reviewers get.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from kaokore.db.models import Annotation, Face
from kaokore.db.models_review import Classifier, Review, Suggestion
from kaokore.errors import UsageError
from kaokore.review.store import TASKS, class_values
from kaokore.vocab import category_key

__all__ = [
    "ORDERS",
    "SCOPES",
    "QueueItem",
    "least_confident_order",
    "random_order",
    "review_queue",
]

Order = Literal["confidence", "random"]
Scope = Literal["unlabelled", "all"]
ORDERS: Final[tuple[str, ...]] = ("confidence", "random")
SCOPES: Final[tuple[str, ...]] = ("unlabelled", "all")


def least_confident_order(confidences: Sequence[float], keys: Sequence[int]) -> list[int]:
    """Indices of ``confidences`` from the least to the most confident (ties: by key)."""
    return sorted(range(len(confidences)), key=lambda i: (confidences[i], keys[i]))


def random_order(keys: Sequence[int], seed: int) -> list[int]:
    """Indices of ``keys`` in a random order that depends only on the keys and ``seed``.

    A hash, not a shuffle: a face keeps its place whatever else is in the queue, so a reviewer
    who reloads the page meets the same order.
    """

    def rank(i: int) -> bytes:
        return hashlib.sha256(f"{seed}:{keys[i]}".encode()).digest()

    return sorted(range(len(keys)), key=rank)


@dataclass(frozen=True, kw_only=True, slots=True)
class QueueItem:
    """A face waiting for review, with the suggestion to show beside it."""

    face_id: int
    task: str
    suggestion_id: int
    value: str
    confidence: float
    #: (Japanese class value, probability) in class order.
    probabilities: tuple[tuple[str, float], ...]
    model: str
    in_training: bool | None


def review_queue(
    session: Session,
    *,
    task: str,
    order: str = "confidence",
    scope: str = "unlabelled",
    seed: int = 0,
    limit: int | None = 20,
    exclude: Collection[int] = (),
) -> list[QueueItem]:
    """The next faces to review for ``task``: faces with a current suggestion and no current
    review, least confident first (``order="confidence"``) or in a seeded random order.

    ``scope="unlabelled"`` keeps faces no human (expert or reviewer) has labelled for the task;
    ``"all"`` also offers expert-labelled faces, to audit the experts against the model.
    ``exclude`` holds faces to leave out (those the reviewer skipped).
    """
    if task not in TASKS:
        raise UsageError(f"Unknown task {task!r}. Valid values are gender, status.")
    if order not in ORDERS:
        raise UsageError(f"Unknown order {order!r}. Valid values are {', '.join(ORDERS)}.")
    if scope not in SCOPES:
        raise UsageError(f"Unknown scope {scope!r}. Valid values are {', '.join(SCOPES)}.")
    reviewed = exists().where(
        Review.face_id == Suggestion.face_id, Review.task == task, Review.undone_at.is_(None)
    )
    conditions = [
        Suggestion.task == task,
        Annotation.retracted_at.is_(None),
        Face.deleted.is_(False),
        ~reviewed,
    ]
    if scope == "unlabelled":
        human = (
            select(Annotation.id)
            .where(
                and_(
                    Annotation.face_id == Suggestion.face_id,
                    Annotation.label == category_key(task),
                    Annotation.agent == "human",
                    Annotation.retracted_at.is_(None),
                )
            )
            .correlate(Suggestion)
            .exists()
        )
        conditions.append(~human)
    query = (
        select(Suggestion, Classifier)
        .join(Annotation, Annotation.id == Suggestion.annotation_id)
        .join(Face, Face.id == Suggestion.face_id)
        .join(Classifier, Classifier.id == Suggestion.classifier_id)
        .where(*conditions)
    )
    if order == "confidence":
        query = query.order_by(Suggestion.confidence, Suggestion.face_id)
        if limit is not None:
            query = query.limit(limit + len(exclude))
        found = list(session.execute(query))
    else:
        found = list(session.execute(query))
        keys = [suggestion.face_id for suggestion, _c in found]
        found = [found[i] for i in random_order(keys, seed)]
    skipped = set(exclude)
    items: list[QueueItem] = []
    for suggestion, classifier in found:
        if suggestion.face_id in skipped:
            continue
        values = class_values(task)
        items.append(
            QueueItem(
                face_id=suggestion.face_id,
                task=task,
                suggestion_id=suggestion.id,
                value=suggestion.value,
                confidence=suggestion.confidence,
                probabilities=tuple(
                    (value, float(p))
                    for value, p in zip(values, suggestion.probabilities, strict=True)
                ),
                model=f"{classifier.arch}@{classifier.checkpoint_sha256[:12]}",
                in_training=suggestion.in_training,
            )
        )
        if limit is not None and len(items) >= limit:
            break
    return items
