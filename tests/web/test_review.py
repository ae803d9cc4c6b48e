"""``kaokore web --review`` over HTTP: login, decisions, undo, logout; refused writes write
nothing; sessions expire; failed logins are rate-limited; without ``--review`` no route
writes."""

# ruff: noqa: F811  (the fixtures imported below are parameters of the tests)

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

pytest.importorskip("fastapi", reason="the web extra (fastapi) is not installed")
pytest.importorskip("argon2", reason="the review extra (argon2-cffi) is not installed")

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from kaokore.db import Annotation, Database, open_database  # noqa: E402
from kaokore.db.models_review import Review  # noqa: E402
from kaokore.query import history  # noqa: E402
from kaokore.review import Prediction, store_suggestions  # noqa: E402
from kaokore.web import WebSettings, create_app  # noqa: E402
from kaokore.web.review import LoginLimiter, ReviewOptions, SessionStore, with_review  # noqa: E402
from tests.compiler.conftest import (  # noqa: E402,F401  (fixtures)
    Filler,
    database,
    filled,
    filler,
)
from tests.review.conftest import PASSWORD, reviewer  # noqa: E402,F401
from tests.review.test_store import IDENTITY  # noqa: E402

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Clock:
    """A settable monotonic clock for session expiry."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class ReviewApp:
    client: TestClient
    database: Database
    clock: Clock

    def counts(self) -> tuple[int, int]:
        with self.database.session() as session:
            return (
                int(session.scalar(select(func.count()).select_from(Annotation)) or 0),
                int(session.scalar(select(func.count()).select_from(Review)) or 0),
            )

    def login(self, name: str = "alice", password: str = PASSWORD) -> int:
        page = self.client.get("/review/login")
        token = CSRF.search(page.text)
        assert token is not None
        answer = self.client.post(
            "/review/login",
            data={"name": name, "password": password, "csrf": token.group(1)},
            follow_redirects=False,
        )
        return answer.status_code

    def queue(self) -> tuple[str, str, str]:
        """(csrf, face id, suggestion id) of the queue page's face."""
        page = self.client.get("/review?task=gender&scope=all")
        assert page.status_code == 200, page.text
        csrf = CSRF.search(page.text)
        face = re.search(r'id="review-item" data-face="(\d+)"', page.text)
        suggestion = re.search(r'name="suggestion_id" value="(\d+)"', page.text)
        assert csrf and face and suggestion, page.text
        return csrf.group(1), face.group(1), suggestion.group(1)


def _suggest(database: Database, filled: Filler) -> None:
    ids = sorted(filled.faces.values())
    predictions = [
        Prediction(
            face_id=face_id,
            probabilities=(0.51 + 0.015 * i, 0.49 - 0.015 * i),
            in_training=False,
            blob_sha256=None,
        )
        for i, face_id in enumerate(ids)
    ]
    with database.session() as session:
        store_suggestions(session, IDENTITY, predictions)


@pytest.fixture
def review_app(database: Database, filled: Filler, reviewer: int) -> Iterator[ReviewApp]:  # noqa: F811
    _suggest(database, filled)
    clock = Clock()
    writer = open_database(database.settings, create=False)
    settings = with_review(
        WebSettings(database=database.settings, cache_seconds=0.0, warm_up=False),
        writer,
        ReviewOptions(scope="all"),
        sessions=SessionStore(idle_seconds=600, max_seconds=3600, clock=clock),
        limiter=LoginLimiter(max_failures=3, window=60, clock=clock),
    )
    try:
        with TestClient(create_app(settings)) as client:
            yield ReviewApp(client=client, database=database, clock=clock)
    finally:
        writer.close()


def test_login_decide_undo_logout(review_app: ReviewApp) -> None:
    client = review_app.client
    assert client.get("/review", follow_redirects=False).headers["location"] == "/review/login"
    assert review_app.login(password="not the password") == 401
    assert review_app.login() == 303
    csrf, face, suggestion = review_app.queue()
    decided = client.post(
        "/review/decide",
        data={
            "csrf": csrf,
            "face_id": face,
            "task": "gender",
            "value": "女",
            "suggestion_id": suggestion,
        },
        follow_redirects=False,
    )
    assert decided.status_code == 303 and "last=" in decided.headers["location"]
    with review_app.database.session() as session:
        review = session.scalars(select(Review)).one()
        assert (review.face_id, review.value, review.decision) == (int(face), "女", "overrode")
    mine = [
        row
        for row in history(review_app.database, int(face))
        if row.provenance and row.agent == "human"
    ]
    assert len(mine) == 1 and mine[0].provenance.startswith(
        f"review by alice: overrode suggestion {suggestion}"
    )
    # the next face is another one; undo brings the decision back out
    assert review_app.queue()[1] != face
    undone = client.post(
        "/review/undo", data={"csrf": csrf, "task": "gender"}, follow_redirects=False
    )
    assert undone.status_code == 303 and "undone" in undone.headers["location"]
    with review_app.database.session() as session:
        assert session.scalars(select(Review)).one().undone_at is not None
    assert review_app.queue()[1] == face
    out = client.post("/review/logout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/review", follow_redirects=False).status_code == 303
    after = client.post(
        "/review/decide",
        data={"csrf": csrf, "face_id": face, "task": "gender", "value": "男"},
        follow_redirects=False,
    )
    assert after.status_code == 401


