"""The HTTP side: route a request to a document or an Image API call, apply faults, answer.

Conditional requests are honoured everywhere (strong ETag of the bytes served, Last-Modified
from the file's mtime; If-None-Match wins over If-Modified-Since as RFC 9110 says), so a
harvester's second run can be checked to download nothing.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import socketserver
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from kaokore.server import payloads
from kaokore.server.faults import FaultKind, FaultPlan, Override, OverrideKind
from kaokore.server.imageapi import ImageApiError, info_json, parse_image_request, plan_request
from kaokore.server.log import RequestLog, RequestRecord
from kaokore.server.mirror import BASE_PLACEHOLDER, Document, Mirror
from kaokore.server.render import Renderer

if TYPE_CHECKING:
    import socket

__all__ = ["IIIFHTTPServer", "IIIFRequestHandler", "Response"]

_INFO_TYPES = {
    2: "application/ld+json",
    3: 'application/ld+json;profile="http://iiif.io/api/image/3/context.json"',
}


@dataclass
class Response:
    """A response before faults and conditionals are applied to it."""

    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    mtime: float | None = None  # set: the body is cacheable (ETag + Last-Modified)


class IIIFHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that carries the mirror and the test knobs to its handlers."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        *,
        mirror: Mirror,
        renderer: Renderer,
        log: RequestLog,
        faults: FaultPlan | None,
        latency: float,
        quiet: bool,
    ) -> None:
        self.mirror = mirror
        self.renderer = renderer
        self.log = log
        self.faults = faults
        self.latency = latency
        self.quiet = quiet
        self.stopping = threading.Event()
        self._active_lock = threading.Lock()
        self.active: dict[threading.Thread, socket.socket] = {}
        super().__init__(address, IIIFRequestHandler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup (``getfqdn``), which can take seconds."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def track(self, conn: socket.socket | None) -> None:
        """Remember (or forget, with None) the connection of the calling handler thread."""
        with self._active_lock:
            if conn is None:
                self.active.pop(threading.current_thread(), None)
            else:
                self.active[threading.current_thread()] = conn

    def connections(self) -> list[tuple[threading.Thread, socket.socket]]:
        with self._active_lock:
            return list(self.active.items())

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about clients that hang up (timeout and truncation tests do it on purpose)."""

        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)) or self.stopping.is_set():
            return
        super().handle_error(request, client_address)


def _known_host(host: str | None, port: int) -> bool:
    """Whether a request's Host header names this server (absent: HTTP/1.0, allowed)."""
    if host is None:
        return True
    name, _, given_port = host.strip().lower().rpartition(":")
    if not name:  # no port in the header
        name, given_port = given_port, "80"
    return name in ("127.0.0.1", "localhost") and given_port == str(port)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _not_modified(headers: Any, etag: str, mtime: float) -> bool:
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return "*" in tags or etag in tags
    if_modified_since = headers.get("If-Modified-Since")
    if if_modified_since:
        try:
            since = email.utils.parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError, IndexError):
            return False
        return int(mtime) <= since
    return False


