"""A face: its crop, the face in its page, every label with its history, similar faces."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.responses import FileResponse, HTMLResponse, Response

from kaokore.db.models import Blob, Face
from kaokore.errors import KaokoreError, UsageError
from kaokore.query.curation_export import canvas_region
from kaokore.query.faces import history, load_rows
from kaokore.query.rows import FaceRow
from kaokore.query.similar import SimilarFace, similar
from kaokore.web.context import WebContext, context_of
from kaokore.web.pages import page_labels
from kaokore.web.templating import safe_href

__all__ = ["face_row", "page_box", "router"]

router = APIRouter(include_in_schema=False)
Context = Annotated[WebContext, Depends(context_of)]


class NotFound(KaokoreError):
    """A face, work or release the URL names does not exist (answered with 404)."""


def face_row(context: WebContext, face_id: int) -> FaceRow:
    with context.database.session() as session:
        rows = load_rows(session, [face_id])
    if not rows:
        raise NotFound(f"No face with id {face_id}")
    return rows[0]


def page_box(row: FaceRow) -> dict[str, float] | None:
    """The face's box as percentages of its page image (for an overlay on the ``<img>``).

    Canvas coordinates when the face has a canvas of known size, else the crop square in
    image pixels.
    """
    region = canvas_region(row)
    if region is not None and row.canvas_width and row.canvas_height:
        x, y, w, h = region
        width, height = row.canvas_width, row.canvas_height
    elif row.image_width and row.image_height:
        x, y, w, h = row.square
        width, height = row.image_width, row.image_height
    else:
        return None
    return {
        "left": round(100 * max(0, x) / width, 3),
        "top": round(100 * max(0, y) / height, 3),
        "width": round(100 * min(w, width - max(0, x)) / width, 3),
        "height": round(100 * min(h, height - max(0, y)) / height, 3),
    }


def page_image_url(row: FaceRow, width: int) -> str | None:
    """The page image from the IIIF Image API (never asking for more than its width)."""
    base = safe_href(row.image_service)
    if base is None:
        return None
    wanted = min(width, row.image_width) if row.image_width else width
    return f"{base.rstrip('/')}/full/{wanted},/0/default.jpg"


def viewer_url(template: str, row: FaceRow) -> str | None:
    if not row.manifest_url or not row.canvas_uri:
        return None
    return template.format(
        manifest=quote(row.manifest_url, safe=""), canvas=quote(row.canvas_uri, safe="")
    )


@router.get("/faces/{face_id}", response_class=HTMLResponse)
def face_page(face_id: int, request: Request, context: Context) -> HTMLResponse:
    row = face_row(context, face_id)
    entries = history(context.database, face_id)
    with context.database.session() as session:
        work_id = session.scalar(select(Face.work_id).where(Face.id == face_id))
    neighbours: list[SimilarFace] = []
    similar_note = None
    try:
        _query, neighbours = similar(context.database, face_id, k=12)
    except UsageError as exc:
        similar_note = str(exc)
    with context.database.session() as session:
        labels = page_labels(session, [row.canvas_uri, *(n.face.canvas_uri for n in neighbours)])
    return context.render(
        request,
        "face.html",
        row=row,
        history=entries,
        neighbours=neighbours,
        similar_note=similar_note,
        box=page_box(row),
        page_image=page_image_url(row, context.settings.page_image_width),
        viewer=viewer_url(context.settings.viewer_url, row),
        canvas_region=canvas_region(row),
        page_labels=labels,
        page_label=labels.get(row.canvas_uri or ""),
        work_id=work_id,
    )


@router.get("/crops/{face_id}")
def crop(face_id: int, context: Context) -> Response:
    """The stored crop of a face, from the blob store (404 when it was never fetched)."""
    with context.database.session() as session:
        found = session.execute(
            select(Blob.path, Blob.media_type)
            .join(Face, Face.blob_sha256 == Blob.sha256)
            .where(Face.id == face_id)
        ).first()
    if found is None:
        return Response("no crop stored for this face", status_code=404, media_type="text/plain")
    root = Path(context.settings.blob_dir).resolve()
    path = (root / found.path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return Response("crop file missing", status_code=404, media_type="text/plain")
    return FileResponse(
        path, media_type=found.media_type, headers={"Cache-Control": "max-age=86400, immutable"}
    )
