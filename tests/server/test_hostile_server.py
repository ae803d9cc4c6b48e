"""``kaokore serve`` stays in its folder and within its memory (issue 14)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import pytest

from kaokore.server import LocalIIIFServer
from kaokore.server.mirror import DEFAULT_LIMITS


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A secret beside the mirror, which no request may reach."""
    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "passwd.json").write_text('{"root": "x:0:0"}', encoding="utf-8")
    (secret / "page.jpg").write_bytes((tmp_path / "mirror" / "images" / "page.jpg").read_bytes())
    return secret


def _raw_get(server: LocalIIIFServer, target: str, host: str | None = None) -> tuple[int, bytes]:
    """GET over a plain socket, so that a request path is sent exactly as written."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        host_line = f"Host: {host or f'127.0.0.1:{server.port}'}\r\n"
        conn.sendall(f"GET {target} HTTP/1.1\r\n{host_line}Connection: close\r\n\r\n".encode())
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    assert data, f"empty reply to {target}"
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_symbolic_links_out_of_the_mirror_are_not_followed(
    mirror: Path, outside: Path, tmp_path: Path, http: httpx.Client
) -> None:
    (mirror / "api" / "leak.json").symlink_to(outside / "passwd.json")
    (mirror / "api" / "dir").symlink_to(outside, target_is_directory=True)
    (mirror / "images" / "evil.jpg").symlink_to(outside / "page.jpg")
    (mirror / "etc.json").symlink_to("/etc/passwd")
    services = json.loads((mirror / "services.json").read_text(encoding="utf-8"))
    services["services"]["linked.tif"] = {"file": "images/evil.jpg"}
    (mirror / "services.json").write_text(json.dumps(services), encoding="utf-8")
    # A link that stays inside is fine.
    (mirror / "api" / "alias.json").symlink_to(mirror / "docs" / "plain.json")
    with LocalIIIFServer(mirror) as server:
        for path in (
            "/api/leak.json",
            "/api/leak",
            "/api/dir/passwd.json",
            "/api/dir/passwd",
            "/etc.json",
            "/etc",
            "/iiif/2/evil.jpg/info.json",
            "/iiif/3/evil/full/max/0/default.jpg",
            "/iiif/2/linked.tif/info.json",
        ):
            response = http.get(server.url(path))
            assert response.status_code == 404, path
            assert (
                b"root" not in response.content and str(tmp_path).encode() not in response.content
            )
        assert http.get(server.url("/api/alias.json")).json() == {"a": 1}


def test_errors_name_no_local_path(mirror: Path, http: httpx.Client, tmp_path: Path) -> None:
    (mirror / "services.json").write_text("{not json", encoding="utf-8")
    with LocalIIIFServer(mirror) as server:
        response = http.get(server.url("/iiif/2/page.tif/info.json"))
        assert response.status_code == 500
        assert response.text == "server error\n"
        assert str(tmp_path) not in response.text


def test_limits_are_advertised(server: LocalIIIFServer, http: httpx.Client) -> None:
    for version in (2, 3):
        info = http.get(server.url(f"/iiif/{version}/page.tif/info.json")).json()
        assert info["maxWidth"] == DEFAULT_LIMITS["maxWidth"]
        assert info["maxHeight"] == DEFAULT_LIMITS["maxHeight"]
        assert info["maxArea"] == DEFAULT_LIMITS["maxArea"]
    limited = http.get(server.url("/iiif/3/limited.tif/info.json")).json()
    assert limited["maxWidth"] == 320 and "maxHeight" not in limited  # follows maxWidth


@pytest.mark.parametrize(
    ("target", "status"),
    [
        ("/iiif/2/page.tif/full/99999,/0/default.jpg", 400),  # was a MemoryError
        ("/iiif/2/page.tif/full/pct:1000/0/default.jpg", 400),  # was 894 MB
        ("/iiif/2/page.tif/full/10000,10000/0/default.jpg", 400),  # over maxArea
        ("/iiif/3/page.tif/full/1280,/0/default.jpg", 400),  # 3.0 upscale without ^
        ("/iiif/3/page.tif/full/^99999,/0/default.jpg", 400),  # ^ beyond the limits
        ("/iiif/3/page.tif/full/^pct:1000/0/default.jpg", 400),
        ("/iiif/2/page.tif/full/" + "9" * 5000 + ",/0/default.jpg", 400),  # too many digits
        ("/iiif/2/page.tif/pct:" + "9" * 400 + ",0,10,10/full/0/default.jpg", 400),  # inf
        ("/iiif/2/page.tif/full/pct:" + "9" * 400 + "/0/default.jpg", 400),
        ("/iiif/2/limited.tif/full/321,/0/default.jpg", 400),
        ("/iiif/3/page.tif/full/^1280,/0/default.jpg", 200),  # asked for, within limits
        ("/iiif/2/page.tif/full/1280,/0/default.jpg", 200),
    ],
)
def test_image_requests_are_bounded_and_answered(
    server: LocalIIIFServer, target: str, status: int
) -> None:
    code, body = _raw_get(server, target)
    assert code == status, body[:200]
    if status == 400:
        assert body.strip()  # a reason, not an empty reply


def test_other_host_names_are_refused(server: LocalIIIFServer) -> None:
    """DNS rebinding: a page on evil.example that resolves to 127.0.0.1 reads nothing."""
    code, _ = _raw_get(server, "/docs/plain.json", host=f"evil.example:{server.port}")
    assert code == 421
    code, _ = _raw_get(server, "/docs/plain.json", host=f"localhost:{server.port}")
    assert code == 200


def test_mirror_content_carries_cors_and_nosniff(
    server: LocalIIIFServer, http: httpx.Client
) -> None:
    """CORS stays open for IIIF viewers: after confinement it exposes the mirror only."""
    response = http.get(server.url("/docs/plain.json"))
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
