"""Fault injection: the share is as configured, the choice is deterministic, each fault is real."""

from __future__ import annotations

import io
import socket
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image

from kaokore.server import FaultKind, FaultPlan, LocalIIIFServer, Override
from kaokore.server.handler import IIIFRequestHandler, Response

PATHS = [f"/iiif/2/page.tif/{x},0,10,10/full/0/default.jpg" for x in range(400)]


def test_share_matches_the_rate_and_is_deterministic() -> None:
    plan = FaultPlan(rate=0.25, seed=7)
    faulty = [p for p in PATHS if plan.would_fault(p)]
    assert 0.18 <= len(faulty) / len(PATHS) <= 0.32
    assert faulty == [p for p in PATHS if FaultPlan(rate=0.25, seed=7).would_fault(p)]
    assert faulty != [p for p in PATHS if FaultPlan(rate=0.25, seed=8).would_fault(p)]
    kinds = {plan.would_fault(p) for p in faulty}
    assert kinds == set(FaultKind)  # every kind is drawn
    assert FaultPlan(rate=0.0).expected_share(PATHS) == 0.0
    assert FaultPlan(rate=1.0).expected_share(PATHS) == 1.0


def test_first_attempt_only_and_path_patterns() -> None:
    plan = FaultPlan(rate=1.0, first_attempt_only=True, paths=("/iiif/*",))
    assert plan.would_fault("/iiif/2/x/info.json", attempt=1) is not None
    assert plan.would_fault("/iiif/2/x/info.json", attempt=2) is None
    assert plan.would_fault("/api/face/as/collection.json") is None
    with pytest.raises(ValueError):
        FaultPlan(rate=1.5)


def test_order_of_requests_does_not_change_which_fail() -> None:
    forward, backward = FaultPlan(rate=0.3, seed=1), FaultPlan(rate=0.3, seed=1)
    a = {p: forward.decide(p) for p in PATHS}
    b = {p: backward.decide(p) for p in reversed(PATHS)}
    assert a == b


def test_a_retrying_client_converges(mirror: Path, http: httpx.Client) -> None:
    plan = FaultPlan(
        rate=0.5,
        seed=3,
        first_attempt_only=True,
        kinds=(FaultKind.SERVICE_UNAVAILABLE, FaultKind.TOO_MANY_REQUESTS),
        retry_after=0,
    )
    urls = PATHS[:20]
    with LocalIIIFServer(mirror, faults=plan) as server:
        statuses = {}
        for path in urls:
            for _attempt in range(2):
                response = http.get(server.url(path))
                if response.status_code == 200:
                    break
                assert response.status_code in (429, 503)
                if response.status_code == 429:
                    assert response.headers["retry-after"] == "0"
            statuses[path] = response.status_code
        log = server.requests
    assert set(statuses.values()) == {200}
    failed = [r for r in log if r.fault]
    assert len(failed) == sum(plan.would_fault(p) is not None for p in urls) > 0
    assert len(log) == len(urls) + len(failed)


def _server_with(mirror: Path, kind: FaultKind, **kwargs: object) -> LocalIIIFServer:
    return LocalIIIFServer(mirror, faults=FaultPlan(rate=1.0, kinds=(kind,), **kwargs))  # type: ignore[arg-type]


def test_429_carries_retry_after(mirror: Path, http: httpx.Client) -> None:
    with _server_with(mirror, FaultKind.TOO_MANY_REQUESTS, retry_after=1) as server:
        response = http.get(server.url("/docs/manifest.json"))
    assert response.status_code == 429 and response.headers["retry-after"] == "1"


def test_503_is_an_html_page(mirror: Path, http: httpx.Client) -> None:
    with _server_with(mirror, FaultKind.SERVICE_UNAVAILABLE) as server:
        response = http.get(server.url("/docs/manifest.json"))
    assert response.status_code == 503 and "<html>" in response.text


def test_truncated_body_breaks_the_read(mirror: Path, http: httpx.Client) -> None:
    with _server_with(mirror, FaultKind.TRUNCATED) as server:
        with pytest.raises(httpx.RemoteProtocolError):
            http.get(server.url("/iiif/2/page.tif/full/max/0/default.jpg"))
        record = server.requests[-1]
    assert record.fault == "truncate" and record.bytes_sent > 0


def test_html_with_200_where_json_or_image_is_expected(mirror: Path, http: httpx.Client) -> None:
    with _server_with(mirror, FaultKind.HTML_200) as server:
        doc = http.get(server.url("/docs/manifest.json"))
        img = http.get(server.url("/iiif/2/page.tif/full/max/0/default.jpg"))
    for response in (doc, img):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")


def test_stall_outlasts_the_client_timeout(mirror: Path) -> None:
    with _server_with(mirror, FaultKind.STALL, stall_seconds=3.0) as server:
        with httpx.Client(trust_env=False, timeout=0.3) as client, pytest.raises(httpx.ReadTimeout):
            client.get(server.url("/docs/manifest.json"))
        started = time.monotonic()
    assert time.monotonic() - started < 2.0  # close() ends the stall