def test_writes_without_a_session_or_the_csrf_token_are_refused_and_write_nothing(
    review_app: ReviewApp,
) -> None:
    client = review_app.client
    before = review_app.counts()
    form = {"face_id": "1", "task": "gender", "value": "女"}
    # no session at all
    assert client.post("/review/decide", data=form, follow_redirects=False).status_code == 401
    assert client.post("/review/undo", data={}, follow_redirects=False).status_code == 401
    assert review_app.login() == 303
    csrf, face, _s = review_app.queue()
    form["face_id"] = face
    # a session, but no token, a wrong one, or another site's Origin
    assert client.post("/review/decide", data=form).status_code == 403
    assert client.post("/review/decide", data={**form, "csrf": "x" * 43}).status_code == 403
    assert client.post("/review/skip", data={"face_id": face, "task": "gender"}).status_code == 403
    assert client.post("/review/logout", data={}).status_code == 403
    cross = client.post(
        "/review/decide", data={**form, "csrf": csrf}, headers={"Origin": "https://evil.example"}
    )
    assert cross.status_code == 403
    # a login without the login form's token
    fresh = TestClient(client.app)
    refused = fresh.post("/review/login", data={"name": "alice", "password": PASSWORD})
    assert refused.status_code == 403 and "kaokore_review" not in fresh.cookies
    assert review_app.counts() == before
    # and with the token it writes (the refusals were not for another reason)
    ok = client.post("/review/decide", data={**form, "csrf": csrf}, follow_redirects=False)
    assert ok.status_code == 303 and review_app.counts() == (before[0] + 1, before[1] + 1)


def test_a_decision_for_an_unknown_task_is_refused_like_a_skip(
    review_app: ReviewApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The route checks the task, as skip does, before the store is asked anything."""
    import kaokore.web.review.routes as routes

    def no_store(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("an unknown task reached record_decision")

    monkeypatch.setattr(routes, "record_decision", no_store)
    client = review_app.client
    assert review_app.login() == 303
    csrf, face, _s = review_app.queue()
    before = review_app.counts()
    for route, extra in (("decide", {"value": "男"}), ("skip", {})):
        form = {"csrf": csrf, "face_id": face, "task": "colour", **extra}
        answer = client.post(f"/review/{route}", data=form, follow_redirects=False)
        assert answer.status_code == 400, route
        assert "Unknown task &#39;colour&#39;. Valid values are gender, status" in answer.text
    assert review_app.counts() == before


def test_failed_logins_are_rate_limited(review_app: ReviewApp) -> None:
    for _ in range(3):
        assert review_app.login(password="guess guess guess") == 401
    assert review_app.login() == 429  # even the right password, until the window passes
    page = review_app.client.get("/review/login")
    token = CSRF.search(page.text)
    assert token is not None
    limited = review_app.client.post(
        "/review/login", data={"name": "alice", "password": PASSWORD, "csrf": token.group(1)}
    )
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    review_app.clock.now += 61
    assert review_app.login() == 303


def test_sessions_expire(review_app: ReviewApp) -> None:
    assert review_app.login() == 303
    csrf, face, _s = review_app.queue()
    review_app.clock.now += 601  # idle longer than the session allows
    assert review_app.client.get("/review", follow_redirects=False).status_code == 303
    before = review_app.counts()
    late = review_app.client.post(
        "/review/decide", data={"csrf": csrf, "face_id": face, "task": "gender", "value": "男"}
    )
    assert late.status_code == 401 and review_app.counts() == before


def test_a_server_without_review_refuses_every_write(database: Database, filled: Filler) -> None:  # noqa: F811
    _suggest(database, filled)
    app = create_app(WebSettings(database=database.settings, cache_seconds=0.0, warm_up=False))
    writing = [
        (route.path, sorted(route.methods - {"GET", "HEAD"}))  # type: ignore[attr-defined]
        for route in app.routes
        if getattr(route, "methods", None) and route.methods - {"GET", "HEAD"}  # type: ignore[attr-defined]
    ]
    assert writing == []
    with database.session() as session:
        before = session.scalar(select(func.count()).select_from(Annotation))
    with TestClient(app) as client:
        assert client.get("/review", follow_redirects=False).status_code == 404
        for path in (
            "/review/login",
            "/review/decide",
            "/review/undo",
            "/faces",
            "/api/faces",
            "/board",
        ):
            for method in ("POST", "PUT", "PATCH", "DELETE"):
                answer = client.request(method, path, data={"face_id": "1", "value": "女"})
                assert answer.status_code in (404, 405), (method, path, answer.status_code)
        # the database the app reads through is read-only: a write is refused by the database
        context = app.state.kaokore
        with (
            pytest.raises(Exception, match="(?i)read.?only|readonly|not authorized"),
            context.database.session() as session,
        ):
            session.add(Annotation(face_id=1, label="性別", raw_value="女", value="女"))
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Annotation)) == before
