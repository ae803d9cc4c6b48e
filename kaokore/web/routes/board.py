"""The board: faces picked on any page, laid side by side, exported as a curation, CSV or PNG.

The picked faces live in the browser (``localStorage``, by a small script) and travel to
the server only as ``?ids=3,17,42`` in the board's URL, which is therefore shareable too.
The curation is written by :func:`kaokore.query.curation_export.curation_document`, the
writer of ``kaokore export curation``.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse, Response

from kaokore.errors import UsageError
from kaokore.query.contact import contact_sheet
from kaokore.query.curation_export import curation_document
from kaokore.query.rows import FACE_COLUMNS, FaceRow
from kaokore.web.context import WebContext, context_of
from kaokore.web.pages import page_labels

__all__ = ["board_ids", "router"]

router = APIRouter(include_in_schema=False)
Context = Annotated[WebContext, Depends(context_of)]


def board_ids(text: str, limit: int) -> list[int]:
    """``3,17,42`` -> [3, 17, 42] (order kept, repeats dropped, at most ``limit``)."""
    ids: list[int] = []
    for part in text.replace(" ", ",").split(","):
        if not part:
            continue
        if not part.isdigit():
            raise UsageError(f"URL parameter ids: {part!r} is not a face id")
        ids.append(int(part))
    ids = list(dict.fromkeys(ids))
    if len(ids) > limit:
        raise UsageError(f"A board holds at most {limit} faces; {len(ids)} were given")
    return ids


def _rows(request: Request, context: WebContext) -> list[FaceRow]:
    ids = board_ids(request.query_params.get("ids", ""), context.settings.max_board)
    return context.rows(ids)


def _label(request: Request) -> str:
    return (request.query_params.get("label") or "kaokore board").strip()[:200]


@router.get("/board", response_class=HTMLResponse)
def board_page(request: Request, context: Context) -> HTMLResponse:
    rows = _rows(request, context)
    query = ",".join(str(row.face_id) for row in rows)
    with context.database.session() as session:
        labels = page_labels(session, (row.canvas_uri for row in rows))
    return context.render(
        request, "board.html", rows=rows, ids=query, label=_label(request), page_labels=labels
    )


@router.get("/board/curation.json")
def board_curation(request: Request, context: Context) -> Response:
    rows = _rows(request, context)
    exported = curation_document(rows, label=_label(request))
    return Response(
        exported.to_json(),
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="kaokore-board-curation.json"',
            "X-Kaokore-Skipped": str(exported.skipped),
        },
    )


@router.get("/board/faces.csv")
def board_csv(request: Request, context: Context) -> Response:
    rows = _rows(request, context)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(FACE_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(row.as_dict() for row in rows)
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="kaokore-board.csv"'},
    )


@router.get("/board/contact.png")
def board_contact(request: Request, context: Context) -> Response:
    rows = _rows(request, context)
    with tempfile.TemporaryDirectory(prefix="kaokore-board-") as folder:
        out = contact_sheet(rows, Path(folder) / "board.png", blob_dir=context.settings.blob_dir)
        body = out.read_bytes()
    return Response(
        body,
        media_type="image/png",
        headers={"Content-Disposition": 'attachment; filename="kaokore-board.png"'},
    )
