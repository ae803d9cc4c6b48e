"""The review area of ``kaokore web --review``: login, the queue, decisions, undo, logout.

Every page reads through the app's read-only database; only :func:`decide` and :func:`undo`
write, through the one writer connection this router is built with, and only by calling
:func:`kaokore.review.record_decision` / :func:`kaokore.review.undo_decision`. Every ``POST``
needs a live session and its CSRF token (the login form a double-submit token); a refused
request writes nothing. The pages work without JavaScript (plain forms); ``review.js`` adds
the keyboard shortcuts.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from kaokore.db.session import Database
from kaokore.errors import KaokoreError, UsageError
from kaokore.query.faces import faces
from kaokore.query.filters import FaceFilter
from kaokore.query.rows import FaceRow
from kaokore.query.similar import similar
from kaokore.review.queue import ORDERS, SCOPES, QueueItem, review_queue
from kaokore.review.store import TASKS, record_decision, undo_decision
from kaokore.review.users import authenticate
from kaokore.vocab import english_value
from kaokore.web.context import WebContext, context_of
from kaokore.web.review.auth import (
    COOKIE,
    LOGIN_COOKIE,
    LoginLimiter,
    ReviewSession,
    SessionStore,
    tokens_match,
)
from kaokore.web.routes.face import face_row, page_box, page_image_url

__all__ = ["ReviewOptions", "install_refusals", "review_router"]

Context = Annotated[WebContext, Depends(context_of)]
_KEY: Final = {"gender": "性別", "status": "身分"}
#: Neighbours shown beside the face.
_SIMILAR: Final = 8


@dataclass(frozen=True, kw_only=True)
class ReviewOptions:
    """The queue's defaults and the session limits of one server."""

    task: str = "gender"
    order: str = "confidence"
    scope: str = "unlabelled"
    seed: int = 0
    idle_minutes: float = 30.0
    max_hours: float = 8.0
    max_failures: int = 5
    failure_window_minutes: float = 15.0


