"""A thread-safe log of what the server answered, for tests and benchmarks to assert on.

E.g. "the second harvest made only conditional requests and downloaded no image bytes".
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

__all__ = ["RequestLog", "RequestRecord"]


@dataclass(frozen=True)
class RequestRecord:
    """One answered request.

    ``path`` is the raw request target (percent-encoding kept); ``bytes_sent`` counts body
    bytes (0 for a 304 or a HEAD; for a truncated body, the part sent); ``conditional`` is
    True when the request carried If-None-Match or If-Modified-Since; ``fault`` names the
    injected fault or override, if any.
    """

    method: str
    path: str
    status: int
    bytes_sent: int
    conditional: bool
    fault: str | None = None

    @property
    def is_image(self) -> bool:
        """An Image API image request (not info.json, not a document)."""
        bare = self.path.partition("?")[0]
        return (
            bare.startswith("/iiif/") and not bare.endswith("/info.json") and bare.count("/") >= 7
        )


class RequestLog:
    """Append-only list of :class:`RequestRecord`, safe to share between handler threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def snapshot(self) -> list[RequestRecord]:
        """A copy, so a test can iterate while the server keeps answering."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
