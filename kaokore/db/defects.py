"""Recording and reading upstream defects (see :mod:`kaokore.db.models_defects`).

The harvester and the official importer hand over plain :class:`DefectEntry` records (the db
layer imports nothing from ``ingest``); :func:`replace_defects` makes a document's stored
defects equal what its latest reading found, keeping ``first_seen`` for those that persist.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kaokore.db.models import utcnow
from kaokore.db.models_defects import DocumentDefect

__all__ = ["DefectEntry", "clear_defects", "count_defects", "list_defects", "replace_defects"]


@dataclass(frozen=True, kw_only=True, slots=True)
class DefectEntry:
    """A defect as the db layer stores it (see :class:`DocumentDefect` for the fields)."""

    document_url: str
    stage: str
    pointer: str
    code: str
    reason: str
    outcome: str
    subject: str | None = None

    @property
    def identity(self) -> tuple[str, str, str, str | None]:
        return (self.pointer, self.code, self.reason, self.subject)


def replace_defects(
    session: Session,
    document_url: str,
    stage: str,
    entries: Iterable[DefectEntry],
    *,
    now: dt.datetime | None = None,
    subjects: Iterable[str] | None = None,
) -> int:
    """Make the stored defects of ``document_url`` at ``stage`` equal ``entries``.

    With ``subjects``, only the defects of those subjects are replaced (the crop stage
    re-reads one face at a time). Returns how many defects the document now has there.
    """
    now = now or utcnow()
    wanted = {entry.identity: entry for entry in entries}
    query = select(DocumentDefect).where(
        DocumentDefect.document_url == document_url, DocumentDefect.stage == stage
    )
    scope = set(subjects) if subjects is not None else None
    if scope is not None:
        query = query.where(DocumentDefect.subject.in_(scope))
    kept = 0
    for row in session.scalars(query):
        identity = (row.pointer, row.code, row.reason, row.subject)
        if identity in wanted:
            row.last_seen = now
            del wanted[identity]
            kept += 1
        else:
            session.delete(row)
    for entry in wanted.values():
        session.add(
            DocumentDefect(
                document_url=document_url,
                stage=stage,
                pointer=entry.pointer,
                code=entry.code,
                reason=entry.reason,
                outcome=entry.outcome,
                subject=entry.subject,
                first_seen=now,
                last_seen=now,
            )
        )
    return kept + len(wanted)


def clear_defects(session: Session, document_url: str) -> None:
    """Forget every defect of a document (it was deleted upstream)."""
    session.execute(delete(DocumentDefect).where(DocumentDefect.document_url == document_url))


def count_defects(session: Session) -> Counter[tuple[str, str]]:
    """Stored defects counted by (code, outcome)."""
    query = select(DocumentDefect.code, DocumentDefect.outcome, func.count()).group_by(
        DocumentDefect.code, DocumentDefect.outcome
    )
    return Counter({(code, outcome): n for code, outcome, n in session.execute(query)})


def list_defects(
    session: Session, *, code: str | None = None, limit: int | None = None
) -> list[DocumentDefect]:
    """Stored defects, by document and pointer; of one ``code`` when given."""
    query = select(DocumentDefect).order_by(
        DocumentDefect.document_url, DocumentDefect.pointer, DocumentDefect.id
    )
    if code is not None:
        query = query.where(DocumentDefect.code == code)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))
