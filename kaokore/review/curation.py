"""Reviewed labels as a ``cr:Curation``, so they can flow back to the Curation Platform.

Why a curation: CODH's face collection is edited as curations in the IIIF Curation Platform,
whose editor opens a ``cr:Curation`` document. Exporting each reviewed face as a member with
its labels (the reviewer's value in place of the experts' for each reviewed label) gives the
curators a document they can load, look at on the pages, and accept upstream. Faces without a
canvas cannot be members (the viewer could not show them) and are counted as skipped, as in
:mod:`kaokore.query.curation_export`, whose writer this reuses.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from kaokore.db.models_review import Review
from kaokore.query.connect import DatabaseLike, using_database
from kaokore.query.curation_export import CurationExport, curation_document
from kaokore.query.faces import load_rows
from kaokore.query.rows import Label
from kaokore.vocab import category_key

__all__ = ["reviewed_curation"]


def reviewed_curation(
    database: DatabaseLike,
    *,
    out: Path | None = None,
    curation_id: str | None = None,
    label: str = "kaokore: reviewed labels",
) -> CurationExport:
    """The faces with a current review, as a ``cr:Curation`` (written to ``out`` if given).

    Each member's metadata are the face's current human labels, the newest review's value in
    place of the experts' for every reviewed label; machine labels are left out.
    """
    with using_database(database) as db, db.session() as session:
        newest: dict[int, dict[str, str]] = {}
        query = (
            select(Review.face_id, Review.task, Review.value)
            .where(Review.undone_at.is_(None))
            .order_by(Review.decided_at, Review.id)
        )
        for face_id, task, value in session.execute(query):
            newest.setdefault(face_id, {})[category_key(task)] = value
        rows = load_rows(session, sorted(newest))
    reviewed_rows = []
    for row in rows:
        reviewed = newest[row.face_id]
        kept = [item for item in row.labels if item.agent == "human" and item.label not in reviewed]
        added = [
            Label(label=key, value=value, raw_value=value, agent="human", position=0)
            for key, value in sorted(reviewed.items())
        ]
        reviewed_rows.append(replace(row, labels=tuple(kept + added)))
    result = curation_document(reviewed_rows, curation_id=curation_id, label=label)
    if out is not None:
        Path(out).write_text(result.to_json(), encoding="utf-8")
    return result
