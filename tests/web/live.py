"""Live servers for the browser tests and the screenshots: the bundled IIIF mirror, a
database harvested from it (as ``kaokore demo`` does), and ``kaokore web`` under uvicorn,
all on 127.0.0.1. Nothing reaches the internet.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kaokore.config import Settings
from kaokore.db import open_database
from kaokore.ingest.client import ClientSettings
from kaokore.ingest.harvester import HarvestOptions, harvest
from kaokore.mirror import sample_dir, sample_sources
from kaokore.server import LocalIIIFServer
from kaokore.web import WebSettings, create_app
from tests.processes import free_port

__all__ = ["harvest_sample", "mirror", "serve_app", "serve_web"]


@contextmanager
def mirror() -> Iterator[LocalIIIFServer]:
    """The bundled sample mirror on a free port of 127.0.0.1."""
    with LocalIIIFServer(sample_dir()) as server:
        yield server


def harvest_sample(
    server: LocalIIIFServer, home: Path, *, releases: tuple[str, ...] = ()
) -> Settings:
    """Harvest the sample from ``server`` into ``home`` (and build ``releases``)."""
    import asyncio

    from kaokore.compiler import build_release

    settings = Settings(home=home, db_url=f"sqlite:///{home / 'kaokore.db'}")
    database = open_database(settings)
    try:
        report = asyncio.run(
            harvest(
                database,
                sample_sources(server.base_url),
                client_settings=ClientSettings(host_rate=0),
                options=HarvestOptions(),
            )
        )
        assert report.ok, report
        for version in releases:
            build_release(database, version)
    finally:
        database.close()
    return settings


@contextmanager
def serve_app(app: Any, what: str) -> Iterator[str]:
    """An ASGI ``app`` under uvicorn in a background thread; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve_web(settings: Settings) -> Iterator[str]:
    """``kaokore web`` over ``settings`` in a background thread; yields its base URL."""
    app = create_app(WebSettings(database=settings, page_size=12, warm_up=False))
    with serve_app(app, "kaokore web") as base_url:
        yield base_url
