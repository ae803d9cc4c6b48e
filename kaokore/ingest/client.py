"""The one HTTP client of the harvester: polite per host, patient with failures, bounded.

Why one place: every request to an upstream host, whether a feed page, a manifest or a tile,
must share the same per-host limits, the same User-Agent and the same retry policy, or a
public server with a history of outages gets hammered by whichever code path forgot. So
:func:`make_client` is the only code that configures timeouts, limits, redirects, retries and
conditional requests; everything else receives a :class:`PoliteClient`.

Why hosts are declared unreachable: a host that refuses every connection (down for
maintenance, as the CODH hosts have been for weeks) would otherwise cost every one of its
remaining requests a full round of retries. Once one request to a host has spent all its
attempts on connection failures (refused, reset, no route, connect timeout), the host is
unreachable for the rest of the run: its other
requests fail at once with the same one-line reason (:class:`HostUnreachableError`), other
hosts go on, and the next run tries again.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urljoin, urlsplit

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from kaokore.config import (
    DEFAULT_HOST_CONCURRENCY,
    DEFAULT_HOST_RATE,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_REDIRECTS,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    USER_AGENT,
)
from kaokore.errors import FetchError

__all__ = [
    "ClientSettings",
    "ConnectionFailedError",
    "FetchResult",
    "HostUnreachableError",
    "PoliteClient",
    "TransientFetchError",
    "make_client",
]

#: Statuses worth another try: the server is overloaded, restarting or rate limiting.
RETRY_STATUSES: Final = frozenset({408, 425, 429, 500, 502, 503, 504})
ALLOWED_SCHEMES: Final = frozenset({"http", "https"})


@dataclass(frozen=True, kw_only=True)
class ClientSettings:
    """How hard the harvester may push each host, and how long it waits."""

    host_concurrency: int = DEFAULT_HOST_CONCURRENCY
    host_rate: float = DEFAULT_HOST_RATE
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    #: First back-off in seconds; doubled per attempt, with full jitter.
    backoff: float = 1.0
    max_backoff: float = 60.0
    #: The longest ``Retry-After`` honoured; longer ones fail the request (retried next run).
    max_retry_after: float = 300.0
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    max_bytes: int = DEFAULT_MAX_BYTES
    user_agent: str = USER_AGENT


@dataclass(frozen=True, kw_only=True)
class FetchResult:
    """A completed exchange. ``body`` is None when the server answered 304 Not Modified."""

    url: str
    final_url: str
    status: int
    body: bytes | None
    etag: str | None
    last_modified: str | None
    content_type: str | None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class TransientFetchError(FetchError):
    """A failure that another attempt may not meet (network, 429, 5xx, truncated, HTML page)."""

    def __init__(
        self, message: str, *, url: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, url=url, status=status)
        self.retry_after = retry_after


class ConnectionFailedError(TransientFetchError):
    """No connection to the host at all (refused, reset, unresolvable, connect timeout)."""

    def __init__(self, message: str, *, url: str, host: str) -> None:
        super().__init__(message, url=url)
        self.host = host


class HostUnreachableError(FetchError):
    """The host refused every attempt of a request; its other requests are not tried.

    The message is the same for every request to the host, so a summary can say it once.
    """

    def __init__(self, message: str, *, url: str, host: str) -> None:
        super().__init__(message, url=url)
        self.host = host


@dataclass
class _HostGate:
    """Per-host concurrency and request-rate limits, and whether the host is reachable."""

    concurrency: asyncio.Semaphore
    interval: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_start: float = 0.0
    #: Why the host is unreachable for the rest of the run (None: it is not known to be).
    down: str | None = None
    #: Cleared when a connection to the host fails, set again when it answers.
    answering: asyncio.Event = field(default_factory=asyncio.Event)
    #: Requests that have been sent at least once and have not finished.
    probing: int = 0

    def __post_init__(self) -> None:
        self.answering.set()

    async def wait_turn(self) -> None:
        async with self.lock:
            now = time.monotonic()
            delay = self.next_start - now
            self.next_start = max(now, self.next_start) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)


@dataclass
class _Probe:
    """One request's standing with its host: whether it was sent yet, and through which gate."""

    sent: bool = False
    gate: _HostGate | None = None


