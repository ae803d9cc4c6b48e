"""``kaokore serve`` and ``kaokore demo`` as a user runs them.

``serve`` runs in its own process (it blocks until stopped): it starts, serves a document
with ``{BASE}`` filled in, and nothing outside its folder; ``demo`` runs the whole chain on
the bundled mirror and leaves a verified release.
"""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from typer.testing import CliRunner

from kaokore.cli import app
from kaokore.compiler import verify_release
from tests.processes import kaokore_serve


def _get_raw(base_url: str, target: str) -> tuple[int, bytes]:
    """GET with the request target sent as written (no dot-segment clean-up by a client)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.slow
def test_serve_serves_its_folder_and_nothing_outside(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "notes").mkdir(parents=True)
    (mirror / "notes" / "doc.json").write_text(
        json.dumps({"@id": "{BASE}/notes/doc.json", "label": "顔"}), encoding="utf-8"
    )
    (tmp_path / "secret.json").write_text('{"secret": "outside the mirror"}', encoding="utf-8")
    with kaokore_serve(mirror) as base_url:
        served = httpx.get(f"{base_url}/notes/doc.json", timeout=10)
        assert served.status_code == 200
        assert served.json() == {"@id": f"{base_url}/notes/doc.json", "label": "顔"}
        for target in ("/../secret.json", "/notes/../../secret.json", "/%2e%2e/secret.json"):
            status, body = _get_raw(base_url, target)
            assert status in (400, 403, 404), (target, status)
            assert b"outside the mirror" not in body, target
        assert httpx.get(f"{base_url}/notes/absent.json", timeout=10).status_code == 404


@pytest.mark.slow
def test_serve_without_a_folder_serves_the_bundled_mirror() -> None:
    with kaokore_serve(None) as base_url:
        feed = httpx.get(f"{base_url}/api/face/as/collection.json", timeout=10)
    assert feed.status_code == 200
    assert feed.json()["id"] == f"{base_url}/api/face/as/collection.json"


@pytest.mark.slow
def test_demo_harvests_the_bundled_mirror_and_verifies_its_release(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    result = CliRunner().invoke(app, ["--home", str(home), "demo"])
    assert result.exit_code == 0, result.output
    release = home / "releases" / "kaokore-demo"
    assert "33 images, 31 labelled; verify: ok" in " ".join(result.output.split())
    assert verify_release(release).ok
    assert len(list((release / "images_256").iterdir())) == 33
