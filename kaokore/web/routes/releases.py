"""Releases: every built or imported release with its counts, and what changed between two.

The difference of two releases is computed from their members: faces that entered or
left, and faces whose gender or status class changed between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select
from starlette.responses import HTMLResponse

from kaokore.db.models import Release, ReleaseMember
from kaokore.errors import UsageError
from kaokore.vocab import GENDER_CLASSES, STATUS_CLASSES
from kaokore.web.context import WebContext, context_of
from kaokore.web.routes.face import NotFound

__all__ = ["ReleaseDiff", "release_diff", "router"]

router = APIRouter(include_in_schema=False)
Context = Annotated[WebContext, Depends(context_of)]


@dataclass(frozen=True)
class ReleaseDiff:
    """Faces added, removed and relabelled between release ``old`` and release ``new``."""

    old: Release
    new: Release
    added: list[int]
    removed: list[int]
    relabelled: list[tuple[int, str, str, str]]  # face, category, before, after


def _class_name(category: str, index: int | None) -> str:
    classes = GENDER_CLASSES if category == "gender" else STATUS_CLASSES
    if index is None or not 0 <= index < len(classes):
        return "unlabelled"
    return f"{classes[index][0]} {classes[index][1]}"


def _members(context: WebContext, release_id: int) -> dict[int, tuple[int | None, int | None]]:
    with context.database.session() as session:
        return {
            face_id: (gender, status)
            for face_id, gender, status in session.execute(
                select(ReleaseMember.face_id, ReleaseMember.gender, ReleaseMember.status).where(
                    ReleaseMember.release_id == release_id, ReleaseMember.face_id.is_not(None)
                )
            )
            if face_id is not None
        }


def release_diff(context: WebContext, old_id: int, new_id: int) -> ReleaseDiff:
    with context.database.session() as session:
        old, new = session.get(Release, old_id), session.get(Release, new_id)
    if old is None or new is None:
        raise NotFound(f"No release with id {old_id if old is None else new_id}")
    before, after = _members(context, old_id), _members(context, new_id)
    relabelled = []
    for face_id in sorted(before.keys() & after.keys()):
        for position, category in enumerate(("gender", "status")):
            a, b = before[face_id][position], after[face_id][position]
            if a != b:
                relabelled.append(
                    (face_id, category, _class_name(category, a), _class_name(category, b))
                )
    return ReleaseDiff(
        old=old,
        new=new,
        added=sorted(after.keys() - before.keys()),
        removed=sorted(before.keys() - after.keys()),
        relabelled=relabelled,
    )


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
                "members": int(members.get(release.id, 0)),
                "labelled": counts.get("labelled"),
                "gender": counts.get("gender") or {},
                "status": counts.get("status") or {},
            }
        )
    return out


@router.get("/releases", response_class=HTMLResponse)
def releases_page(request: Request, context: Context) -> HTMLResponse:
    releases = release_list(context)
    diff = None
    old, new = request.query_params.get("old"), request.query_params.get("new")
    if old and new:
        if not (old.isdigit() and new.isdigit()):
            raise UsageError("URL parameters old and new: give release ids")
        diff = release_diff(context, int(old), int(new))
    elif len(releases) >= 2:
        diff = release_diff(context, releases[-2]["release"].id, releases[-1]["release"].id)
    return context.render(request, "releases.html", releases=releases, diff=diff)