def _retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: a number, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class PoliteClient:
    """An ``httpx.AsyncClient`` behind per-host gates, retries and size limits.

    Use it as an async context manager. ``requests_made`` and ``bytes_received`` count what
    went over the wire, for the ingest summary and the benchmarks.
    """

    def __init__(
        self, settings: ClientSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.settings = settings
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.timeout),
            follow_redirects=False,
            headers={"User-Agent": settings.user_agent},
            limits=httpx.Limits(max_connections=max(10, settings.host_concurrency * 8)),
            transport=transport,
        )
        self._gates: dict[str, _HostGate] = {}
        self.requests_made = 0
        self.conditional_requests = 0
        self.bytes_received = 0
        #: Host -> why it was declared unreachable this run (see the module doc).
        self.unreachable: dict[str, str] = {}
        #: Requests not sent because their host was unreachable, per host.
        self.skipped: dict[str, int] = {}
        #: Called once per host when it is declared unreachable (the CLI prints a line).
        self.on_host_down: Callable[[str, str], None] | None = None

    async def __aenter__(self) -> PoliteClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def _gate(self, url: str) -> _HostGate:
        host = _host(url)
        gate = self._gates.get(host)
        if gate is None:
            interval = 1.0 / self.settings.host_rate if self.settings.host_rate > 0 else 0.0
            gate = _HostGate(asyncio.Semaphore(self.settings.host_concurrency), interval)
            self._gates[host] = gate
        return gate

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
        validate: Callable[[FetchResult], None] | None = None,
    ) -> FetchResult:
        """GET ``url`` with retries; conditional when ``etag``/``last_modified`` are given.

        ``validate`` (run in a worker thread) may raise :class:`TransientFetchError` for a body
        that is wrong in a way a retry can fix (an HTML error page served with 200 where JSON
        or an image belongs).
        Raises :class:`FetchError` when every attempt failed or the failure is permanent.
        """
        retrying = AsyncRetrying(
            stop=stop_after_attempt(max(1, self.settings.retries)),
            wait=self._wait,
            retry=retry_if_exception_type(TransientFetchError),
            reraise=True,
        )
        probe = _Probe()
        try:
            async for attempt in retrying:
                with attempt:
                    result = await self._fetch_once(
                        url, etag=etag, last_modified=last_modified, accept=accept, probe=probe
                    )
                    if validate is not None and not result.not_modified:
                        # In a worker thread: decoding an image or a large document would
                        # hold the loop (and every other request's turn) meanwhile.
                        await asyncio.to_thread(validate, result)
                    return result
        except ConnectionFailedError as exc:
            raise self._host_down(exc) from exc
        finally:
            if probe.gate is not None:
                probe.gate.probing -= 1
                if probe.gate.probing == 0:
                    probe.gate.answering.set()  # no one probes any more: let the rest try
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    def _host_down(self, exc: ConnectionFailedError) -> HostUnreachableError:
        """Declare ``exc.host`` unreachable for this run (once) and say why."""
        gate = self._gate(f"http://{exc.host}/")
        if gate.down is None:
            gate.down = (
                f"host {exc.host} is unreachable ({exc}; "
                f"{max(1, self.settings.retries)} attempts): its requests are not tried "
                "again this run"
            )
            self.unreachable[exc.host] = gate.down
            gate.answering.set()  # wake the waiting requests: they fail at once now
            if self.on_host_down is not None:
                self.on_host_down(exc.host, gate.down)
        return HostUnreachableError(gate.down, url=exc.url or "", host=exc.host)

    def _wait(self, state: RetryCallState) -> float:
        """Exponential back-off with full jitter, or the server's ``Retry-After`` if longer."""
        backoff = min(
            self.settings.max_backoff, self.settings.backoff * 2 ** (state.attempt_number - 1)
        )
        wait = random.uniform(0, backoff)
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, TransientFetchError) and error.retry_after is not None:
            wait = max(wait, error.retry_after)
        return wait

    async def _through_gate(
        self,
        gate: _HostGate,
        url: str,
        current: str,
        headers: dict[str, str],
        probe: _Probe,
        conditional: bool,
    ) -> _Response:
        """Send one request within the host's limits, unless the host is down or failing.

        While a host is failing (a connection failed and nothing answered since), a request
        that has not been sent yet waits: only the requests already in their retry round
        probe the host, so a dead host sees one round of retries, not one per request.
        """
        host = _host(current)
        while True:
            if gate.down is not None:
                self.skipped[host] = self.skipped.get(host, 0) + 1
                raise HostUnreachableError(gate.down, url=url, host=host)
            if not probe.sent and not gate.answering.is_set():
                await gate.answering.wait()
                continue
            async with gate.concurrency:
                if gate.down is not None or (not probe.sent and not gate.answering.is_set()):
                    continue  # declared while this request waited its turn: look again
                if not probe.sent:
                    probe.sent, probe.gate = True, gate
                    gate.probing += 1
                await gate.wait_turn()
                self.requests_made += 1
                if conditional:
                    self.conditional_requests += 1
                try:
                    response = await self._send(url, current, headers)
                except ConnectionFailedError:
                    gate.answering.clear()
                    raise
                gate.answering.set()
                return response

    async def _fetch_once(
        self,
        url: str,
        *,
        etag: str | None,
        last_modified: str | None,
        accept: str | None,
        probe: _Probe,
    ) -> FetchResult:
        headers: dict[str, str] = {}
        if accept:
            headers["Accept"] = accept
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        for _hop in range(self.settings.max_redirects + 1):
            scheme = urlsplit(current).scheme.lower()
            if scheme not in ALLOWED_SCHEMES:
                raise FetchError(f"refusing the {scheme or 'missing'} scheme of {current}", url=url)
            gate = self._gate(current)
            response = await self._through_gate(
                gate, url, current, headers, probe, bool(etag or last_modified)
            )
            if response.status in (301, 302, 303, 307, 308):
                location = response.headers.get("Location")
                if not location:
                    raise FetchError(
                        f"redirect {response.status} without Location",
                        url=url,
                        status=response.status,
                    )
                current = urljoin(current, location)
                continue
            return self._result(url, current, response)
        raise FetchError(f"more than {self.settings.max_redirects} redirects", url=url)

    async def _send(self, url: str, current: str, headers: dict[str, str]) -> _Response:
        try:
            async with self._client.stream("GET", current, headers=headers) as response:
                declared = response.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > self.settings.max_bytes:
                    raise FetchError(
                        f"body of {declared} bytes is above the "
                        f"{self.settings.max_bytes}-byte limit",
                        url=url,
                        status=response.status_code,
                    )
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self.settings.max_bytes:
                        raise FetchError(
                            f"body is above the {self.settings.max_bytes}-byte limit",
                            url=url,
                            status=response.status_code,
                        )
                    chunks.append(chunk)
                self.bytes_received += size
                return _Response(response.status_code, response.headers, b"".join(chunks))
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ConnectionFailedError(
                f"connection failed: {exc or type(exc).__name__}", url=url, host=_host(current)
            ) from exc
        except httpx.TimeoutException as exc:
            raise TransientFetchError(f"timed out ({type(exc).__name__})", url=url) from exc
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise TransientFetchError(
                f"connection failed: {exc or type(exc).__name__}", url=url
            ) from exc
        except httpx.InvalidURL as exc:
            raise FetchError(f"invalid URL: {exc}", url=url) from exc

    def _result(self, url: str, final_url: str, response: _Response) -> FetchResult:
        status = response.status
        if status in RETRY_STATUSES:
            raise TransientFetchError(
                f"HTTP {status}",
                url=url,
                status=status,
                retry_after=self._honoured_retry_after(url, response.headers.get("Retry-After")),
            )
        if status == 304:
            return FetchResult(
                url=url,
                final_url=final_url,
                status=304,
                body=None,
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
                content_type=response.headers.get("Content-Type"),
            )
        if status >= 400:
            raise FetchError(f"HTTP {status}", url=url, status=status)
        return FetchResult(
            url=url,
            final_url=final_url,
            status=status,
            body=response.body,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            content_type=response.headers.get("Content-Type"),
        )

    def _honoured_retry_after(self, url: str, header: str | None) -> float | None:
        seconds = _retry_after_seconds(header)
        if seconds is not None and seconds > self.settings.max_retry_after:
            raise FetchError(
                f"server asks to retry after {seconds:.0f} s, above the "
                f"{self.settings.max_retry_after:.0f} s limit",
                url=url,
                status=429,
            )
        return seconds


@dataclass(frozen=True)
class _Response:
    status: int
    headers: httpx.Headers
    body: bytes


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


def make_client(
    settings: ClientSettings | None = None, *, transport: httpx.AsyncBaseTransport | None = None
) -> PoliteClient:
    """The harvester's client; tests pass a ``transport`` (``httpx.MockTransport``)."""
    return PoliteClient(settings or ClientSettings(), transport=transport)
