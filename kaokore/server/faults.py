"""Deterministic fault injection: the failures a harvester meets on real IIIF hosts, on demand.

Whether a request fails is a pure function of (seed, request path, attempt number for that
path), never of a shared random stream, so the same URLs fail on every run whatever order
concurrent requests arrive in. With ``first_attempt_only`` only the first try of a URL can
fail, so a client that retries always converges, and a test can assert that it did.

Per-path :class:`Override` entries serve one specific bad answer (a decompression bomb, an
HTML page where an image should be, a redirect to ``ftp://``, an oversized document...).
"""

from __future__ import annotations

import enum
import fnmatch
import hashlib
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["FaultKind", "FaultPlan", "Override", "OverrideKind"]


class FaultKind(enum.StrEnum):
    """The random faults: what upstream servers do under load or in maintenance."""

    SERVICE_UNAVAILABLE = "503"
    TOO_MANY_REQUESTS = "429"  # with Retry-After: FaultPlan.retry_after
    TRUNCATED = "truncate"  # Content-Length promises more than is sent, then the socket closes
    HTML_200 = "html"  # a maintenance page in HTML, with status 200
    STALL = "stall"  # sleep FaultPlan.stall_seconds before answering


class OverrideKind(enum.StrEnum):
    """The fixed bad answers an :class:`Override` can serve for one path."""

    BOMB = "bomb"
    HTML = "html"
    REDIRECT = "redirect"
    OVERSIZED = "oversized"
    STATUS = "status"
    STALL = "stall"
    BODY = "body"


@dataclass(frozen=True, kw_only=True)
class Override:
    """One fixed answer for a path; build it with the class methods.

    ``times`` limits how many requests get it (None: all), after which the path is served
    normally: a harvester that retries should then succeed.
    """

    kind: OverrideKind
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    body: bytes = b""
    location: str = ""
    size: int = 0
    declare_length: bool = True
    seconds: float = 0.0
    retry_after: int | None = None
    times: int | None = None

    @classmethod
    def bomb(cls, *, side: int = 20_000, times: int | None = None) -> Override:
        """A valid PNG of side x side pixels (1 bit each) that is only ~50 kB on the wire."""
        return cls(kind=OverrideKind.BOMB, content_type="image/png", size=side, times=times)

    @classmethod
    def html(
        cls,
        *,
        status: int = 200,
        content_type: str = "text/html; charset=utf-8",
        times: int | None = None,
    ) -> Override:
        """An HTML page; pass ``content_type="image/jpeg"`` for HTML that claims to be an image."""
        return cls(kind=OverrideKind.HTML, status=status, content_type=content_type, times=times)

    @classmethod
    def redirect(cls, location: str, *, status: int = 302, times: int | None = None) -> Override:
        """A redirect to ``location`` (``{BASE}`` is replaced): ``ftp://...``, another host..."""
        return cls(kind=OverrideKind.REDIRECT, status=status, location=location, times=times)

    @classmethod
    def oversized(
        cls, size: int, *, declare_length: bool = True, times: int | None = None
    ) -> Override:
        """A JSON document of ``size`` bytes, streamed; without ``declare_length`` it has no
        Content-Length (the body runs until the connection closes), so only a client that
        counts bytes while reading can stop it."""
        return cls(
            kind=OverrideKind.OVERSIZED,
            content_type="application/json",
            size=size,
            declare_length=declare_length,
            times=times,
        )

    @classmethod
    def status_code(
        cls,
        status: int,
        *,
        body: bytes = b"",
        retry_after: int | None = None,
        times: int | None = None,
    ) -> Override:
        """A bare status (404, 410, 500, 429 with Retry-After...)."""
        return cls(
            kind=OverrideKind.STATUS,
            status=status,
            body=body,
            content_type="text/plain; charset=utf-8",
            retry_after=retry_after,
            times=times,
        )

    @classmethod
    def stall(cls, seconds: float, *, times: int | None = None) -> Override:
        """Sleep ``seconds`` and then answer normally (a client timeout should fire first)."""
        return cls(kind=OverrideKind.STALL, seconds=seconds, times=times)

    @classmethod
    def content(
        cls, body: bytes, *, content_type: str, status: int = 200, times: int | None = None
    ) -> Override:
        """Any bytes under any Content-Type: invalid JSON, a PNG served as JPEG, ..."""
        return cls(
            kind=OverrideKind.BODY, body=body, content_type=content_type, status=status, times=times
        )


