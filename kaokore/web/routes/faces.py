"""The faces page: facets with live counts, a free-text box and a paged grid of crops."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from kaokore.web.context import WebContext, context_of
from kaokore.web.pages import page_labels
from kaokore.web.search import Search, describe, facet_views, matching, page_ids

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Context = Annotated[WebContext, Depends(context_of)]


def search_of(request: Request, context: WebContext) -> Search:
    """The search the URL states, within the app's page-size limits."""
    return Search.from_params(
        request.query_params,
        default_size=context.settings.page_size,
        max_size=context.settings.max_page_size,
    )


@router.get("/")
def home() -> Response:
    return RedirectResponse("/faces", status_code=302)


@router.get("/faces", response_class=HTMLResponse)
def faces_page(request: Request, context: Context) -> HTMLResponse:
    search = search_of(request, context)
    index = context.index.get()
    views = facet_views(context.database, context.index, search)
    mask = matching(context.database, context.index, search)
    ids, total = page_ids(index, mask, search, context.index)
    rows = context.rows(ids)
    with context.database.session() as session:
        labels = page_labels(session, (row.canvas_uri for row in rows))
    pages = max(1, (total + search.size - 1) // search.size)
    return context.render(
        request,
        "faces.html",
        search=search,
        facets=views,
        rows=rows,
        page_labels=labels,
        total=total,
        all_faces=index.size,
        pages=pages,
        description=describe(search),
        previous_url=search.url("/faces", page=search.page - 1) if search.page > 1 else None,
        next_url=search.url("/faces", page=search.page + 1) if search.page < pages else None,
        clear_url="/faces",
    )
