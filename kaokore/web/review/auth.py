"""Who may write in ``kaokore web --review``: sessions, CSRF tokens and a login rate limit.

Why in memory and not in the database: in review mode the database is written only with
decisions (through one writer connection); a login writes nothing. A session is a random
256-bit token in an ``HttpOnly``, ``SameSite=Strict`` cookie; the server keeps only its
sha256, the reviewer, a CSRF token, and two deadlines: an idle one (renewed on every
request) and an absolute one. Restarting the server logs everyone out.

Cross-site request forgery: every writing request carries the session's CSRF token (a form
field, or the ``X-CSRF-Token`` header), compared in constant time; a request whose ``Origin``
is another site is refused too. The login form, which has no session yet, uses a
double-submit token (a cookie and a form field that must match).

Failed logins are limited per client address and per name in a sliding window; past the
limit a login is refused before the password is even checked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

__all__ = [
    "COOKIE",
    "LOGIN_COOKIE",
    "LoginLimiter",
    "ReviewSession",
    "SessionStore",
    "tokens_match",
]

#: The session cookie and the login form's double-submit cookie.
COOKIE: Final = "kaokore_review"
LOGIN_COOKIE: Final = "kaokore_login_csrf"


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of two tokens; a missing one never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class ReviewSession:
    """One logged-in reviewer: who, the CSRF token, deadlines, and what they did here."""

    reviewer_id: int
    reviewer: str
    csrf: str
    idle_deadline: float
    absolute_deadline: float
    #: Faces skipped in this session, per task (they leave this reviewer's queue).
    skipped: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    #: Review ids decided in this session, newest last (what undo undoes).
    decided: list[int] = field(default_factory=list)


class SessionStore:
    """Sessions by token digest, expiring after ``idle_seconds`` idle or ``max_seconds``."""

    def __init__(
        self,
        *,
        idle_seconds: float = 30 * 60,
        max_seconds: float = 8 * 3600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds
        self._clock = clock
        self._sessions: dict[str, ReviewSession] = {}
        self._lock = threading.Lock()

    def create(self, reviewer_id: int, reviewer: str) -> tuple[str, ReviewSession]:
        """A new session; returns the token for the cookie (kept here only as a digest)."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        session = ReviewSession(
            reviewer_id=reviewer_id,
            reviewer=reviewer,
            csrf=secrets.token_urlsafe(32),
            idle_deadline=now + self.idle_seconds,
            absolute_deadline=now + self.max_seconds,
        )
        with self._lock:
            self._sessions[_digest(token)] = session
        return token, session

    def get(self, token: str | None) -> ReviewSession | None:
        """The live session of ``token`` (its idle deadline renewed), or None."""
        if not token:
            return None
        key = _digest(token)
        now = self._clock()
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                return None
            if now >= session.idle_deadline or now >= session.absolute_deadline:
                del self._sessions[key]
                return None
            session.idle_deadline = now + self.idle_seconds
            return session

    def end(self, token: str | None) -> None:
        """Log out: forget the session."""
        if token:
            with self._lock:
                self._sessions.pop(_digest(token), None)


class LoginLimiter:
    """At most ``max_failures`` failed logins per key (address, name) per ``window`` seconds."""

    def __init__(
        self,
        *,
        max_failures: int = 5,
        window: float = 15 * 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and now - failures[0] >= self.window:
            failures.popleft()
        return failures

    def retry_after(self, *keys: str) -> int:
        """Seconds until a login for ``keys`` may be tried again (0: now)."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key in keys:
                failures = self._recent(key, now)
                if len(failures) >= self.max_failures:
                    wait = max(wait, failures[0] + self.window - now)
        return int(wait) + (1 if wait > 0 else 0)

    def failed(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
