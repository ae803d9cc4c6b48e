"""The app factory of ``kaokore web``: one read-only database, routers per area.

Why a factory taking a :class:`WebSettings`: tests build apps over SQLite and PostgreSQL
side by side, the CLI builds one from ``--db``/``--home``, and later areas (``--review``)
add routers through ``settings.extra_routers`` and ``settings.extend`` without editing this
file's routes.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import JSONResponse, Response

from kaokore import __version__
from kaokore.db.session import Database
from kaokore.errors import ArgumentError, KaokoreError
from kaokore.web.context import WebContext
from kaokore.web.database import open_read_only
from kaokore.web.headers import HeadersMiddleware
from kaokore.web.index import IndexCache
from kaokore.web.routes import api, board, charts, docs, face, faces, releases, works
from kaokore.web.routes.face import NotFound
from kaokore.web.search import url_parameter, warm_up
from kaokore.web.settings import WebSettings
from kaokore.web.templating import make_templates

__all__ = ["create_app"]

STATIC_DIR = Path(__file__).with_name("static")


def create_app(settings: WebSettings | None = None, *, database: Database | None = None) -> FastAPI:
    """Build the web app. ``database`` (already open) is used as is and left open; without it
    the database of ``settings`` is opened read-only and closed when the app shuts down."""
    settings = settings or WebSettings()
    owned = database is None
    db = database if database is not None else open_read_only(settings.database)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            db.close()

    app = FastAPI(
        title="kaokore",
        version=__version__,
        description=(
            "The KaoKore face database: faces with filters, facet counts, a face with its "
            "history, works. Read-only. Filters are those of `kaokore query faces`."
        ),
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    index = IndexCache(db, ttl=settings.cache_seconds)
    if settings.warm_up:
        index.on_build = functools.partial(warm_up, db, index)
    app.state.kaokore = WebContext(
        settings=settings,
        database=db,
        index=index,
        templates=make_templates(settings.template_dirs),
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (faces, face, works, charts, board, releases, api, docs):
        app.include_router(module.router)
    for router in settings.extra_routers:
        app.include_router(router)
    _handle_errors(app)

    app.add_middleware(HeadersMiddleware)
    for hook in settings.extend:
        hook(app)
    return app


def _handle_errors(app: FastAPI) -> None:
    """A bad filter value is a 400 with the library's one-line message (and its suggestions),
    naming the URL parameter; a missing face or work a 404; JSON under ``/api/``, a page
    elsewhere."""

    async def on_error(request: Request, exc: Exception) -> Response:
        status = 404 if isinstance(exc, NotFound) else 400
        message = str(exc)
        if isinstance(exc, ArgumentError):
            message = exc.worded(f"URL parameter {url_parameter(exc.argument)}")
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": message}, status_code=status)
        context: WebContext = request.app.state.kaokore
        return context.render(request, "error.html", status_code=status, message=message)

    app.add_exception_handler(KaokoreError, on_error)
