"""Keeping ``current_labels`` equal to :func:`kaokore.db.truth.current_labels` of the history.

Why a stored table and not a view: the rule (newest version of a dataset, then per label the
best source, then one copy of each value) needs window-like logic that SQLite would redo for
every face of every correlated subquery; stored once per write, every reader gets it with
an index seek, and every reader gets the same answer. The price is that every writer must
call :func:`refresh_current_labels` for the faces it touched: the write path
(:mod:`kaokore.db.writer`) does, and :func:`refresh_current_labels` with no faces rebuilds
the whole table (the migration that introduced it does that).

The same call keeps ``period_terms`` covering every current 制作年 value, explicitly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, select, update

from kaokore.db.fastrows import insert_rows, raw, result_converter
from kaokore.db.models import Annotation, CurrentLabel, Document
from kaokore.db.models_research import PERIOD_LABEL
from kaokore.db.period_terms import ensure_period_terms
from kaokore.db.truth import Claim, Current, current_labels

__all__ = [
    "OFFICIAL_DATASET",
    "claims_of",
    "faces_of_documents",
    "refresh_current_labels",
    "supersede_versions",
    "version_order",
]

#: The dataset name of the official KaoKore ``original_tags.txt`` files.
OFFICIAL_DATASET = "kaokore-official"
#: Faces per round trip: under SQLite's oldest limit on bound parameters (999).
CHUNK = 900


def version_order(version: str) -> tuple[tuple[int, int | str], ...]:
    """Order versions naturally: ``1.10`` after ``1.9``, numbers before words."""
    parts = re.split(r"[.\-_+]", version.strip().removeprefix("v"))
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in parts)


def _chunks(values: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def supersede_versions(connection: Connection, dataset: str) -> set[int]:
    """Mark every version of ``dataset`` but the newest as superseded by the newest.

    Returns the ids of the documents whose state changed (their faces need a refresh).
    """
    rows = connection.execute(
        select(Document.id, Document.dataset_version, Document.superseded_by_id).where(
            Document.dataset == dataset
        )
    ).all()
    if not rows:
        return set()
    newest = max(rows, key=lambda row: (version_order(row[1] or ""), row[0]))[0]
    changed: set[int] = set()
    for doc_id, _version, superseded_by in rows:
        wanted = None if doc_id == newest else newest
        if superseded_by != wanted:
            connection.execute(
                update(Document).where(Document.id == doc_id).values(superseded_by_id=wanted)
            )
            changed.add(doc_id)
    return changed


def faces_of_documents(connection: Connection, document_ids: Iterable[int]) -> set[int]:
    """The faces any annotation of ``document_ids`` is about."""
    ids = sorted(set(document_ids))
    faces: set[int] = set()
    for chunk in _chunks(ids):
        faces.update(
            connection.scalars(
                select(Annotation.face_id).where(Annotation.document_id.in_(chunk)).distinct()
            )
        )
    return faces


_CLAIM_COLUMNS = (
    Annotation.face_id,
    Annotation.id,
    Annotation.label,
    Annotation.value,
    Annotation.raw_value,
    Annotation.agent,
    Annotation.position,
    Annotation.document_id,
    raw(Annotation.asserted_at),
    raw(Annotation.retracted_at),
)


def claims_of(
    connection: Connection, face_ids: Sequence[int] | None = None
) -> dict[int, list[Claim]]:
    """Every annotation of ``face_ids`` (all faces when None) as claims, per face."""
    superseded = set(
        connection.scalars(select(Document.id).where(Document.superseded_by_id.is_not(None)))
    )
    query = select(*_CLAIM_COLUMNS)
    queries = (
        [query]
        if face_ids is None
        else [query.where(Annotation.face_id.in_(chunk)) for chunk in _chunks(face_ids)]
    )
    out: dict[int, list[Claim]] = {face_id: [] for face_id in face_ids or ()}
    moment = result_converter(connection, Annotation.asserted_at)
    for one in queries:
        for (
            face_id,
            id_,
            label,
            value,
            raw_value,
            agent,
            position,
            doc,
            at,
            retracted_raw,
        ) in connection.execute(one):
            retracted = moment(retracted_raw)
            out.setdefault(face_id, []).append(
                Claim(
                    annotation_id=id_,
                    label=label,
                    value=value,
                    raw_value=raw_value,
                    agent=agent,
                    position=position,
                    document_id=doc,
                    asserted_at=moment(at),
                    retracted=retracted is not None,
                    retracted_at=retracted,
                    superseded=doc in superseded,
                )
            )
    return out


def _row(face_id: int, current: Current) -> dict[str, Any]:
    claim = current.claim
    return {
        "face_id": face_id,
        "label": current.label,
        "position": current.position,
        "value": claim.value,
        "raw_value": claim.raw_value,
        "agent": claim.agent,
        "annotation_id": claim.annotation_id,
        "document_id": claim.document_id,
        "asserted_at": claim.asserted_at,
    }


def refresh_current_labels(connection: Connection, face_ids: Iterable[int] | None = None) -> int:
    """Recompute ``current_labels`` for ``face_ids`` (every face when None); rows written.

    Also adds the ``period_terms`` rows of the current 制作年 values that lack one.
    """
    table = _table(CurrentLabel)
    ids = None if face_ids is None else sorted(set(face_ids))
    if ids is None:
        connection.execute(delete(table))
    else:
        for chunk in _chunks(ids):
            connection.execute(delete(table).where(table.c.face_id.in_(chunk)))
    rows: list[dict[str, Any]] = []
    periods: set[str] = set()
    for face_id, claims in claims_of(connection, ids).items():
        for current in current_labels(claims):
            rows.append(_row(face_id, current))
            if current.label == PERIOD_LABEL:
                periods.add(current.value)
    insert_rows(connection, table, rows)
    ensure_period_terms(connection, periods)
    return len(rows)
