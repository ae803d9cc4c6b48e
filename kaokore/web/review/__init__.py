"""``kaokore web --review``: the review queue, behind a login, writing only decisions.

:func:`with_review` turns the settings of a read-only app into those of a review server:
the same read-only database for every page, plus the review routes, which write through
the one ``writer`` connection given here (and only :mod:`kaokore.review.store` writes with
it). Without it the app has no route that writes, and its database is opened read-only.
"""

from __future__ import annotations

from dataclasses import replace

from kaokore.db.session import Database
from kaokore.web.review.auth import LoginLimiter, SessionStore
from kaokore.web.review.routes import ReviewOptions, install_refusals, review_router
from kaokore.web.settings import WebSettings

__all__ = ["LoginLimiter", "ReviewOptions", "SessionStore", "review_router", "with_review"]


def with_review(
    settings: WebSettings,
    writer: Database,
    options: ReviewOptions | None = None,
    *,
    sessions: SessionStore | None = None,
    limiter: LoginLimiter | None = None,
) -> WebSettings:
    """``settings`` with the review area switched on, writing decisions through ``writer``."""
    router = review_router(writer, options, sessions=sessions, limiter=limiter)
    return replace(
        settings,
        review=True,
        extra_routers=(*settings.extra_routers, router),
        extra_nav=(*settings.extra_nav, ("Review", "/review")),
        extend=(*settings.extend, install_refusals),
    )
