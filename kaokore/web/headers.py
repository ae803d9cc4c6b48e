"""Headers on every answer: the security policy and the server's own time.

A plain ASGI middleware (not Starlette's ``BaseHTTPMiddleware``, which streams every body
through an extra task and costs milliseconds per request): it only adds headers to the
``http.response.start`` message.
"""

from __future__ import annotations

import time
from typing import Any, Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SECURITY_HEADERS", "HeadersMiddleware"]

#: Sent with every answer. Scripts and styles only from this server (no inline script, so
#: an injected ``<script>`` or ``onerror=`` would not run even if it escaped escaping);
#: page images may come from any IIIF host. Inline ``style`` attributes are allowed: the
#: face box on a page is positioned with numbers the server computed.
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' http: https: data:; script-src 'self'; "
        "style-src 'self'; style-src-attr 'unsafe-inline'; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
_ENCODED: Final = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]


class HeadersMiddleware:
    """Adds :data:`SECURITY_HEADERS` (unless a route set its own) and ``Server-Timing: app;
    dur=MS``, the time from the request to the start of the answer (read by browsers'
    developer tools and by ``bench/web.py``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(pair for pair in _ENCODED if pair[0] not in present)
                elapsed = (time.perf_counter() - started) * 1000
                headers.append((b"server-timing", f"app;dur={elapsed:.2f}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