#: What :meth:`FaultPlan.decide` returns for a request: nothing, a random fault, or an override.
Decision = FaultKind | Override | None


def _unit(seed: int, path: str, attempt: int, salt: str) -> float:
    """A number in [0, 1) fixed by its arguments (blake2b, so it is stable across runs)."""
    digest = hashlib.blake2b(f"{seed}\0{salt}\0{attempt}\0{path}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass(kw_only=True)
class FaultPlan:
    """Which requests fail, and how. Thread-safe; share one plan per server.

    ``rate`` is the share of (path, attempt) pairs that fail, drawn from ``kinds``; ``paths``
    are shell patterns (``/iiif/*``) on the request path without its query that random faults
    apply to; ``overrides`` map an exact path or a pattern to a fixed answer and take
    precedence over random faults.
    """

    rate: float = 0.0
    kinds: tuple[FaultKind, ...] = tuple(FaultKind)
    seed: int = 0
    first_attempt_only: bool = False
    paths: tuple[str, ...] = ("*",)
    retry_after: int = 1
    stall_seconds: float = 5.0
    overrides: dict[str, Override] = field(default_factory=dict)
    _lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )
    _attempts: Counter[str] = field(default_factory=Counter, init=False, repr=False, compare=False)
    _served: Counter[str] = field(default_factory=Counter, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate must be within [0, 1], got {self.rate!r}")
        if self.rate and not self.kinds:
            raise ValueError("kinds must not be empty when rate is above 0")
        self.kinds = tuple(FaultKind(k) for k in self.kinds)

    def would_fault(self, path: str, attempt: int = 1) -> FaultKind | None:
        """The random fault for the ``attempt``-th request of ``path`` (1-based); pure."""
        if self.rate <= 0 or (self.first_attempt_only and attempt > 1):
            return None
        bare = path.partition("?")[0]
        if not any(fnmatch.fnmatchcase(bare, pattern) for pattern in self.paths):
            return None
        if _unit(self.seed, path, attempt, "fail") >= self.rate:
            return None
        index = int(_unit(self.seed, path, attempt, "kind") * len(self.kinds))
        return self.kinds[index]

    def _override_for(self, path: str) -> tuple[str, Override] | None:
        bare = path.partition("?")[0]
        if path in self.overrides:
            return path, self.overrides[path]
        if bare in self.overrides:
            return bare, self.overrides[bare]
        for pattern, override in self.overrides.items():
            if any(c in pattern for c in "*?[") and fnmatch.fnmatchcase(bare, pattern):
                return pattern, override
        return None

    def decide(self, path: str) -> Decision:
        """Count this request of ``path`` and return what to do with it."""
        with self._lock:
            self._attempts[path] += 1
            attempt = self._attempts[path]
            found = self._override_for(path)
            if found is not None:
                key, override = found
                if override.times is None or self._served[key] < override.times:
                    self._served[key] += 1
                    return override
        return self.would_fault(path, attempt)

    def attempts(self, path: str) -> int:
        """How many requests of ``path`` (with its query) this plan has seen."""
        with self._lock:
            return self._attempts[path]

    def reset(self) -> None:
        """Forget attempt counts, so first-attempt faults happen again."""
        with self._lock:
            self._attempts.clear()
            self._served.clear()

    def expected_share(self, paths: Iterable[str]) -> float:
        """The share of ``paths`` whose first attempt fails: for tests and benchmark reports."""
        items = list(paths)
        return sum(self.would_fault(p) is not None for p in items) / len(items) if items else 0.0
