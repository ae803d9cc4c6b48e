"""Which labels a release takes: the experts' only, or the experts' and the reviewers'.

Why a choice at build time, expert-only by default: a release says what it contains. Labels
a reviewer gave in ``kaokore web --review`` (human annotations with a
:class:`~kaokore.db.models_review.Review` row) enter a release only with ``kaokore build
--labels expert+reviewed``; machine suggestions (annotations with a
:class:`~kaokore.db.models_review.Suggestion` row) never enter one, whatever the choice (a
suggestion a reviewer accepted enters as the reviewer's label).

This module reads the side tables once per build, so the reader (:mod:`.select`) only has to
drop or keep annotation ids and name the source of each label it picks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from kaokore.db.models_review import Classifier, Review, Reviewer, Suggestion
from kaokore.errors import ArgumentError

__all__ = [
    "DEFAULT_LABELS",
    "LABEL_SETS",
    "LabelSource",
    "ReviewSources",
    "check_labels",
    "read_review_sources",
]

#: The label sets ``kaokore build --labels`` accepts.
LABEL_SETS: Final[tuple[str, ...]] = ("expert", "expert+reviewed")
DEFAULT_LABELS: Final = "expert"


def check_labels(labels: str) -> str:
    """``labels`` if it is a known label set, else UsageError naming the valid ones."""
    if labels not in LABEL_SETS:
        raise ArgumentError("labels", labels, f"use one of {', '.join(LABEL_SETS)}")
    return labels


@dataclass(frozen=True, kw_only=True, slots=True)
class LabelSource:
    """Where a release label came from: the upstream experts, or a reviewer's decision.

    For a review: who decided, ``confirmed``/``overrode``/``labelled``, and the suggestion
    shown (``suggestion 12 by resnet18@3fa2c1d0e9ab, p=0.91``; None when there was none).
    """

    kind: str
    reviewer: str | None = None
    decision: str | None = None
    suggestion: str | None = None


EXPERT: Final = LabelSource(kind="expert")


@dataclass(frozen=True, kw_only=True, slots=True)
class ReviewSources:
    """The annotation ids a build must know about: suggestions (never read) and current
    reviews (read with ``expert+reviewed``), with each review's source."""

    suggestions: frozenset[int]
    reviews: dict[int, LabelSource]


def read_review_sources(session: Session) -> ReviewSources:
    """Every suggestion's annotation id and every current (not undone) review's source."""
    suggestions = frozenset(session.scalars(select(Suggestion.annotation_id)))
    query = (
        select(Review, Reviewer.name, Suggestion, Classifier)
        .join(Reviewer, Reviewer.id == Review.reviewer_id)
        .outerjoin(Suggestion, Suggestion.id == Review.suggestion_id)
        .outerjoin(Classifier, Classifier.id == Suggestion.classifier_id)
        .where(Review.undone_at.is_(None))
    )
    reviews: dict[int, LabelSource] = {}
    for review, name, suggestion, classifier in session.execute(query):
        shown = None
        if suggestion is not None and classifier is not None:
            shown = (
                f"suggestion {suggestion.id} by {classifier.arch}@"
                f"{classifier.checkpoint_sha256[:12]}, {suggestion.value} "
                f"p={suggestion.confidence:.2f}"
            )
        reviews[review.annotation_id] = LabelSource(
            kind="reviewer", reviewer=name, decision=review.decision, suggestion=shown
        )
    return ReviewSources(suggestions=suggestions, reviews=reviews)
