"""Works: every work with its faces counted by status, and a work's faces in page order."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select
from starlette.responses import HTMLResponse

from kaokore.db.models import Canvas, Face, Work
from kaokore.query.faces import load_rows
from kaokore.query.rows import FaceRow
from kaokore.web.context import WebContext, context_of
from kaokore.web.pages import page_labels
from kaokore.web.routes.face import NotFound

__all__ = ["WorkSummary", "router", "work_summaries"]

router = APIRouter(include_in_schema=False)
Context = Annotated[WebContext, Depends(context_of)]


@dataclass(frozen=True)
class WorkSummary:
    """A work, its pages and its faces counted by status (from the facet index)."""

    id: int
    title: str | None
    holder: str | None
    record_id: str | None
    manifest_url: str | None
    pages: int
    faces: int
    by_status: dict[str, int]


def work_summaries(context: WebContext) -> list[WorkSummary]:
    """Every work with at least one face, most faces first."""
    index = context.index.get()
    status = index.columns["status"]
    per_work: dict[int, Counter[str]] = {}
    face_work = index.work_ids[status.positions]
    for work_id, code in zip(face_work.tolist(), status.codes.tolist(), strict=True):
        per_work.setdefault(work_id, Counter())[status.values[code]] += 1
    totals = Counter(index.work_ids.tolist())
    with context.database.session() as session:
        works = session.scalars(select(Work)).all()
        pages = dict(
            session.execute(
                select(Canvas.work_id, func.count(Canvas.id)).group_by(Canvas.work_id)
            ).all()
        )
    out = [
        WorkSummary(
            id=work.id,
            title=work.label,
            holder=work.holder,
            record_id=work.record_id,
            manifest_url=work.manifest_url,
            pages=int(pages.get(work.id, 0)),
            faces=int(totals.get(work.id, 0)),
            by_status=dict(per_work.get(work.id, Counter()).most_common()),
        )
        for work in works
        if totals.get(work.id, 0)
    ]
    return sorted(out, key=lambda w: (-w.faces, w.title or ""))


def statuses(summaries: list[WorkSummary]) -> list[str]:
    """The status values present, most frequent first (the columns of the works table)."""
    total: Counter[str] = Counter()
    for summary in summaries:
        total.update(summary.by_status)
    return [value for value, _ in total.most_common()]


@router.get("/works", response_class=HTMLResponse)
def works_page(request: Request, context: Context) -> HTMLResponse:
    summaries = work_summaries(context)
    return context.render(
        request,
        "works.html",
        works=summaries,
        statuses=statuses(summaries),
        total=sum(w.faces for w in summaries),
    )


def faces_in_page_order(context: WebContext, work_id: int) -> tuple[Work, list[FaceRow]]:
    """A work's faces ordered by page, then right to left and top to bottom on the page
    (the reading order of a Japanese scroll or book)."""
    index = context.index.get()
    present = set(index.ids[index.work_ids == work_id].tolist()) if index.size else set()
    with context.database.session() as session:
        work = session.get(Work, work_id)
        if work is None:
            raise NotFound(f"No work with id {work_id}")
        ids = [
            face_id
            for face_id in session.scalars(
                select(Face.id)
                .outerjoin(Canvas, Canvas.id == Face.canvas_id)
                .where(Face.work_id == work_id, Face.deleted.is_(False))
                .order_by(
                    Canvas.position.is_(None),
                    Canvas.position,
                    (Face.square_x + Face.square_w).desc(),
                    Face.square_y,
                    Face.id,
                )
            )
            if face_id in present or not present
        ]
        rows = load_rows(session, ids)
    return work, rows


@router.get("/works/{work_id}", response_class=HTMLResponse)
def work_page(work_id: int, request: Request, context: Context) -> HTMLResponse:
    work, rows = faces_in_page_order(context, work_id)
    groups: list[tuple[str, list[FaceRow]]] = []
    with context.database.session() as session:
        labels = page_labels(session, (row.canvas_uri for row in rows))
    for row in rows:
        page = labels.get(row.canvas_uri or "", "page unknown")
        if not groups or groups[-1][0] != page:
            groups.append((page, []))
        groups[-1][1].append(row)
    return context.render(
        request, "work.html", work=work, groups=groups, total=len(rows), page_labels=labels
    )
