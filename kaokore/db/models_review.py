"""Tables of the review loop: reviewers, classifiers, their suggestions and review decisions.

Why beside ``annotations`` and not inside it: a suggestion *is* an annotation (``agent =
machine``) and a review decision *is* one (``agent = human``), so ``kaokore query history``,
the SQL views and the curation export see them like any other assertion. What only the loop
needs (which model said it, with what probabilities, whether the face was in its training
set; which reviewer decided, confirming or overriding which suggestion) lives in these side
tables, one row per annotation, so the annotation table keeps one shape for every source.

Rules the writers keep (:mod:`kaokore.review.store`): a suggestion never retracts or edits a
human annotation; a review adds a human annotation and never retracts an expert's (an
expert-only build stays reproducible); undoing a review retracts the reviewer's annotation
and stamps ``undone_at``, so the history keeps what happened.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kaokore.db.models import Annotation, Base, utcnow

__all__ = ["Classifier", "Review", "Reviewer", "Suggestion"]


class Reviewer(Base):
    """A person who may review faces in ``kaokore web --review`` (``kaokore users add``)."""

    __tablename__ = "reviewers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    #: An Argon2id hash in the PHC string format (salt and parameters included).
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class Classifier(Base):
    """A trained classifier that made suggestions, identified by its checkpoint's sha256."""

    __tablename__ = "classifiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    checkpoint_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    arch: Mapped[str] = mapped_column(String(32))
    #: ``gender`` or ``status``.
    task: Mapped[str] = mapped_column(String(16))
    #: English class names in index order (the order of every suggestion's probabilities).
    classes: Mapped[list[Any]]
    image_size: Mapped[int] = mapped_column(Integer)
    #: The release it was trained on: its version and the sha256 of its ``SHA256SUMS``.
    release_version: Mapped[str | None] = mapped_column(String(64))
    release_checksum: Mapped[str | None] = mapped_column(String(64))
    #: The split file it was trained with (``stable``, ``by-work`` ...; None: labels.csv).
    split: Mapped[str | None] = mapped_column(String(16))
    run_dir: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Suggestion(Base):
    """One machine prediction about a face, stored as the machine annotation it points to."""

    __tablename__ = "suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    annotation_id: Mapped[int] = mapped_column(
        ForeignKey("annotations.id", ondelete="CASCADE"), unique=True
    )
    face_id: Mapped[int] = mapped_column(ForeignKey("faces.id", ondelete="CASCADE"))
    classifier_id: Mapped[int] = mapped_column(ForeignKey("classifiers.id", ondelete="CASCADE"))
    task: Mapped[str] = mapped_column(String(16))
    #: The predicted class, as the Japanese value the annotation holds (男, 武士 ...).
    value: Mapped[str] = mapped_column(Text)
    #: The probability of the predicted class (the queue's "least confident first" key).
    confidence: Mapped[float] = mapped_column(Float)
    #: Every class's probability, in the classifier's class order.
    probabilities: Mapped[list[Any]]
    #: Whether the face was in the classifier's training split (None: the release is unknown).
    in_training: Mapped[bool | None] = mapped_column(Boolean)
    #: The crop the prediction was made from.
    blob_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    annotation: Mapped[Annotation] = relationship()
    classifier: Mapped[Classifier] = relationship()

    __table_args__ = (
        UniqueConstraint("face_id", "classifier_id"),
        Index(None, "task", "confidence"),
    )


class Review(Base):
    """One reviewer's decision about one label of a face: the human annotation it made.

    ``decision`` is ``confirmed`` (the reviewer chose the suggested value), ``overrode`` (another
    value than the suggestion's) or ``labelled`` (there was no suggestion).
    """

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    annotation_id: Mapped[int] = mapped_column(
        ForeignKey("annotations.id", ondelete="CASCADE"), unique=True
    )
    face_id: Mapped[int] = mapped_column(ForeignKey("faces.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id"))
    task: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(16))
    suggestion_id: Mapped[int | None] = mapped_column(
        ForeignKey("suggestions.id", ondelete="SET NULL")
    )
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[dt.datetime | None]

    annotation: Mapped[Annotation] = relationship()
    reviewer: Mapped[Reviewer] = relationship()
    suggestion: Mapped[Suggestion | None] = relationship()

    __table_args__ = (Index(None, "face_id"), Index(None, "reviewer_id", "decided_at"))