class IIIFRequestHandler(BaseHTTPRequestHandler):
    """One connection; HTTP/1.1 keep-alive, so clients can reuse connections as upstream allows."""

    server: IIIFHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "kaokore-iiif"
    timeout = 60
    # An answer that fits the buffered writer (every document and tile of the mirror but
    # the largest curations) leaves in one write when it is complete, so the client wakes
    # once per answer, not once for the headers and again for the body.
    wbufsize = 1 << 18
    # Nagle stays off: a write that follows an unacknowledged one (a larger answer's next
    # write, the next answer on the connection) would wait ~40 ms for a delayed ACK.
    disable_nagle_algorithm = True
    _fault: str | None = None  # the injected fault of the current request, for the log
    _recorded = False  # whether the current request has been logged
    _due = 0.0  # when the answer may leave (time.monotonic), see latency
    _arrived = 0.0  # when the current request line arrived (time.monotonic)

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def parse_request(self) -> bool:
        # The request line has just arrived: the host's answer time counts from here, not
        # from after the headers are parsed (see latency).
        self._arrived = time.monotonic()
        return super().parse_request()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(None)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        if not self.server.quiet:
            super().log_message(format, *args)

    # -- entry points --------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 (stdlib naming)
        self._answer(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(head=True)

    def _refuse(self) -> None:
        """405; the connection is closed since the request body, if any, is left unread."""
        self._fault, self._recorded, self._due = None, False, 0.0
        self.close_connection = True
        headers = {"Allow": "GET, HEAD", "Connection": "close"}
        self._write(Response(405, b"method not allowed\n", headers=headers), head=False)

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse  # noqa: N815

    def _answer(self, *, head: bool) -> None:
        self._fault, self._recorded, self._due = None, False, 0.0
        status = 500
        try:
            status = self._dispatch(head=head)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
            status = 499  # the client went away before an answer was logged
        finally:
            if not self._recorded:
                self._record(status, 0)

    def _record(self, status: int, body_bytes: int) -> None:
        """Log the answer *before* sending it, so a client that has read the response
        always finds it in ``server.requests``."""
        self._recorded = True
        conditional = "If-None-Match" in self.headers or "If-Modified-Since" in self.headers
        self.server.log.add(
            RequestRecord(self.command, self.path, status, body_bytes, conditional, self._fault)
        )

    def _dispatch(self, *, head: bool) -> int:
        server = self.server
        if not _known_host(self.headers.get("Host"), server.server_port):
            # A page on another site that rebinds its DNS name to 127.0.0.1 sends its own
            # name here: refused, so the mirror is readable only under its own address.
            return self._write(Response(421, b"unknown host: use 127.0.0.1\n"), head=head)
        # The latency is the host's answer time: the answer leaves ``latency`` seconds after
        # the request arrived, the work of making it (a crop's render) done meanwhile.
        self._due = self._arrived + server.latency
        decision = server.faults.decide(self.path) if server.faults is not None else None
        if isinstance(decision, Override):
            self._fault = f"override:{decision.kind.value}"
            handled = self._override(decision, head=head)
            if handled is not None:
                return handled
        elif decision is not None:
            self._fault = decision.value
            handled = self._fault_response(decision, head=head)
            if handled is not None:
                return handled
        try:
            response = self._route()
        except ImageApiError as exc:
            response = Response(exc.status, f"{exc.message}\n".encode())
        except MemoryError:
            response = Response(413, b"the requested image is too large to render\n")
        except Exception as exc:  # never an empty reply, and never a local path in one
            self.log_error("%s while answering %r: %s", type(exc).__name__, self.path, exc)
            response = Response(500, b"server error\n")
        truncate = decision is FaultKind.TRUNCATED
        return self._write(response, head=head, truncate=truncate)

    # -- faults --------------------------------------------------------------------------

    def _fault_response(self, kind: FaultKind, *, head: bool) -> int | None:
        plan = self.server.faults
        assert plan is not None
        if kind is FaultKind.SERVICE_UNAVAILABLE:
            return self._write(
                Response(503, payloads.html_page(503), "text/html; charset=utf-8"), head=head
            )
        if kind is FaultKind.TOO_MANY_REQUESTS:
            headers = {"Retry-After": str(plan.retry_after)}
            return self._write(Response(429, b"Too Many Requests\n", headers=headers), head=head)
        if kind is FaultKind.HTML_200:
            return self._write(
                Response(200, payloads.html_page(200), "text/html; charset=utf-8"), head=head
            )
        if kind is FaultKind.STALL:
            self.server.stopping.wait(plan.stall_seconds)
        return None  # STALL answers normally afterwards; TRUNCATED needs the normal response

    def _override(self, override: Override, *, head: bool) -> int | None:
        kind = override.kind
        if kind is OverrideKind.STALL:
            self.server.stopping.wait(override.seconds)
            return None
        if kind is OverrideKind.BOMB:
            body = payloads.decompression_bomb_png(override.size)
            return self._write(Response(200, body, "image/png"), head=head)
        if kind is OverrideKind.HTML:
            return self._write(
                Response(
                    override.status, payloads.html_page(override.status), override.content_type
                ),
                head=head,
            )
        if kind is OverrideKind.REDIRECT:
            location = override.location.replace(BASE_PLACEHOLDER, self.server.base_url)
            return self._write(Response(override.status, headers={"Location": location}), head=head)
        if kind is OverrideKind.STATUS:
            headers = (
                {} if override.retry_after is None else {"Retry-After": str(override.retry_after)}
            )
            return self._write(
                Response(override.status, override.body, override.content_type, headers), head=head
            )
        if kind is OverrideKind.BODY:
            return self._write(
                Response(override.status, override.body, override.content_type), head=head
            )
        # OVERSIZED: streamed, never held in memory
        self._record(200, 0 if head else override.size)
        self._wait_until_due()
        self.send_response(200)
        self.send_header("Content-Type", override.content_type)
        if override.declare_length:
            self.send_header("Content-Length", str(override.size))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if not head:
            self._stream(payloads.oversized_json(override.size))
        return 200

    # -- routing -------------------------------------------------------------------------

    def _route(self) -> Response:
        raw = self.path.partition("?")[0].partition("#")[0]
        segments = raw.split("/")[1:]
        if len(segments) >= 3 and segments[0] == "iiif" and segments[1] in ("2", "3"):
            return self._image_api(int(segments[1]), segments[2:])
        decoded = [unquote(s) for s in segments]
        found = self.server.mirror.document(decoded, self.server.base_url)
        if found == "gone":
            return Response(410, b"gone\n")
        if isinstance(found, Document):
            return Response(200, found.data, found.content_type, mtime=found.mtime)
        return Response(404, b"not found\n")

    def _image_api(self, version: int, rest: list[str]) -> Response:
        mirror = self.server.mirror
        if not mirror.strict and len(rest) > 2 and rest[-1] == "info.json":
            rest = ["%2F".join(rest[:-1]), "info.json"]
        elif not mirror.strict and len(rest) > 5:
            rest = ["%2F".join(rest[:-4]), *rest[-4:]]
        identifier = unquote(rest[0])
        service = mirror.service(identifier)
        if service is None or version not in service.config.versions:
            return Response(
                404, f"no image service {identifier!r} under /iiif/{version}/\n".encode()
            )
        service_id = f"{self.server.base_url}/iiif/{version}/{quote(identifier, safe='')}"
        mtime = max(service.file.stat().st_mtime, service.config_mtime)
        if len(rest) == 1:  # baseUriRedirect
            return Response(303, headers={"Location": f"{service_id}/info.json"})
        if len(rest) == 2 and rest[1] == "info.json":
            width, height = self.server.renderer.size(service.file)
            info = info_json(
                version=version,
                service_id=service_id,
                width=width,
                height=height,
                config=service.config,
            )
            body = json.dumps(info, ensure_ascii=False, indent=2).encode("utf-8")
            profile = (
                info["profile"][0]
                if version == 2
                else f"http://iiif.io/api/image/3/{info['profile']}.json"
            )
            headers = {"Link": f'<{profile}>;rel="profile"'}
            return Response(200, body, _INFO_TYPES[version], headers, mtime=mtime)
        if len(rest) != 5:
            return Response(
                404,
                b"not an Image API path: "
                b"/iiif/{v}/{identifier}/{region}/{size}/{rotation}/{quality}.{format}\n",
            )
        request = parse_image_request(version, *(unquote(p) for p in rest[1:]))
        width, height = self.server.renderer.size(service.file)
        plan = plan_request(request, width, height, service.config)
        body = self.server.renderer.render(service.file, plan)
        headers = {
            "Link": f"<{service_id}/{plan.box.x},{plan.box.y},{plan.box.w},{plan.box.h}/"
            f'{plan.width},{plan.height}/0/{plan.quality}.{plan.format}>;rel="canonical"'
        }
        return Response(200, body, plan.media_type, headers, mtime=service.file.stat().st_mtime)

    # -- writing -------------------------------------------------------------------------

    def _wait_until_due(self) -> None:
        remaining = self._due - time.monotonic()
        if remaining > 0:
            self.server.stopping.wait(remaining)

    def _write(self, response: Response, *, head: bool, truncate: bool = False) -> int:
        status, body = response.status, response.body
        # CORS stays open: IIIF viewers in a browser need it ("cors" in the profile), and
        # what can be read is the mirror folder only (confined, loopback, Host checked).
        headers = {
            "Access-Control-Allow-Origin": "*",
            "X-Content-Type-Options": "nosniff",
            **response.headers,
        }
        if response.mtime is not None:
            etag = _etag(body)
            headers["ETag"] = etag
            headers["Last-Modified"] = email.utils.formatdate(response.mtime, usegmt=True)
            if status == 200 and _not_modified(self.headers, etag, response.mtime):
                status, body = 304, b""
        if head or status == 304:
            self._record(status, 0)
        else:
            self._record(status, len(body) // 2 if truncate and body else len(body))
        self._wait_until_due()
        self.send_response(status)
        if status != 304:
            headers["Content-Type"] = response.content_type
            headers["Content-Length"] = str(len(body))
        for name, value in headers.items():
            self.send_header(name, value)
        if truncate and body and not head:
            self.close_connection = True
        self.end_headers()
        if head or status == 304:
            return status
        if truncate and body:
            self._stream([body[: len(body) // 2]])
            self.wfile.flush()
            self.close_connection = True
            return status
        self._stream([body])
        return status

    def _stream(self, chunks: Iterable[bytes]) -> None:
        for chunk in chunks:
            if self.server.stopping.is_set():
                self.close_connection = True
                return
            self.wfile.write(chunk)
