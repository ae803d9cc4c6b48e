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
    warm_up: Annotated[
        bool,
        typer.Option(
            "--warm-up/--no-warm-up",
            help="After start, compute in the background the answers for the facet values "
            "the faces page offers first.",
        ),
    ] = True,
    review: Annotated[
        bool,
        typer.Option(
            "--review",
            help="Review mode: reviewers (kaokore users add) log in and label the faces the "
            "model is least sure of. Only their decisions are written.",
        ),
    ] = False,
    task: Annotated[
        str, typer.Option("--task", help="Review mode: the label reviewed first (gender, status).")
    ] = "gender",
    order: Annotated[
        str,
        typer.Option("--order", help="Review mode: confidence (least confident first) or random."),
    ] = "confidence",
    session_minutes: Annotated[
        float,
        typer.Option(
            "--session-minutes", min=1, help="Review mode: idle minutes before a login expires."
        ),
    ] = 30,
) -> None:
    """Browse the database in a web browser: faceted faces, a face in its page, works, charts,
    a board exported as a IIIF curation, releases, and a JSON API under /api/.

    Read-only: the database is opened so that it cannot be written. With `--review`, reviewers
    log in (sessions expire, failed logins are rate-limited, every form carries a CSRF token)
    and their decisions are written through one writer connection; nothing else is. Binds
    127.0.0.1 unless `--host` says otherwise. Page images come from each face's IIIF image
    service; when its host is not reachable, the page says so and shows the stored crop.

    Examples:

    ```
    kaokore --home kaokore-demo web          # then open http://127.0.0.1:8000/
    kaokore web --port 9000
    kaokore web --review --task status --order confidence
    kaokore --db postgresql+psycopg://kaokore@localhost/kaokore web
    ```
    """
    _require_web_extra()
    import uvicorn

    from kaokore.web import WebSettings, create_app

    settings = WebSettings(database=settings_of(ctx), page_size=page_size, warm_up=warm_up)
    writer = None
    if review:
        from kaokore.commands.review import require_review_extra
        from kaokore.db import open_database
        from kaokore.review.queue import ORDERS
        from kaokore.review.store import TASKS
        from kaokore.web.review import ReviewOptions, with_review

        require_review_extra("kaokore web --review")
        if task not in TASKS or order not in ORDERS:
            raise UsageError(
                f"--task {task} --order {order}: use gender or status, and confidence or random."
            )
        writer = open_database(settings.database, create=False)
        options = ReviewOptions(task=task, order=order, idle_minutes=session_minutes)
        settings = with_review(settings, writer, options)
    app = create_app(settings)
    mode = "review mode: decisions are written" if review else "read-only"
    err_console.print(f"kaokore web: http://{host}:{port}/ ({mode}; Ctrl-C stops)")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        if writer is not None:
            writer.close()
