"""The one write path: apply a document's records in bulk, keep history, refresh the read model.

Why Core in bulk: storing a curation through the ORM cost one round trip (or several) per
face; here a document costs a fixed number of statements per table, whatever its size:
one ``SELECT ... IN`` per 900 keys to find what exists, one multi-row ``INSERT`` for what
is new, and ``UPDATE`` only for rows that really changed. Labels are never overwritten:
:func:`sync_labels` closes (``retracted_at``) what the document no longer states and adds
what is new, for both ingest paths. Every apply ends with
:func:`kaokore.db.current.refresh_current_labels` for the faces it touched (which also adds
the ``period_terms`` of new 制作年 values), in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, insert, select, update

from kaokore.box import box_columns
from kaokore.db.current import refresh_current_labels
from kaokore.db.fastrows import insert_rows
from kaokore.db.models import (
    Annotation,
    Blob,
    Canvas,
    CurrentLabel,
    Face,
    ImageService,
    Work,
    utcnow,
)
from kaokore.db.records import Assertion, CropRecord, DocumentLabels

__all__ = ["BulkOutcome", "apply_document", "record_crops", "retract_everything", "sync_labels"]

#: Keys per ``IN (...)`` list: under SQLite's oldest limit on bound parameters (999).
CHUNK = 900


@dataclass
class BulkOutcome:
    """What applying one document changed."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    added: int = 0
    retracted: int = 0
    face_ids: list[int] = field(default_factory=list)


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _upsert(
    connection: Connection, model: type[Any], key: str, rows: Mapping[Any, dict[str, Any]]
) -> dict[Any, int]:
    """Key -> id for ``rows``: missing rows inserted, known ones given their non-None values.

    A value of None never overwrites a known one: a sparser document must not erase what a
    richer one stored.
    """
    table = _table(model)
    columns = sorted({name for values in rows.values() for name in values})
    keys = list(rows)
    found: dict[Any, tuple[int, dict[str, Any]]] = {}
    query = select(table.c.id, table.c[key], *(table.c[name] for name in columns))
    for chunk in _chunks(keys):
        for row in connection.execute(query.where(table.c[key].in_(chunk))):
            found[row[1]] = (row[0], dict(zip(columns, row[2:], strict=True)))
    missing = [
        {key: k, **{n: v for n, v in rows[k].items() if v is not None}}
        for k in keys
        if k not in found
    ]
    if missing:
        connection.execute(insert(table), missing)
    for k, (id_, stored) in found.items():
        changes = {n: v for n, v in rows[k].items() if v is not None and stored.get(n) != v}
        if changes:
            connection.execute(update(table).where(table.c.id == id_).values(**changes))
    ids = {k: id_ for k, (id_, _stored) in found.items()}
    if missing:
        for chunk in _chunks([row[key] for row in missing]):
            ids.update(
                {
                    k: i
                    for i, k in connection.execute(
                        select(table.c.id, table.c[key]).where(table.c[key].in_(chunk))
                    )
                }
            )
    return ids


def sync_labels(
    connection: Connection,
    document_id: int,
    wanted: Mapping[int, Sequence[Assertion]],
    now: dt.datetime,
) -> tuple[int, int, set[int]]:
    """Make ``document_id``'s current annotations on the faces of ``wanted`` equal to it.

    A face mapped to an empty sequence loses every label of the document. Unchanged
    assertions are left alone (their ``asserted_at`` stays the first time they were made).
    Returns (rows added, rows retracted, faces whose labels changed).
    """
    faces = sorted(wanted)
    have: dict[int, dict[tuple[str, str, str, int], int]] = {face: {} for face in faces}
    query = select(
        Annotation.id,
        Annotation.face_id,
        Annotation.label,
        Annotation.raw_value,
        Annotation.agent,
        Annotation.position,
    ).where(Annotation.document_id == document_id, Annotation.retracted_at.is_(None))
    for chunk in _chunks(faces):
        for id_, face_id, label, raw, agent, position in connection.execute(
            query.where(Annotation.face_id.in_(chunk))
        ):
            have[face_id][(label, raw, agent, position)] = id_
    new_rows: list[dict[str, Any]] = []
    closed: list[dict[str, Any]] = []
    changed: set[int] = set()
    for face_id in faces:
        want = {assertion.identity: assertion for assertion in wanted[face_id]}
        old = have[face_id]
        for identity, id_ in old.items():
            if identity not in want:
                closed.append({"row_id": id_, "closed_at": now})
                changed.add(face_id)
        for identity, assertion in want.items():
            if identity in old:
                continue
            changed.add(face_id)
            new_rows.append(
                {
                    "face_id": face_id,
                    "label": assertion.label,
                    "raw_value": assertion.raw_value,
                    "value": assertion.value,
                    "agent": assertion.agent,
                    "position": assertion.position,
                    "document_id": document_id,
                    "asserted_at": now,
                }
            )
    table = _table(Annotation)
    insert_rows(connection, table, new_rows)
    if closed:
        connection.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(retracted_at=bindparam("closed_at")),
            closed,
        )
    return len(new_rows), len(closed), changed


