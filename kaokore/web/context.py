"""What every route needs: the settings, the read-only database, the index and templates.

Why one object on ``app.state``: routes in any module (and routers added later, such as a
review area) reach the same database and caches through :func:`context_of`, without
globals, so two apps in one process (SQLite and PostgreSQL in a test) stay apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from kaokore.db.session import Database
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
