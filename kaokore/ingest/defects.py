"""Upstream defects from the readers, as the db layer records them.

Why here: the readers (:mod:`kaokore.ingest.curation`, :mod:`kaokore.ingest.official`)
describe defects in their own terms (a JSON pointer, a file line); the db layer takes plain
:class:`kaokore.db.defects.DefectEntry` records and imports nothing from ``ingest``. This
module is the one place that maps the first onto the second.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.orm import Session

from kaokore.db.defects import DefectEntry, replace_defects
from kaokore.ingest.records import Defect

__all__ = ["describe", "entry_of", "record_file_findings"]


def entry_of(defect: Defect, stage: str = "curation") -> DefectEntry:
    """A reader's defect as the db layer stores it."""
    return DefectEntry(
        document_url=defect.url,
        stage=stage,
        pointer=defect.pointer,
        code=defect.code,
        reason=defect.reason,
        outcome=defect.outcome,
        subject=defect.member_uri,
    )


def describe(defect: Defect) -> str:
    """One line for the summary: where, and what was done."""
    return f"{defect.url} at {defect.pointer}: {defect.reason}"


def record_file_findings(
    session: Session,
    findings: Iterable[tuple[str, int | None, str, str]],
    files: Iterable[str],
) -> None:
    """Replace the recorded defects of official ``files`` by ``findings``.

    Each finding is (path, 1-based line or None, code, reason); an official file's defects
    are imported anyway, so every one is ``kept``. ``files`` lists every file read, so a
    file whose defects are gone loses its records.
    """
    by_file: dict[str, list[DefectEntry]] = defaultdict(list)
    for path, line, code, reason in findings:
        url = Path(path).as_uri()
        by_file[url].append(
            DefectEntry(
                document_url=url,
                stage="official",
                pointer=f"line {line}" if line is not None else "/",
                code=code,
                reason=reason,
                outcome="kept",
            )
        )
    for path in files:
        url = Path(path).as_uri()
        replace_defects(session, url, "official", by_file.get(url, []))