_FACE_COLUMNS = (
    "canvas_id",
    "image_service_id",
    "work_id",
    "member_uri",
    *box_columns("region"),
    *box_columns("square"),
    "curation_document_id",
    "range_id",
    "range_label",
)


def apply_document(connection: Connection, batch: DocumentLabels) -> BulkOutcome:
    """Write everything ``batch`` states, in bulk, and refresh the faces it touched."""
    outcome = BulkOutcome()
    now = batch.now
    works = _upsert(connection, Work, "key", {w.key: dict(w.values) for w in batch.works})
    canvases = _upsert(
        connection,
        Canvas,
        "uri",
        {
            c.uri: {**c.values, "work_id": works.get(c.work_key) if c.work_key else None}
            for c in batch.canvases
        },
    )
    services = _upsert(
        connection,
        ImageService,
        "key",
        {
            s.key: {
                **s.values,
                "base_url": s.base_url,
                "canvas_id": canvases.get(s.canvas_uri) if s.canvas_uri else None,
            }
            for s in batch.services
        },
    )
    faces = {record.key: record for record in batch.faces}
    wanted_values = {
        key: {
            **record.values,
            "canvas_id": canvases.get(record.canvas_uri) if record.canvas_uri else None,
            "image_service_id": services[record.service_key],
            "work_id": works.get(record.work_key) if record.work_key else None,
            "curation_document_id": batch.document_id,
        }
        for key, record in faces.items()
    }
    existing = _faces_by_key(connection, list(faces))
    new = [
        {
            "key": key,
            **{n: v for n, v in wanted_values[key].items()},
            "first_seen": now,
            "last_seen": now,
            "crop_status": "pending",
            "deleted": False,
        }
        for key in faces
        if key not in existing
    ]
    table = _table(Face)
    insert_rows(connection, table, new)
    structural: set[int] = set()
    updates: list[dict[str, Any]] = []
    for key, (face_id, stored, deleted) in existing.items():
        values = wanted_values[key]
        differs = deleted or any(stored.get(n) != values.get(n) for n in _FACE_COLUMNS)
        if differs:
            structural.add(face_id)
            connection.execute(
                update(table)
                .where(table.c.id == face_id)
                .values(**values, deleted=False, deleted_at=None, last_seen=now)
            )
        else:
            updates.append({"row_id": face_id, "seen_at": now})
    if updates:
        connection.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(last_seen=bindparam("seen_at")),
            updates,
        )
    ids = {key: row[0] for key, row in existing.items()}
    if new:
        ids.update(_face_ids(connection, [row["key"] for row in new]))
    wanted: dict[int, Sequence[Assertion]] = {ids[k]: r.assertions for k, r in faces.items()}
    gone: set[int] = set()
    if batch.complete:
        gone = _asserted_before(connection, batch.document_id) - set(wanted)
        wanted.update({face_id: () for face_id in gone})
    added, retracted, changed = sync_labels(connection, batch.document_id, wanted, now)
    # Only faces whose history changed can have other current labels.
    refresh_current_labels(connection, changed | gone)
    outcome.deleted = _flag_unlabelled(connection, sorted(gone), now)
    outcome.added, outcome.retracted = added, retracted
    outcome.new = len(new)
    for key in faces:
        face_id = ids[key]
        if key not in existing:
            continue
        if face_id in structural or face_id in changed:
            outcome.updated += 1
        else:
            outcome.unchanged += 1
    outcome.face_ids = sorted(ids[key] for key in faces)
    return outcome


