"""The harvester's HTTP client: politeness, retries, limits and conditional requests."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from kaokore import __version__
from kaokore.errors import FetchError
from kaokore.ingest.client import ClientSettings, make_client

FAST = ClientSettings(host_rate=0, backoff=0.001, max_backoff=0.002, retries=4, timeout=1.0)


def fetch(
    handler, url: str = "http://127.0.0.1/doc.json", settings: ClientSettings = FAST, **kwargs
):
    async def run():
        async with make_client(settings, transport=httpx.MockTransport(handler)) as client:
            return await client.fetch(url, **kwargs), client

    return asyncio.run(run())


def test_user_agent_names_kaokore_and_its_version() -> None:
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["User-Agent"])
        return httpx.Response(200, json={})

    fetch(handler)
    assert seen[0].startswith(f"kaokore/{__version__}")


def test_429_with_retry_after_is_honoured_then_succeeds() -> None:
    stamps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        stamps.append(time.monotonic())
        if len(stamps) == 1:
            return httpx.Response(429, headers={"Retry-After": "1"})
        return httpx.Response(200, content=b"{}")

    result, client = fetch(handler)
    assert result.status == 200 and client.requests_made == 2
    assert stamps[1] - stamps[0] >= 0.95, "the client waited as long as Retry-After asked"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_up_to_the_limit(status: int) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(status)

    with pytest.raises(FetchError, match=f"HTTP {status}") as failure:
        fetch(handler)
    assert len(calls) == FAST.retries
    assert failure.value.status == status and failure.value.url == "http://127.0.0.1/doc.json"


def test_a_404_is_not_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(404)

    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(handler)
    assert len(calls) == 1


def test_connection_errors_are_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) < 3:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, content=b"{}")

    result, _ = fetch(handler)
    assert result.status == 200 and len(calls) == 3


def test_conditional_headers_are_sent_and_304_has_no_body() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["If-None-Match"] == '"v1"'
        assert request.headers["If-Modified-Since"] == "Mon, 01 Jan 2024 00:00:00 GMT"
        return httpx.Response(304, headers={"ETag": '"v1"'})

    result, client = fetch(handler, etag='"v1"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT")
    assert result.not_modified and result.body is None
    assert client.conditional_requests == 1


def test_redirects_are_followed_but_other_schemes_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/a":
            return httpx.Response(302, headers={"Location": "/b"})
        if request.url.path == "/b":
            return httpx.Response(301, headers={"Location": "file:///etc/passwd"})
        return httpx.Response(200)

    with pytest.raises(FetchError, match="refusing the file scheme"):
        fetch(handler, url="http://127.0.0.1/a")


def test_redirect_loops_stop_at_the_limit() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": str(request.url)})

    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetch(handler)


def test_bodies_above_the_size_limit_are_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * 5000)

    settings = ClientSettings(host_rate=0, backoff=0.001, retries=2, max_bytes=1000)
    with pytest.raises(FetchError, match="1000-byte limit"):
        fetch(handler, settings=settings)


def test_a_retry_after_beyond_the_limit_fails_at_once() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "86400"})

    with pytest.raises(FetchError, match="retry after 86400 s"):
        fetch(handler)


def test_per_host_concurrency_is_bounded() -> None:
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(200, content=b"{}")

    async def run() -> None:
        settings = ClientSettings(host_rate=0, host_concurrency=3)
        async with make_client(settings, transport=httpx.MockTransport(handler)) as client:
            await asyncio.gather(*(client.fetch(f"http://127.0.0.1/{i}") for i in range(20)))

    asyncio.run(run())
    assert peak == 3


def test_per_host_rate_spaces_request_starts() -> None:
    stamps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        stamps.append(time.monotonic())
        return httpx.Response(200, content=b"{}")

    async def run() -> None:
        settings = ClientSettings(host_rate=20.0, host_concurrency=8)
        async with make_client(settings, transport=httpx.MockTransport(handler)) as client:
            await asyncio.gather(*(client.fetch(f"http://127.0.0.1/{i}") for i in range(6)))

    asyncio.run(run())
    assert stamps[-1] - stamps[0] >= 5 / 20 * 0.9


def test_a_redirect_without_location_is_a_clear_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302)

    with pytest.raises(FetchError, match="redirect 302 without Location") as failure:
        fetch(handler)
    assert failure.value.status == 302
