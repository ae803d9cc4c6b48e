"""What one ``kaokore web`` process serves, and with which limits.

Why a settings object and not module globals: the app factory builds everything from one
value, so tests run several apps side by side (SQLite and PostgreSQL), and later areas (a
review mode, say) switch themselves on with a flag and add their own routers without
touching the ones here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from kaokore.config import Settings

if TYPE_CHECKING:
    from fastapi import APIRouter

__all__ = ["DEFAULT_VIEWER", "WebSettings"]

#: "Open in a IIIF viewer": CODH's IIIF Curation Viewer, given the manifest and the canvas.
DEFAULT_VIEWER: Final = (
    "http://codh.rois.ac.jp/software/iiif-curation-viewer/demo/?manifest={manifest}&canvas={canvas}"
)


@dataclass(frozen=True, kw_only=True)
class WebSettings:
    """The database, the limits and the optional areas of one web app."""

    #: Where the database and the crop store are (``--db``, ``--home``).
    database: Settings = field(default_factory=Settings.from_env)
    #: Faces per grid page, unless the URL asks for another size (up to ``max_page_size``).
    page_size: int = 60
    #: The largest page the HTML grid and the JSON API serve, whatever a client asks.
    max_page_size: int = 200
    #: Faces on one board (and in one board export).
    max_board: int = 500
    #: Seconds a computed facet index and cached result lists are trusted before the
    #: database is asked (cheaply) whether anything changed.
    cache_seconds: float = 2.0
    #: Compute the answers for the facet values of the first page in the background after
    #: the index is built (tests switch it off to count queries exactly).
    warm_up: bool = True
    #: URL of a IIIF viewer, with ``{manifest}`` and ``{canvas}`` (URL-encoded) filled in.
    viewer_url: str = DEFAULT_VIEWER
    #: Width of the page image asked from the IIIF image service on a face's page.
    page_image_width: int = 1200
    #: Optional areas: ``review`` mode and anything later add routers here, links in the
    #: navigation bar (label, path), and folders of their own templates (searched first;
    #: they can extend ``base.html`` and use ``macros.html``).
    review: bool = False
    extra_routers: Sequence[APIRouter] = ()
    extra_nav: Sequence[tuple[str, str]] = ()
    template_dirs: Sequence[Path] = ()
    #: Called with the app after the built-in routers are added (for later areas).
    extend: Sequence[Callable[[Any], None]] = ()

    @property
    def blob_dir(self) -> Path:
        """The content-addressed crop store of the home folder."""
        return self.database.blob_dir
