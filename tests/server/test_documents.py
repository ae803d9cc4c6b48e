"""JSON documents: {BASE} substitution, conditional requests, edits, deletions, traversal."""

from __future__ import annotations

import http.client
import json
import os
from pathlib import Path

import httpx

from kaokore.server import LocalIIIFServer


def test_base_is_substituted_and_media_type_follows_context(
    server: LocalIIIFServer, http: httpx.Client
) -> None:
    response = http.get(server.url("/docs/manifest.json"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/ld+json"
    doc = response.json()
    assert doc["@id"] == f"{server.base_url}/docs/manifest.json"
    assert doc["service"].startswith("http://127.0.0.1:")
    assert "{BASE}" not in response.text
    plain = http.get(server.url("/docs/plain.json"))
    assert plain.headers["content-type"] == "application/json"


def test_a_path_without_extension_finds_the_json_file(
    server: LocalIIIFServer, http: httpx.Client
) -> None:
    response = http.get(server.url("/api/curation-1"))
    assert response.status_code == 200
    assert response.json()["@id"] == server.url("/api/curation-1")


def test_conditional_requests_get_304_without_body(
    server: LocalIIIFServer, http: httpx.Client
) -> None:
    first = http.get(server.url("/docs/manifest.json"))
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = http.get(server.url("/docs/manifest.json"), headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    by_date = http.get(server.url("/docs/manifest.json"), headers={"If-Modified-Since": modified})
    assert by_date.status_code == 304
    other = http.get(server.url("/docs/manifest.json"), headers={"If-None-Match": '"nope"'})
    assert other.status_code == 200
    log = server.requests
    assert [(r.status, r.conditional, r.bytes_sent == 0) for r in log[1:]] == [
        (304, True, True),
        (304, True, True),
        (200, True, False),
    ]


def test_etag_depends_on_the_base_url(mirror: Path, http: httpx.Client) -> None:
    """The same file served on two ports is two different documents."""
    with LocalIIIFServer(mirror) as one, LocalIIIFServer(mirror) as two:
        a = http.get(one.url("/docs/manifest.json")).headers["etag"]
        b = http.get(two.url("/docs/manifest.json")).headers["etag"]
    assert a != b


def test_edits_deletions_and_tombstones(
    mirror: Path, server: LocalIIIFServer, http: httpx.Client
) -> None:
    path = mirror / "api" / "curation-1.json"
    first = http.get(server.url("/api/curation-1"))
    path.write_text('{"@id": "{BASE}/api/curation-1", "label": "relabelled"}', encoding="utf-8")
    os.utime(path, (first_mtime := path.stat().st_mtime + 5, first_mtime))
    changed = http.get(
        server.url("/api/curation-1"), headers={"If-None-Match": first.headers["etag"]}
    )
    assert changed.status_code == 200 and changed.json()["label"] == "relabelled"
    path.unlink()
    assert http.get(server.url("/api/curation-1")).status_code == 404
    (mirror / "api" / "curation-1.json.gone").touch()
    assert http.get(server.url("/api/curation-1")).status_code == 410
    assert http.get(server.url("/api/curation-1.json")).status_code == 410


def test_head_has_headers_and_no_body(server: LocalIIIFServer, http: httpx.Client) -> None:
    get = http.get(server.url("/docs/manifest.json"))
    head = http.head(server.url("/docs/manifest.json"))
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert http.post(server.url("/docs/manifest.json")).status_code == 405


def _raw_get(server: LocalIIIFServer, target: str) -> int:
    """Send ``target`` unnormalised (httpx would resolve the dot segments itself)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("GET", target)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_path_traversal_is_refused(mirror: Path, server: LocalIIIFServer) -> None:
    (mirror.parent / "outside.json").write_text("{}", encoding="utf-8")
    for target in [
        "/../outside.json",
        "/docs/../../outside.json",
        "/%2e%2e/outside.json",
        "/docs/%2e%2e%2f%2e%2e%2foutside.json",
        "/iiif/2/..%2F..%2Foutside.json/info.json",
        "/iiif/2/%2e%2e/full/max/0/default.jpg",
    ]:
        assert _raw_get(server, target) == 404, target
    assert _raw_get(server, "/docs/../docs/plain.json") == 404  # dot segments are never resolved


def test_unknown_paths_are_404(server: LocalIIIFServer, http: httpx.Client) -> None:
    assert http.get(server.url("/")).status_code == 404
    assert (
        http.get(server.url("/images/page.jpg")).status_code == 404
    )  # only documents and the Image API
    assert (
        http.get(server.url("/services")).status_code == 200
    )  # services.json is a document like any other
    body = http.get(server.url("/secret.txt"))
    assert body.status_code == 200 and body.headers["content-type"].startswith("text/plain")


def test_json_is_valid_after_substitution(server: LocalIIIFServer, http: httpx.Client) -> None:
    assert json.loads(http.get(server.url("/docs/manifest.json")).content)["@id"].endswith(
        "manifest.json"
    )
