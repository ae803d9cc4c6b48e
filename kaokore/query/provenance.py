"""Where an annotation came from beyond its document: a model's suggestion or a review.

Why a separate reader: suggestions and review decisions are annotations like any other (so
the history lists them in their place), but what makes them trustworthy or not (which
checkpoint, with what probability, on a face it was trained on; which reviewer, confirming or
overriding which suggestion, undone or not) sits in the review loop's side tables
(:mod:`kaokore.db.models_review`). This module turns those rows into one line per annotation.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from kaokore.db.models_review import Classifier, Review, Reviewer, Suggestion

__all__ = ["annotation_provenance"]


def _model(classifier: Classifier) -> str:
    version = classifier.release_version
    release = f", trained on release {version}" if version else ""
    return f"{classifier.arch}@{classifier.checkpoint_sha256[:12]}{release}"


def annotation_provenance(session: Session, annotation_ids: Sequence[int]) -> dict[int, str]:
    """One line for each of ``annotation_ids`` that is a suggestion or a review decision.

    ``suggestion 3 by resnet18@3fa2c1d0e9ab, trained on release 1.0: p=0.91 (seen in
    training)``; ``review by alice: overrode suggestion 3 by resnet18@... (女 p=0.91)``.
    """
    ids = list(annotation_ids)
    if not ids:
        return {}
    out: dict[int, str] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        suggestions = session.execute(
            select(Suggestion, Classifier)
            .join(Classifier, Classifier.id == Suggestion.classifier_id)
            .where(Suggestion.annotation_id.in_(chunk))
        )
        for suggestion, classifier in suggestions:
            seen = {True: " (seen in training)", False: "", None: " (training set unknown)"}
            out[suggestion.annotation_id] = (
                f"suggestion {suggestion.id} by {_model(classifier)}: "
                f"p={suggestion.confidence:.2f}{seen[suggestion.in_training]}"
            )
        shown = aliased(Suggestion)
        reviews = session.execute(
            select(Review, Reviewer.name, shown, Classifier)
            .join(Reviewer, Reviewer.id == Review.reviewer_id)
            .outerjoin(shown, shown.id == Review.suggestion_id)
            .outerjoin(Classifier, Classifier.id == shown.classifier_id)
            .where(Review.annotation_id.in_(chunk))
        )
        for review, name, suggestion, classifier in reviews:
            if suggestion is not None and classifier is not None:
                what = (
                    f"{review.decision} suggestion {suggestion.id} by {_model(classifier)} "
                    f"({suggestion.value} p={suggestion.confidence:.2f})"
                )
            else:
                what = "labelled without a suggestion"
            undone = (
                f"; undone at {review.undone_at.strftime('%Y-%m-%dT%H:%M:%SZ')}"
                if review.undone_at is not None
                else ""
            )
            out[review.annotation_id] = f"review by {name}: {what}{undone}"
    return out
