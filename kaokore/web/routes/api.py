"""The JSON API under ``/api/``: faces with filters, a face, facet counts, works.

Documented by FastAPI's OpenAPI (``/api/openapi.json``, browsable at ``/api/docs``). Filters
are those of ``kaokore query faces`` under the same names; a page holds at most
:data:`MAX_PAGE_SIZE` faces (larger ``size`` values are refused with 422).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from kaokore.query.faces import history
from kaokore.query.rows import FaceRow
from kaokore.web.context import WebContext, context_of
from kaokore.web.routes.face import face_row
from kaokore.web.routes.works import work_summaries
from kaokore.web.search import Search, facet_views, matching, page_ids

__all__ = ["MAX_PAGE_SIZE", "router"]

MAX_PAGE_SIZE: Final = 200
router = APIRouter(prefix="/api", tags=["faces"])
Context = Annotated[WebContext, Depends(context_of)]
Many = Annotated[list[str], Query()]


class LabelOut(BaseModel):
    label: str
    value: str
    raw_value: str
    agent: str
    position: int


class FaceOut(BaseModel):
    """A face as ``kaokore query faces --format json`` writes it, plus its current labels."""

    face_id: int
    face_key: str
    work: str | None
    holder: str | None
    holder_en: str | None
    record_id: str | None
    gender: str | None
    gender_en: str | None
    status: str | None
    status_en: str | None
    orientation: str | None
    orientation_en: str | None
    tags: str
    period_raw: str
    period_from: int | None
    period_to: int | None
    agents: str
    work_key: str | None
    manifest_url: str | None
    canvas_uri: str | None
    image_service: str | None
    member_uri: str | None
    region: str | None
    square: str
    blob_sha256: str | None
    file_number: int | None
    crop_url: str | None = Field(description="This server's URL of the stored crop, if any")
    labels: list[LabelOut] = []


class FacesPage(BaseModel):
    total: int = Field(description="Faces matching the filters")
    page: int
    size: int
    faces: list[FaceOut]


class HistoryOut(BaseModel):
    annotation_id: int
    label: str
    label_en: str | None
    value: str
    raw_value: str
    agent: str
    position: int
    document_url: str | None
    document_kind: str | None
    asserted_at: str
    retracted_at: str | None
    current: bool


class FaceDetail(FaceOut):
    history: list[HistoryOut]


class FacetValueOut(BaseModel):
    value: str
    english: str | None
    count: int
    selected: bool


class FacetOut(BaseModel):
    name: str
    heading: str
    values: list[FacetValueOut]


class FacetsOut(BaseModel):
    total: int
    facets: list[FacetOut]


class WorkOut(BaseModel):
    id: int
    title: str | None
    holder: str | None
    record_id: str | None
    manifest_url: str | None
    pages: int
    faces: int
    by_status: dict[str, int]


def api_search(
    request: Request,
    context: Context,
    work: Many = [],  # noqa: B006 - FastAPI copies defaults
    holder: Many = [],  # noqa: B006
    record_id: Many = [],  # noqa: B006
    gender: Many = [],  # noqa: B006
    status: Many = [],  # noqa: B006
    orientation: Many = [],  # noqa: B006
    tag: Annotated[list[str], Query(description="All tags must be present")] = [],  # noqa: B006
    text: Annotated[str, Query(description="Substring of any label value or English name")] = "",
    period: Annotated[str, Query(description="1600-1650, 1651, 江戸前期, early edo ...")] = "",
    agent: Annotated[str, Query(description="human or machine")] = "",
    release: Annotated[str, Query(description="1.3, official:1.3, built:1.0")] = "",
    crop: Annotated[str, Query(pattern="^(yes|no)?$", description="Has a stored crop")] = "",
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> Search:
    """The filters of ``kaokore query faces`` as query parameters (repeat for several)."""
    return Search.from_params(
        request.query_params,
        default_size=min(50, context.settings.max_page_size),
        max_size=min(MAX_PAGE_SIZE, context.settings.max_page_size),
    )


SearchDep = Annotated[Search, Depends(api_search)]


def face_out(row: FaceRow, base_url: str) -> dict[str, Any]:
    data = row.as_dict()
    data["crop_url"] = f"{base_url}crops/{row.face_id}" if row.blob_path else None
    data["labels"] = [
        {
            "label": label.label,
            "value": label.value,
            "raw_value": label.raw_value,
            "agent": label.agent,
            "position": label.position,
        }
        for label in row.labels
    ]
    return data


def _dumps(data: Any) -> str:
    """JSON written directly, not through the response models: the shapes are the documented
    models (tested), and each face's JSON is kept (with its row) once written, so a page of
    faces costs a join instead of fifty encodings and validations."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


@router.get("/faces", response_model=FacesPage, summary="Faces matching filters, paged")
def api_faces(request: Request, context: Context, search: SearchDep) -> Response:
    index = context.index.get()
    mask = matching(context.database, context.index, search)
    ids, total = page_ids(index, mask, search, context.index)
    rows = context.rows(ids)
    base = str(request.base_url)

    def encoded(row: FaceRow) -> str:
        return context.index.fragment(
            ("api-face", row.face_id, base), lambda: _dumps(face_out(row, base))
        )

    head = _dumps({"total": total, "page": search.page, "size": search.size})
    body = f'{head[:-1]},"faces":[{",".join(encoded(row) for row in rows)}]}}'
    return Response(body.encode(), media_type="application/json")


@router.get("/faces/{face_id}", response_model=FaceDetail, summary="One face with its history")
def api_face(face_id: int, request: Request, context: Context) -> dict[str, Any]:
    row = face_row(context, face_id)
    return {
        **face_out(row, str(request.base_url)),
        "history": [entry.as_dict() for entry in history(context.database, face_id)],
    }


@router.get("/facets", response_model=FacetsOut, summary="Facet counts under filters")
def api_facets(context: Context, search: SearchDep) -> dict[str, Any]:
    views = facet_views(context.database, context.index, search)
    total = int(matching(context.database, context.index, search).sum())
    return {
        "total": total,
        "facets": [
            {
                "name": view.name,
                "heading": view.heading,
                "values": [
                    {
                        "value": v.value,
                        "english": v.english,
                        "count": v.count,
                        "selected": v.selected,
                    }
                    for v in view.values
                ],
            }
            for view in views
        ],
    }


@router.get("/works", response_model=list[WorkOut], summary="Works with face counts by status")
def api_works(context: Context) -> list[dict[str, Any]]:
    return [summary.__dict__ for summary in work_summaries(context)]
