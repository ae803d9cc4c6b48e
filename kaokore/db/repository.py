"""Writes shared by every source: works, canvases, services, faces and their annotations.

Why here and not in each source's code: a face can be asserted by a curation, by an official
``original_tags.txt`` line, or by both, and the rules for merging must be the same whichever
came first. The key rule is that annotations are never overwritten: an assertion that a
document no longer makes is closed (``retracted_at``), a new one is opened, and unchanged ones
are left alone, so re-reading an unchanged document writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kaokore.db.bulk import sync_labels
from kaokore.db.models import Document, Face, utcnow
from kaokore.db.records import Assertion
from kaokore.db.writer import labels_changed

__all__ = [
    "Assertion",
    "AnnotationChange",
    "get_or_create_document",
    "mark_face_deleted",
    "sync_annotations",
    "upsert",
]


@dataclass(frozen=True, kw_only=True)
class AnnotationChange:
    """What :func:`sync_annotations` did to one face."""

    added: int = 0
    retracted: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.retracted)


def upsert(
    session: Session, model: type[Any], lookup: dict[str, Any], values: dict[str, Any]
) -> Any:
    """Find the row matching ``lookup`` or create it; then set ``values`` that are not None.

    Values that are None never overwrite known ones: a later, sparser document (an official
    line without canvas size, say) must not erase what a richer one stored.
    """
    row = session.scalars(select(model).filter_by(**lookup)).one_or_none()
    if row is None:
        row = model(**lookup, **{k: v for k, v in values.items() if v is not None})
        session.add(row)
        session.flush()
        return row
    for name, value in values.items():
        if value is not None and getattr(row, name) != value:
            setattr(row, name, value)
    return row


def get_or_create_document(
    session: Session, *, url: str, kind: str, source_id: int | None = None
) -> Document:
    """The document row of ``url``, created (status ``ok``) when first seen."""
    return upsert(session, Document, {"url": url}, {"kind": kind, "source_id": source_id})  # type: ignore[no-any-return]


def sync_annotations(
    session: Session,
    face: Face,
    assertions: Sequence[Assertion],
    *,
    document: Document | None,
    now: dt.datetime | None = None,
) -> AnnotationChange:
    """Make the current annotations that ``document`` asserts on ``face`` equal ``assertions``.

    A convenience over the one write path (:func:`kaokore.db.bulk.sync_labels`) for a
    single face held as an ORM object; the caller refreshes the read model
    (:func:`kaokore.db.writer.labels_changed`) when it is done.
    """
    session.flush()
    if document is None:
        raise ValueError("an annotation needs the document that asserts it")
    added, retracted, _changed = sync_labels(
        session.connection(), document.id, {face.id: tuple(assertions)}, now or utcnow()
    )
    session.expire(face, ["annotations"])
    return AnnotationChange(added=added, retracted=retracted)


def mark_face_deleted(session: Session, face: Face, *, now: dt.datetime | None = None) -> bool:
    """Flag a face removed upstream; its rows and history stay. Returns whether it changed."""
    if face.deleted:
        return False
    now = now or utcnow()
    face.deleted = True
    face.deleted_at = now
    for row in face.annotations:
        if row.retracted_at is None:
            row.retracted_at = now
    labels_changed(session, [face.id])
    return True
