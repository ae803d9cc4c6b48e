"""Page captions: which page (canvas) of its work a face is on, as a reader would say it."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from kaokore.db.models import Canvas

__all__ = ["page_caption", "page_labels"]


def page_caption(label: str | None, position: int | None) -> str:
    """``p. 12`` from the canvas label, else from its position in the manifest."""
    if label and label.strip():
        return f"p. {label.strip()}"
    return f"p. {position + 1}" if position is not None else "page unknown"


def page_labels(session: Session, canvas_uris: Iterable[str | None]) -> dict[str, str]:
    """Captions of the given canvases, by URI (one query)."""
    uris = sorted({uri for uri in canvas_uris if uri})
    if not uris:
        return {}
    found = session.execute(
        select(Canvas.uri, Canvas.label, Canvas.position).where(Canvas.uri.in_(uris))
    )
    return {uri: page_caption(label, position) for uri, label, position in found}
