"""What every route needs: the settings, the read-only database, the index and templates.

Why one object on ``app.state``: routes in any module (and routers added later, such as a
review area) reach the same database and caches through :func:`context_of`, without
globals, so two apps in one process (SQLite and PostgreSQL in a test) stay apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from kaokore.db.session import Database
from kaokore.query.faces import load_rows
from kaokore.query.rows import FaceRow
from kaokore.web.index import IndexCache
from kaokore.web.settings import WebSettings

__all__ = ["WebContext", "context_of"]


@dataclass
class WebContext:
    """The state shared by the routes of one app."""

    settings: WebSettings
    database: Database
    index: IndexCache
    templates: Jinja2Templates

    def rows(self, ids: Sequence[int]) -> list[FaceRow]:
        """Full rows of ``ids`` (the query layer's :func:`load_rows`), in order, cached."""

        def load(missing: list[int]) -> list[FaceRow]:
            with self.database.session() as session:
                return load_rows(session, missing)

        return self.index.rows(ids, load)

    def render(
        self, request: Request, template: str, status_code: int = 200, **values: Any
    ) -> HTMLResponse:
        """Render a page; every value is escaped by the template environment."""
        return self.templates.TemplateResponse(
            request, template, {"settings": self.settings, **values}, status_code=status_code
        )


def context_of(request: Request) -> WebContext:
    """The :class:`WebContext` of the app serving ``request`` (a FastAPI dependency)."""
    context: WebContext = request.app.state.kaokore
    return context
