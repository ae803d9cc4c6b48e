"""Releases and changes: every built or imported release with its counts, and what changed
between two versions, releases or dates (``kaokore query diff``, the same function).

A side is what ``kaokore query diff`` takes: an official version (``1.3``,
``official:1.3``), a built release (``built:1.0``) or a date (``2024-05-01``); by default the
last two releases are compared.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select
from starlette.responses import HTMLResponse, Response

from kaokore.db.models import Release, ReleaseMember
from kaokore.query.diff import DiffResult, diff
from kaokore.web.context import WebContext, context_of

__all__ = ["release_list", "router"]

router = APIRouter(include_in_schema=False)
Context = Annotated[WebContext, Depends(context_of)]

#: Changes listed on the page (all of them are in the CSV).
SHOWN: Final = 500


def release_list(context: WebContext) -> list[dict[str, Any]]:
    with context.database.session() as session:
        members = dict(
            session.execute(
                select(ReleaseMember.release_id, func.count(ReleaseMember.id)).group_by(
                    ReleaseMember.release_id
                )
            ).all()
        )
        releases = session.scalars(select(Release).order_by(Release.built_at, Release.id)).all()
    out = []
    for release in releases:
        counts = release.counts_json or {}
        out.append(
            {
                "release": release,
                "side": f"{release.kind}:{release.version}",
                "members": int(members.get(release.id, 0)),
                "labelled": counts.get("labelled"),
                "gender": counts.get("gender") or {},
                "status": counts.get("status") or {},
            }
        )
    return out


def _sides(request: Request, releases: list[dict[str, Any]]) -> tuple[str, str] | None:
    a = (request.query_params.get("a") or "").strip()
    b = (request.query_params.get("b") or "").strip()
    if a and b:
        return a, b
    if len(releases) >= 2:
        return releases[-2]["side"], releases[-1]["side"]
    return None


def _diff(context: WebContext, sides: tuple[str, str]) -> DiffResult:
    return context.index.result(("diff", sides), lambda: diff(context.database, *sides))


@router.get("/releases", response_class=HTMLResponse)
def releases_page(request: Request, context: Context) -> HTMLResponse:
    releases = release_list(context)
    sides = _sides(request, releases)
    result = _diff(context, sides) if sides else None
    return context.render(
        request,
        "releases.html",
        releases=releases,
        sides=sides,
        result=result,
        summary=result.summary() if result else None,
        shown=result.changes[:SHOWN] if result else (),
    )


@router.get("/releases/diff.csv")
def diff_csv(request: Request, context: Context) -> Response:
    sides = _sides(request, release_list(context))
    rows = _diff(context, sides).as_dicts() if sides else []
    buffer = io.StringIO()
    columns = ["change", "face_id", "face_key", "label", "old", "new", "who", "when"]
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="kaokore-diff.csv"'},
    )
