"""The write path's last step: after labels or faces changed, bring the read model in step.

Why explicit: ``current_labels`` (the rule of :mod:`kaokore.db.truth`, stored) and
``period_terms`` are derived from ``annotations`` and the documents' versions. Every writer
of annotations, deletions or dataset versions ends with :func:`labels_changed` for the
faces it touched, in the same transaction, so a reader never sees history and read model
disagree. No engine-wide event does it behind the writer's back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from kaokore.db.current import (
    faces_of_documents,
    refresh_current_labels,
    supersede_versions,
)
from kaokore.db.models import Annotation, CurrentLabel, Document, Face

__all__ = ["connection_of", "labels_changed", "new_dataset_version"]


def connection_of(target: Session | Connection) -> Connection:
    """The connection of a session (after flushing its pending ORM changes), or itself."""
    if isinstance(target, Session):
        target.flush()
        return target.connection()
    return target


def labels_changed(target: Session | Connection, face_ids: Iterable[int] | None) -> int:
    """Recompute the current labels of ``face_ids`` (all faces when None); rows written."""
    return refresh_current_labels(connection_of(target), face_ids)


def new_dataset_version(
    target: Session | Connection,
    document_id: int,
    *,
    dataset: str,
    version: str,
    listed: Iterable[int],
    now: dt.datetime,
) -> tuple[set[int], set[int]]:
    """Record ``document_id`` as ``version`` of ``dataset`` and re-rank the versions.

    ``listed`` are the faces this version states. Returns (faces refreshed, faces flagged
    deleted): a face that some version listed and the newest does not, and that no other
    source labels, was removed upstream (flagged, never erased); a face the newest version
    lists again is no longer flagged.
    """
    connection = connection_of(target)
    connection.execute(
        update(Document)
        .where(Document.id == document_id)
        .values(dataset=dataset, dataset_version=version)
    )
    changed = supersede_versions(connection, dataset)
    touched = set(listed) | faces_of_documents(connection, changed)
    refresh_current_labels(connection, touched)
    newest = connection.scalar(
        select(Document.id).where(Document.dataset == dataset, Document.superseded_by_id.is_(None))
    )
    if newest == document_id:
        on_newest = set(listed)
        _set_deleted(connection, sorted(on_newest), deleted=False, now=now)
    else:
        on_newest = set()
        for chunk in _chunks(sorted(touched)):
            on_newest.update(
                connection.scalars(
                    select(Annotation.face_id)
                    .where(
                        Annotation.face_id.in_(chunk),
                        Annotation.document_id == newest,
                        Annotation.retracted_at.is_(None),
                    )
                    .distinct()
                )
            )
    dropped = sorted(touched - on_newest)
    labelled: set[int] = set()
    for chunk in _chunks(dropped):
        labelled.update(
            connection.scalars(
                select(CurrentLabel.face_id).where(CurrentLabel.face_id.in_(chunk)).distinct()
            )
        )
    gone = {face for face in dropped if face not in labelled}
    _set_deleted(connection, sorted(gone), deleted=True, now=now)
    return touched, gone


def _chunks(values: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), 900):
        yield values[start : start + 900]


def _set_deleted(
    connection: Connection, face_ids: Sequence[int], *, deleted: bool, now: dt.datetime
) -> None:
    """Flag faces deleted upstream (or listed again), leaving faces already so alone."""
    for chunk in _chunks(face_ids):
        connection.execute(
            update(Face)
            .where(Face.id.in_(chunk), Face.deleted.is_(not deleted))
            .values(deleted=deleted, deleted_at=now if deleted else None)
        )
