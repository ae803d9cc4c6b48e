"""Composite pages: a page image described as pieces on a plain background, never stored.

Why: a full-scale mirror of the real KaoKore data has 1,666 pages of about 8 megapixels
each, and only the faces on them are real (the official 256-px images). Storing such pages
as JPEG files would cost gigabytes and a full decode per request; a composite page is a
small JSON file (``*.page.json``) and a request renders only the box it asks for::

    {"width": 4200, "height": 3000, "background": [236, 228, 210],
     "pieces": [["faces/00000012.jpg", 4094, 1888, 348, 348], ...]}

Each piece is an image file (relative to the page file, no ``..``) stretched to its box
``x, y, w, h`` in page pixels; later pieces are painted over earlier ones. Rendering a box
pastes the parts of the pieces that overlap it, so the cost follows the request, not the
page. A services.json entry names such a file as its ``file`` like any page image.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PIL import Image

__all__ = ["COMPOSITE_SUFFIX", "CompositePages", "is_composite"]

COMPOSITE_SUFFIX: Final = ".page.json"


def is_composite(path: Path) -> bool:
    """True for a composite page description (``*.page.json``)."""
    return path.name.endswith(COMPOSITE_SUFFIX)


@dataclass(frozen=True, slots=True)
class _Piece:
    file: Path
    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True, slots=True)
class _Page:
    width: int
    height: int
    background: tuple[int, int, int]
    pieces: tuple[_Piece, ...]


def _read(path: Path) -> _Page:
    raw = json.loads(path.read_text(encoding="utf-8"))
    pieces = []
    for item in raw.get("pieces", []):
        name, x, y, w, h = item
        relative = Path(str(name))
        if relative.is_absolute() or ".." in relative.parts:
            raise ValueError(f"{path}: piece {name!r} must be a relative path without '..'")
        pieces.append(_Piece(path.parent / relative, int(x), int(y), int(w), int(h)))
    r, g, b = raw.get("background", (255, 255, 255))
    return _Page(int(raw["width"]), int(raw["height"]), (int(r), int(g), int(b)), tuple(pieces))


class CompositePages:
    """Parsed composite pages and resized pieces, in small thread-safe LRU caches."""

    def __init__(self, *, pages: int = 64, pieces: int = 256) -> None:
        self._pages: OrderedDict[tuple[str, int], _Page] = OrderedDict()
        self._pieces: OrderedDict[tuple[str, int, int], Image.Image] = OrderedDict()
        self._capacity = (pages, pieces)
        self._lock = threading.Lock()

    def _page(self, path: Path) -> _Page:
        key = (str(path), path.stat().st_mtime_ns)
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
                return page
        page = _read(path)
        with self._lock:
            self._pages[key] = page
            while len(self._pages) > self._capacity[0]:
                self._pages.popitem(last=False)
        return page

    def _piece(self, piece: _Piece) -> Image.Image:
        key = (str(piece.file), piece.w, piece.h)
        with self._lock:
            image = self._pieces.get(key)
            if image is not None:
                self._pieces.move_to_end(key)
                return image
        with Image.open(piece.file) as opened:
            image = opened.convert("RGB")
        if image.size != (piece.w, piece.h):
            image = image.resize((piece.w, piece.h), Image.Resampling.LANCZOS)
        with self._lock:
            self._pieces[key] = image
            while len(self._pieces) > self._capacity[1]:
                self._pieces.popitem(last=False)
        return image

    def size(self, path: Path) -> tuple[int, int]:
        """(width, height) of the page, without rendering anything."""
        page = self._page(path)
        return page.width, page.height

    def crop(self, path: Path, box: tuple[int, int, int, int]) -> Image.Image:
        """The page's pixels in ``box`` (left, top, right, bottom), rendered now."""
        page = self._page(path)
        left, top, right, bottom = box
        out = Image.new("RGB", (right - left, bottom - top), page.background)
        for piece in page.pieces:
            x0, y0 = max(left, piece.x), max(top, piece.y)
            x1, y1 = min(right, piece.x + piece.w), min(bottom, piece.y + piece.h)
            if x1 <= x0 or y1 <= y0:
                continue
            part = self._piece(piece).crop((x0 - piece.x, y0 - piece.y, x1 - piece.x, y1 - piece.y))
            out.paste(part, (x0 - left, y0 - top))
        return out