def test_latency_delays_every_answer(mirror: Path, http: httpx.Client) -> None:
    with LocalIIIFServer(mirror, latency=0.4) as server:
        started = time.monotonic()
        http.get(server.url("/docs/plain.json"))
        assert time.monotonic() - started >= 0.4
        server.latency = 0.0
        started = time.monotonic()
        http.get(server.url("/docs/plain.json"))
        assert time.monotonic() - started < 0.4


def test_latency_is_the_answer_time_with_the_work_done_meanwhile(
    mirror: Path, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host's latency is how long an answer takes: a slow render does not add to it."""
    route = IIIFRequestHandler._route

    def slow_route(handler: IIIFRequestHandler) -> Response:
        time.sleep(0.5)
        return route(handler)

    monkeypatch.setattr(IIIFRequestHandler, "_route", slow_route)
    with LocalIIIFServer(mirror, latency=0.8) as server:
        started = time.monotonic()
        http.get(server.url("/docs/plain.json"))
        elapsed = time.monotonic() - started
    assert 0.8 <= elapsed < 1.3  # not 0.8 + 0.5


def test_latency_counts_from_the_request_line(mirror: Path) -> None:
    """The answer time starts when the request arrives, not when its headers are read."""
    with LocalIIIFServer(mirror, latency=0.8) as server:
        host, port = server.base_url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as conn:
            started = time.monotonic()
            conn.sendall(b"GET /docs/plain.json HTTP/1.1\r\n")
            time.sleep(0.5)  # the headers come late
            conn.sendall(f"Host: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
            first = conn.recv(1 << 20)
            elapsed = time.monotonic() - started
    assert first.startswith(b"HTTP/1.1 200")
    assert 0.8 <= elapsed < 1.25  # not 0.5 + 0.8


def _with_overrides(mirror: Path, overrides: dict[str, Override]) -> LocalIIIFServer:
    return LocalIIIFServer(mirror, faults=FaultPlan(overrides=overrides))


def test_override_decompression_bomb(mirror: Path, http: httpx.Client) -> None:
    path = "/iiif/2/page.tif/full/max/0/default.jpg"
    with _with_overrides(mirror, {path: Override.bomb()}) as server:
        response = http.get(server.url(path))
    assert response.status_code == 200 and len(response.content) < 200_000
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(response.content))


def test_override_html_as_image_and_redirects(mirror: Path) -> None:
    overrides = {
        "/iiif/2/page.tif/*": Override.html(content_type="image/jpeg"),
        "/docs/manifest.json": Override.redirect("ftp://example.org/manifest.json"),
        "/docs/plain.json": Override.redirect("http://localhost:9/elsewhere.json", status=301),
        "/api/curation-1": Override.redirect("{BASE}/docs/plain.json"),
    }
    with (
        _with_overrides(mirror, overrides) as server,
        httpx.Client(trust_env=False, timeout=5) as http,
    ):
        img = http.get(server.url("/iiif/2/page.tif/0,0,10,10/full/0/default.jpg"))
        assert img.headers["content-type"] == "image/jpeg" and img.content.startswith(
            b"<!DOCTYPE html>"
        )
        ftp = http.get(server.url("/docs/manifest.json"))
        assert ftp.status_code == 302 and ftp.headers["location"].startswith("ftp://")
        other = http.get(server.url("/docs/plain.json"))
        assert other.status_code == 301 and other.headers["location"].startswith(
            "http://localhost:9/"
        )
        local = http.get(server.url("/api/curation-1"))
        assert local.headers["location"] == server.url("/docs/plain.json")


@pytest.mark.parametrize("declare_length", [True, False])
def test_override_oversized_document(
    mirror: Path, http: httpx.Client, declare_length: bool
) -> None:
    size = 3_000_000
    override = Override.oversized(size, declare_length=declare_length)
    with (
        _with_overrides(mirror, {"/docs/plain.json": override}) as server,
        http.stream("GET", server.url("/docs/plain.json")) as response,
    ):
        assert ("content-length" in response.headers) is declare_length
        received = sum(len(chunk) for chunk in response.iter_bytes())
    assert received == size


def test_override_times_then_normal(mirror: Path, http: httpx.Client) -> None:
    overrides = {"/docs/plain.json": Override.status_code(410, times=1)}
    with _with_overrides(mirror, overrides) as server:
        assert http.get(server.url("/docs/plain.json")).status_code == 410
        assert http.get(server.url("/docs/plain.json")).status_code == 200
        assert [r.fault for r in server.requests] == ["override:status", None]


def test_faults_can_be_swapped_while_running(server: LocalIIIFServer, http: httpx.Client) -> None:
    assert http.get(server.url("/docs/plain.json")).status_code == 200
    server.faults = FaultPlan(rate=1.0, kinds=(FaultKind.SERVICE_UNAVAILABLE,))
    assert http.get(server.url("/docs/plain.json")).status_code == 503
    server.faults = None
    assert http.get(server.url("/docs/plain.json")).status_code == 200
