"""A later area (a review mode, say) adds routes, templates and a navigation link through
``WebSettings`` without editing the built-in routes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.testclient import TestClient
from starlette.responses import HTMLResponse

from kaokore.web import WebSettings, create_app
from kaokore.web.context import WebContext, context_of
from tests.query.conftest import SmallDb


def test_an_area_adds_a_router_a_template_and_a_link(small_db: SmallDb, tmp_path: Path) -> None:
    (tmp_path / "queue.html").write_text(
        '{% extends "base.html" %}{% set nav = "/queue" %}'
        "{% block main %}<h1>Queue of {{ count }}</h1>{% endblock %}",
        encoding="utf-8",
    )
    router = APIRouter()

    @router.get("/queue", response_class=HTMLResponse)
    def queue(request: Request, context: WebContext = Depends(context_of)) -> HTMLResponse:  # noqa: B008
        return context.render(request, "queue.html", count=context.index.get().size)

    seen: list[Any] = []
    settings = WebSettings(
        database=small_db.database.settings,
        review=True,
        extra_routers=[router],
        extra_nav=[("Review", "/queue")],
        template_dirs=[tmp_path],
        extend=[seen.append],
    )
    app = create_app(settings)
    with TestClient(app) as client:
        html = client.get("/queue").text
        assert "<h1>Queue of 6</h1>" in html
        assert '<a href="/queue" aria-current="page">Review</a>' in html
        assert '<a href="/queue">Review</a>' in client.get("/faces").text
    assert seen == [app]