class Refused(Exception):
    """A writing request without a live session or a valid CSRF token."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _page(
    context: WebContext, request: Request, template: str, status_code: int = 200, **values: Any
) -> Response:
    """A review page. Its forms' requests carry their ``Origin`` (``same-origin``: the app's
    ``no-referrer`` would make the browser send ``Origin: null``)."""
    response = context.render(request, template, status_code=status_code, nav="/review", **values)
    response.headers["Referrer-Policy"] = "same-origin"
    return response


async def _refused(request: Request, exc: Exception) -> Response:
    status = exc.status if isinstance(exc, Refused) else 403
    return _page(context_of(request), request, "error.html", status_code=status, message=str(exc))


def install_refusals(app: Any) -> None:
    """Answer a :class:`Refused` writing request with the error page and its status.

    Why an app-wide handler: the check is one FastAPI dependency of every writing route,
    and a dependency refuses by raising; :func:`kaokore.web.review.with_review` installs it.
    """
    app.add_exception_handler(Refused, _refused)


def review_router(
    writer: Database,
    options: ReviewOptions | None = None,
    *,
    sessions: SessionStore | None = None,
    limiter: LoginLimiter | None = None,
) -> APIRouter:
    """The review routes; ``writer`` is the only connection that writes, for decisions."""
    options = options or ReviewOptions()
    store = sessions or SessionStore(
        idle_seconds=options.idle_minutes * 60, max_seconds=options.max_hours * 3600
    )
    limits = limiter or LoginLimiter(
        max_failures=options.max_failures, window=options.failure_window_minutes * 60
    )
    router = APIRouter(prefix="/review", include_in_schema=False)

    def current(request: Request) -> ReviewSession | None:
        return store.get(request.cookies.get(COOKIE))

    def check_write(request: Request, csrf: Annotated[str | None, Form()] = None) -> ReviewSession:
        """The session of a writing request, or :class:`Refused` (nothing is written).

        The one dependency of every route that writes (``decide``, ``skip``, ``undo``,
        ``logout``): a live session, a same-site ``Origin`` and the session's CSRF token."""
        origin = request.headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.url.netloc:
            raise Refused(403, "Refused: the request came from another site.")
        session = current(request)
        if session is None:
            raise Refused(401, "Refused: log in first (no session, or it expired).")
        given = csrf or request.headers.get("x-csrf-token")
        if not tokens_match(session.csrf, given):
            raise Refused(403, "Refused: missing or wrong CSRF token.")
        return session

    # A default, not an Annotated alias: the annotations are strings (PEP 563) that FastAPI
    # resolves in the module's globals, where this closure over ``store`` does not live.
    writing = Depends(check_write)

    def queue_url(task: str, order: str, scope: str, **extra: Any) -> str:
        return "/review?" + urlencode({"task": task, "order": order, "scope": scope, **extra})

    @router.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, context: Context, error: str | None = None) -> Response:
        token = secrets.token_urlsafe(32)
        response = _page(context, request, "review_login.html", csrf=token, error=error)
        response.set_cookie(
            LOGIN_COOKIE, token, httponly=True, samesite="strict", path="/review", max_age=3600
        )
        return response

    @router.post("/login")
    def login(
        request: Request,
        context: Context,
        name: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        csrf: Annotated[str, Form()] = "",
    ) -> Response:
        if not tokens_match(request.cookies.get(LOGIN_COOKIE), csrf):
            raise Refused(403, "Refused: missing or wrong CSRF token.")
        client = request.client.host if request.client else "unknown"
        keys = (f"address:{client}", f"name:{name}")
        wait = limits.retry_after(*keys)
        if wait:
            response = _page(
                context,
                request,
                "review_login.html",
                status_code=429,
                csrf=csrf,
                error=f"Too many failed logins: try again in {wait} s.",
            )
            response.headers["Retry-After"] = str(wait)
            return response
        with context.database.session() as session:
            reviewer = authenticate(session, name, password)
        if reviewer is None:
            limits.failed(*keys)
            return _page(
                context,
                request,
                "review_login.html",
                status_code=401,
                csrf=csrf,
                error="Wrong name or password.",
            )
        limits.succeeded(*keys)
        token, _session = store.create(reviewer.id, reviewer.name)
        redirect = RedirectResponse(queue_url(options.task, options.order, options.scope), 303)
        redirect.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
        redirect.delete_cookie(LOGIN_COOKIE, path="/review")
        return redirect

    @router.post("/logout")
    def logout(request: Request, _session: ReviewSession = writing) -> Response:
        store.end(request.cookies.get(COOKIE))
        response = RedirectResponse("/review/login", 303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @router.get("", response_class=HTMLResponse)
    def queue_page(
        request: Request,
        context: Context,
        task: str = options.task,
        order: str = options.order,
        scope: str = options.scope,
    ) -> Response:
        session = current(request)
        if session is None:
            return RedirectResponse("/review/login", 303)
        _check_choice(task, TASKS, "task")
        _check_choice(order, ORDERS, "order")
        _check_choice(scope, SCOPES, "scope")
        with context.database.session() as db_session:
            items = review_queue(
                db_session,
                task=task,
                order=order,
                scope=scope,
                seed=options.seed,
                limit=None,
                exclude=session.skipped[task],
            )
        item = items[0] if items else None
        values: Mapping[str, Any] = {}
        if item is not None:
            values = _face_values(context, item)
        return _page(
            context,
            request,
            "review.html",
            reviewer=session.reviewer,
            csrf=session.csrf,
            task=task,
            order=order,
            scope=scope,
            tasks=TASKS,
            orders=ORDERS,
            scopes=SCOPES,
            item=item,
            remaining=len(items),
            decided=len(session.decided),
            skipped=len(session.skipped[task]),
            classes=[(value, english_value(_KEY[task], value)) for value in _classes(task)],
            last=request.query_params.get("last"),
            **values,
        )

    @router.post("/decide")
    def decide(
        face_id: Annotated[int, Form()],
        task: Annotated[str, Form()],
        value: Annotated[str, Form()],
        session: ReviewSession = writing,
        suggestion_id: Annotated[int | None, Form()] = None,
        order: Annotated[str, Form()] = options.order,
        scope: Annotated[str, Form()] = options.scope,
    ) -> Response:
        _check_choice(task, TASKS, "task")
        with writer.session() as db_session:
            decision = record_decision(
                db_session,
                reviewer_id=session.reviewer_id,
                face_id=face_id,
                task=task,
                value=value,
                suggestion_id=suggestion_id,
            )
        session.decided.append(decision.review_id)
        last = f"face {face_id}: {decision.value} ({decision.decision})"
        return RedirectResponse(queue_url(task, order, scope, last=last), 303)

    @router.post("/skip")
    def skip(
        face_id: Annotated[int, Form()],
        task: Annotated[str, Form()],
        session: ReviewSession = writing,
        order: Annotated[str, Form()] = options.order,
        scope: Annotated[str, Form()] = options.scope,
    ) -> Response:
        _check_choice(task, TASKS, "task")
        session.skipped[task].add(face_id)
        return RedirectResponse(queue_url(task, order, scope, last=f"face {face_id}: skipped"), 303)

    @router.post("/undo")
    def undo(
        session: ReviewSession = writing,
        task: Annotated[str, Form()] = options.task,
        order: Annotated[str, Form()] = options.order,
        scope: Annotated[str, Form()] = options.scope,
    ) -> Response:
        if not session.decided:
            raise UsageError("Nothing to undo: no decision of yours in this session.")
        review_id = session.decided[-1]
        with writer.session() as db_session:
            undone = undo_decision(db_session, review_id=review_id, reviewer_id=session.reviewer_id)
        session.decided.pop()
        last = f"face {undone.face_id}: undone ({undone.value} withdrawn)"
        return RedirectResponse(queue_url(task, order, scope, last=last), 303)

    return router


def _check_choice(value: str, allowed: tuple[str, ...], name: str) -> None:
    if value not in allowed:
        raise UsageError(f"Unknown {name} {value!r}. Valid values are {', '.join(allowed)}.")


def _classes(task: str) -> list[str]:
    from kaokore.review.store import class_values

    return class_values(task)


def _face_values(context: WebContext, item: QueueItem) -> Mapping[str, Any]:
    """The face, its page, and similar faces already labelled by people."""
    row = face_row(context, item.face_id)
    key = _KEY[item.task]
    neighbours: list[tuple[FaceRow, str | None, float | None]] = []
    similar_note = None
    try:
        _query, found = similar(
            context.database, item.face_id, k=_SIMILAR * 3, where=FaceFilter(agent="human")
        )
        for neighbour in found:
            value = _human_value(neighbour.face, key)
            if value is not None:
                neighbours.append((neighbour.face, value, neighbour.score))
        neighbours = neighbours[:_SIMILAR]
    except KaokoreError as exc:
        similar_note = (
            f"{exc} Showing faces of the same work that people labelled {item.value} instead."
        )
        where = FaceFilter(agent="human", work=row.work or (), **{item.task: item.value})
        for other in faces(context.database, where=where, limit=_SIMILAR + 1):
            if other.face_id != item.face_id:
                neighbours.append((other, _human_value(other, key), None))
        neighbours = neighbours[:_SIMILAR]
    return {
        "row": row,
        "box": page_box(row),
        "page_image": page_image_url(row, context.settings.page_image_width),
        "neighbours": neighbours,
        "similar_note": similar_note,
        "english": {value: english_value(key, value) for value, _p in item.probabilities},
    }


def _human_value(row: FaceRow, key: str) -> str | None:
    for label in row.labels:
        if label.label == key and label.agent == "human" and label.value:
            return label.value
    return None
