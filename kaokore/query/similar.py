"""Nearest faces by embedding: ``kaokore similar FACE`` and ``kaokore.query.similar``.

Why: CODH's face board groups similar faces by hand; with stored embeddings (see
:mod:`kaokore.query.embeddings` for what each model is worth) the nearest faces to one face
come in a second, and ``other_works=True`` keeps only faces from *other* works, which is
where a shared workshop or model book shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kaokore.errors import ArgumentError, UsageError
from kaokore.query.connect import DatabaseLike, using_database
from kaokore.query.embeddings import DEFAULT_MODEL, load_vectors
from kaokore.query.faces import load_rows, resolve_face, select_faces
from kaokore.query.filters import FaceFilter
from kaokore.query.rows import FaceRow

__all__ = ["SimilarFace", "similar"]


@dataclass(frozen=True, kw_only=True, slots=True)
class SimilarFace:
    """A neighbour: the face, its cosine similarity to the query face, and its rank (1..k)."""

    rank: int
    score: float
    face: FaceRow

    def as_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "score": round(self.score, 6), **self.face.as_dict()}


def _same_work(a: FaceRow, b: FaceRow) -> bool:
    if a.work_key is not None and a.work_key == b.work_key:
        return True
    return a.work is not None and a.work == b.work


def similar(
    database: DatabaseLike,
    face: int | str,
    *,
    k: int = 10,
    model: str = DEFAULT_MODEL,
    other_works: bool = False,
    where: FaceFilter | None = None,
) -> tuple[FaceRow, list[SimilarFace]]:
    """The query face and its ``k`` nearest faces by cosine similarity under ``model``.

    ``where`` restricts the candidates, e.g. ``FaceFilter(status="warrior")``.
    ``other_works=True`` drops faces of the query face's work.
    """
    if k < 1:
        raise ArgumentError("k", k, "ask for at least one neighbour")
    face_filter = where or FaceFilter()
    with using_database(database) as db, db.session() as session:
        face_id = resolve_face(session, face)
        query_ids, query_vectors = load_vectors(session, model, [face_id])
        if not query_ids:
            raise UsageError(
                f"Face {face_id} has no {model!r} embedding. Compute them with "
                f"`kaokore similar --compute --model {model}` (faces need a stored crop)."
            )
        # Always through the filter: it also leaves out faces deleted upstream.
        ids, matrix = load_vectors(session, model, select_faces(session, face_filter))
        if matrix.shape[0] == 0 or matrix.shape[1] != query_vectors.shape[1]:
            return load_rows(session, [face_id])[0], []
        scores = matrix @ query_vectors[0]
        order = np.argsort(-scores, kind="stable")
        query_row = load_rows(session, [face_id])[0]
        picked: list[tuple[int, float]] = []
        pending: list[tuple[int, float]] = []
        for index in order:
            candidate = ids[int(index)]
            if candidate == face_id:
                continue
            pending.append((candidate, float(scores[int(index)])))
            if len(pending) >= 4 * k:  # load in batches; other_works may drop many
                picked += _keep(session, query_row, pending, other_works, k - len(picked))
                pending = []
                if len(picked) >= k:
                    break
        if len(picked) < k and pending:
            picked += _keep(session, query_row, pending, other_works, k - len(picked))
        rows = {row.face_id: row for row in load_rows(session, [face_id for face_id, _ in picked])}
    return query_row, [
        SimilarFace(rank=rank, score=score, face=rows[candidate])
        for rank, (candidate, score) in enumerate(picked[:k], start=1)
    ]


def _keep(
    session: Any, query_row: FaceRow, pending: list[tuple[int, float]], other_works: bool, room: int
) -> list[tuple[int, float]]:
    if room <= 0:
        return []
    if not other_works:
        return pending[:room]
    rows = {row.face_id: row for row in load_rows(session, [face_id for face_id, _ in pending])}
    kept = [
        (face_id, score) for face_id, score in pending if not _same_work(query_row, rows[face_id])
    ]
    return kept[:room]