def _faces_by_key(
    connection: Connection, keys: list[str]
) -> dict[str, tuple[int, dict[str, Any], bool]]:
    table = _table(Face)
    query = select(table.c.id, table.c.key, table.c.deleted, *(table.c[n] for n in _FACE_COLUMNS))
    out: dict[str, tuple[int, dict[str, Any], bool]] = {}
    for chunk in _chunks(keys):
        for row in connection.execute(query.where(table.c.key.in_(chunk))):
            out[row[1]] = (row[0], dict(zip(_FACE_COLUMNS, row[3:], strict=True)), bool(row[2]))
    return out


def _face_ids(connection: Connection, keys: list[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in _chunks(keys):
        ids.update(
            {
                k: i
                for i, k in connection.execute(select(Face.id, Face.key).where(Face.key.in_(chunk)))
            }
        )
    return ids


def _asserted_before(connection: Connection, document_id: int) -> set[int]:
    """Faces the document holds: its own faces, and faces it currently labels."""
    own = connection.scalars(
        select(Face.id).where(Face.curation_document_id == document_id, Face.deleted.is_(False))
    )
    labelled = connection.scalars(
        select(Annotation.face_id)
        .where(Annotation.document_id == document_id, Annotation.retracted_at.is_(None))
        .distinct()
    )
    return set(own) | set(labelled)


def _flag_unlabelled(connection: Connection, face_ids: Sequence[int], now: dt.datetime) -> int:
    """Flag deleted the faces among ``face_ids`` that no source labels any more."""
    labelled: set[int] = set()
    for chunk in _chunks(face_ids):
        labelled.update(
            connection.scalars(
                select(CurrentLabel.face_id).where(CurrentLabel.face_id.in_(chunk)).distinct()
            )
        )
    gone = [face_id for face_id in face_ids if face_id not in labelled]
    flagged = 0
    for chunk in _chunks(gone):
        result = connection.execute(
            update(Face)
            .where(Face.id.in_(chunk), Face.deleted.is_(False))
            .values(deleted=True, deleted_at=now)
        )
        flagged += max(result.rowcount or 0, 0)
    return flagged


def retract_everything(connection: Connection, document_id: int, now: dt.datetime) -> int:
    """A document deleted upstream: withdraw all its labels; return faces flagged deleted."""
    held = sorted(_asserted_before(connection, document_id))
    sync_labels(connection, document_id, {face_id: () for face_id in held}, now)
    refresh_current_labels(connection, held)
    return _flag_unlabelled(connection, held, now)


def record_crops(connection: Connection, crops: Sequence[CropRecord]) -> None:
    """Point faces at their stored crops: a blob row per new content, one ``UPDATE`` batch.

    Identical crops (the same bytes for two faces) share one blob row. Raises
    ``IntegrityError`` when another ingest inserted the same blob row meanwhile; the caller
    retries (the row is then found).
    """
    if not crops:
        return
    blobs = _table(Blob)
    wanted = {crop.sha256: crop for crop in crops}
    known: set[str] = set()
    for chunk in _chunks(list(wanted)):
        known.update(connection.scalars(select(blobs.c.sha256).where(blobs.c.sha256.in_(chunk))))
    now = utcnow()
    rows = [
        {
            "sha256": sha256,
            "path": crop.path,
            "media_type": "image/jpeg",
            "width": crop.width,
            "height": crop.height,
            "bytes": crop.bytes,
            "request_url": crop.request_url,
            "created_at": now,
        }
        for sha256, crop in wanted.items()
        if sha256 not in known
    ]
    insert_rows(connection, blobs, rows)
    faces = _table(Face)
    connection.execute(
        update(faces)
        .where(faces.c.id == bindparam("face"))
        .values(blob_sha256=bindparam("blob"), crop_status="ok", crop_error=None),
        [{"face": crop.face_id, "blob": crop.sha256} for crop in crops],
    )
