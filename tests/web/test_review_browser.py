"""``kaokore web --review`` in a real headless browser (Debian's chromium, via Selenium):
log in, review ten faces with the keyboard, undo one, log out.

The bundled sample is served on 127.0.0.1 and harvested like ``kaokore demo``; every face
gets a gender suggestion; the review server runs under uvicorn with a writer connection.
Skipped, with the reason, when chromium, chromedriver or argon2-cffi is missing. Set
``KAOKORE_WEB_FIGURES=docs/figures`` to keep a screenshot of the review page.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("argon2", reason="the review extra (argon2-cffi) is not installed")
from sqlalchemy import select  # noqa: E402

from kaokore import query  # noqa: E402
from kaokore.config import Settings  # noqa: E402
from kaokore.db import open_database  # noqa: E402
from kaokore.db.models_review import Review  # noqa: E402
from kaokore.review import Prediction, store_suggestions  # noqa: E402
from kaokore.review.users import add_reviewer  # noqa: E402
from kaokore.web import WebSettings, create_app  # noqa: E402
from kaokore.web.review import ReviewOptions, with_review  # noqa: E402
from tests.review.test_store import IDENTITY  # noqa: E402
from tests.web.browser import By, Keys, WebDriverWait, ec  # noqa: E402  (skips without chromium)
from tests.web.live import harvest_sample, mirror, serve_app  # noqa: E402

pytestmark = pytest.mark.slow
PASSWORD = "a reviewer's long password"


@contextmanager
def serve_review(settings: Settings) -> Iterator[str]:
    """``kaokore web --review`` over ``settings`` in a background thread; its base URL."""
    writer = open_database(settings, create=False)
    app = create_app(
        with_review(
            WebSettings(database=settings, warm_up=False), writer, ReviewOptions(scope="all")
        )
    )
    try:
        with serve_app(app, "kaokore web --review") as base_url:
            yield base_url
    finally:
        writer.close()


@pytest.fixture(scope="module")
def review_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    with mirror() as server:
        settings = harvest_sample(server, tmp_path_factory.mktemp("web-review"))
        database = open_database(settings)
        try:
            ids = query.face_ids(database)
            with database.session() as session:
                add_reviewer(session, "alice", PASSWORD)
                store_suggestions(
                    session,
                    IDENTITY,
                    [
                        Prediction(
                            face_id=face_id,
                            probabilities=(0.5 + 0.01 * i, 0.5 - 0.01 * i),
                            in_training=False,
                            blob_sha256=None,
                        )
                        for i, face_id in enumerate(ids)
                    ],
                )
        finally:
            database.close()
        with serve_review(settings) as base:
            yield base, settings


def _face(driver: Any) -> int:
    return int(driver.find_element(By.ID, "review-item").get_attribute("data-face"))


def _keys_ready(driver: Any) -> bool:
    """Whether the page's keyboard shortcuts are listening (review.js has run)."""
    return bool(
        driver.execute_script(
            "return document.readyState === 'complete' && "
            "document.documentElement.getAttribute('data-review-keys') === 'on'"
        )
    )


def _press(driver: Any, key: str) -> None:
    """Press ``key`` on the page and wait until the next page listens for keys."""
    WebDriverWait(driver, 30).until(_keys_ready)
    old = driver.find_element(By.TAG_NAME, "main")
    driver.find_element(By.TAG_NAME, "body").send_keys(key)
    WebDriverWait(driver, 30).until(ec.staleness_of(old))
    WebDriverWait(driver, 30).until(_keys_ready)


def test_log_in_review_ten_faces_by_keyboard_undo_one_log_out(
    review_server: tuple[str, Settings], browser: Any
) -> None:
    base, settings = review_server
    browser.get(f"{base}/review")
    assert browser.current_url.endswith("/review/login")
    browser.find_element(By.ID, "login-name").send_keys("alice")
    browser.find_element(By.ID, "login-password").send_keys(PASSWORD + Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "review-item"))
    assert browser.find_element(By.ID, "reviewer").text == "alice"
    folder = os.environ.get("KAOKORE_WEB_FIGURES")
    if folder:
        WebDriverWait(browser, 30).until(
            lambda d: d.execute_script(
                "var i = document.getElementById('page-image'); return !i || i.complete"
            )
        )
        browser.save_screenshot(str(Path(folder) / "web_review.png"))

    keys = ["a", "1", "2", Keys.ENTER, "a", "2", "1", "a", "2", "a"]
    expected: dict[int, str] = {}
    for key in keys:
        face = _face(browser)
        suggested = browser.find_element(By.ID, "suggested").text
        expected[face] = {"1": "男", "2": "女"}.get(key, suggested)
        _press(browser, key)
        assert f"face {face}: {expected[face]}" in browser.find_element(By.ID, "last").text
    assert len(expected) == 10

    last_face = list(expected)[-1]
    _press(browser, "u")
    assert f"face {last_face}: undone" in browser.find_element(By.ID, "last").text
    assert _face(browser) == last_face  # back in the queue, least confident first

    database = open_database(settings, create=False)
    try:
        with database.session() as session:
            reviews = session.scalars(select(Review).order_by(Review.id)).all()
            assert [r.face_id for r in reviews] == list(expected)
            assert {r.face_id: r.value for r in reviews} == expected
            assert [r.undone_at is not None for r in reviews] == [False] * 9 + [True]
            assert all(r.suggestion_id is not None for r in reviews)
            decisions = {r.decision for r in reviews}
        assert decisions <= {"confirmed", "overrode"} and "confirmed" in decisions
        first = list(expected)[0]
        provenance = [
            row.provenance for row in query.history(database, first) if row.agent == "human"
        ]
        assert any(p and p.startswith("review by alice: confirmed suggestion") for p in provenance)
    finally:
        database.close()

    browser.find_element(By.ID, "logout").click()
    WebDriverWait(browser, 30).until(lambda d: d.current_url.endswith("/review/login"))
    browser.get(f"{base}/review")
    assert browser.current_url.endswith("/review/login")
