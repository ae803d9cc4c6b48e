"""``kaokore web``: the face database in a browser (extra ``web``)."""

from __future__ import annotations

import importlib.util
from typing import Annotated

import typer

from kaokore.commands.common import err_console, settings_of
from kaokore.errors import UsageError

__all__ = ["web"]


def _require_web_extra() -> None:
    for name in ("fastapi", "jinja2", "uvicorn"):
        if importlib.util.find_spec(name) is None:
            raise UsageError(
                f"kaokore web needs {name}, which is not installed. "
                "Install the web extra: pip install 'kaokore[web]'"
            )


def web(
    ctx: typer.Context,
    host: Annotated[
        str,
        typer.Option(
            "--host", help="Address to listen on; other machines can connect only if you say so."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="Port (0: any free port).")] = 8000,
    page_size: Annotated[
        int, typer.Option("--page-size", min=1, max=200, help="Faces per grid page.")
    ] = 60,
) -> None:
    """Browse the database in a web browser: faceted faces, a face in its page, works, charts,
    a board exported as a IIIF curation, releases, and a JSON API under /api/.

    Read-only: the database is opened so that it cannot be written. Binds 127.0.0.1 unless
    `--host` says otherwise. Page images come from each face's IIIF image service; when its
    host is not reachable, the page says so and shows the stored crop.

    Examples:

    ```
    kaokore --home kaokore-demo web          # then open http://127.0.0.1:8000/
    kaokore web --port 9000
    kaokore --db postgresql+psycopg://kaokore@localhost/kaokore web
    ```
    """
    _require_web_extra()
    import uvicorn

    from kaokore.web import WebSettings, create_app

    app = create_app(WebSettings(database=settings_of(ctx), page_size=page_size))
    err_console.print(f"kaokore web: http://{host}:{port}/ (read-only; Ctrl-C stops)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
