"""Apps for the web tests.

* ``web_client``: the app over the hand-made research database (``small_db`` of the query
  tests), opened read-only like ``kaokore web`` does, once per backend (SQLite and, with
  ``KAOKORE_TEST_PG``, PostgreSQL).
* ``hostile_client``: the same faces plus one whose work title, labels and tags are
  HTML/JS injection attempts.
* ``live_demo`` (browser tests): the bundled IIIF mirror on 127.0.0.1, harvested like
  ``kaokore demo``, and ``kaokore web`` serving it with uvicorn on another port.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the web extra (fastapi) is not installed")

from fastapi.testclient import TestClient  # noqa: E402

from kaokore.config import Settings  # noqa: E402
from kaokore.db import Database, open_database  # noqa: E402
from kaokore.db.models import Annotation, Document, Face, Work  # noqa: E402
from kaokore.db.writer import labels_changed
from kaokore.web import WebSettings, create_app  # noqa: E402
from tests.query.conftest import (  # noqa: E402,F401
    NOW,
    SmallDb,
    fill_small_db,
    small_db,
    small_pg_db,
)

#: Injection attempts used as a work title, a label value and a tag.
SCRIPT = "<script>alert('kaokore')</script>"
ONERROR = '"onerror=alert(1) x="'
HOSTILE_TITLE = f"{SCRIPT}{ONERROR}絵巻"


@dataclass(frozen=True)
class WebDb:
    """A test client over a read-only app, and the database it reads."""

    client: TestClient
    small: SmallDb
    backend: str

    @property
    def ids(self) -> dict[str, int]:
        return self.small.ids


def _client(small: SmallDb) -> Iterator[TestClient]:
    settings = WebSettings(database=small.database.settings, cache_seconds=0.0, warm_up=False)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def web_db(request: pytest.FixtureRequest) -> Iterator[WebDb]:
    small: SmallDb = request.getfixturevalue(
        "small_db" if request.param == "sqlite" else "small_pg_db"
    )
    for client in _client(small):
        yield WebDb(client=client, small=small, backend=request.param)


def add_hostile_face(database: Database) -> int:
    """A face whose title, labels and tags try to inject script; returns its id."""
    with database.session() as session:
        document = Document(url="https://example.org/curation/hostile.json", kind="curation")
        session.add(document)
        work = Work(key="hostile", label=HOSTILE_TITLE, holder=f"{SCRIPT}所蔵")
        session.add(work)
        session.flush()
        face = Face(
            key="/iiif/hostile#0,0,10,10",
            work_id=work.id,
            square_x=0,
            square_y=0,
            square_w=10,
            square_h=10,
            first_seen=NOW,
            last_seen=NOW,
        )
        session.add(face)
        session.flush()
        pairs = [
            ("原典", HOSTILE_TITLE),
            ("身分", "貴族"),
            ("タグ", SCRIPT),
            ("タグ", ONERROR),
            ("テーマ", f"{ONERROR}{SCRIPT}"),
        ]
        session.add_all(
            Annotation(
                face_id=face.id,
                label=key,
                raw_value=value,
                value=value,
                agent="human",
                position=position,
                document_id=document.id,
                asserted_at=NOW,
            )
            for position, (key, value) in enumerate(pairs)
        )
        labels_changed(session, [face.id])  # the read model every page reads
        return face.id


@pytest.fixture(scope="session")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, int]]:
    home = tmp_path_factory.mktemp("hostile-home")
    settings = Settings(home=home, db_url=f"sqlite:///{home / 'kaokore.db'}")
    database = open_database(settings)
    fill_small_db(database, home)
    face_id = add_hostile_face(database)
    database.close()
    with TestClient(
        create_app(WebSettings(database=settings, cache_seconds=0.0, warm_up=False))
    ) as client:
        yield client, face_id


def blob_dir(small: SmallDb) -> Path:
    return small.home / "blobs"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless chromium for one test module (skips without selenium or chromium)."""
    pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    from tests.web.browser import chromium

    with chromium() as driver:
        yield driver
