"""Cut, scale and encode page images with Pillow, deterministically and with small caches.

Encoding uses a fixed JPEG quality and no optimisation passes, so the same request gives the
same bytes (and the same strong ETag) on every run with the same Pillow. Decoded pages and
encoded results are cached by file and mtime, so a benchmark measures the client, not Pillow.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Generic, TypeVar

from PIL import Image

from kaokore.server.composite import CompositePages, is_composite
from kaokore.server.imageapi import RenderPlan

__all__ = ["DEFAULT_JPEG_QUALITY", "Renderer"]

DEFAULT_JPEG_QUALITY = 90
#: Encoded results larger than this are not kept (512 of them at most are).
_CACHED_RESULT_BYTES = 1 << 20

K = TypeVar("K")
V = TypeVar("V")


class _Lru(Generic[K, V]):
    """A tiny thread-safe LRU cache."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)


class Renderer:
    """Turns (page file, :class:`RenderPlan`) into image bytes."""

    def __init__(self, *, jpeg_quality: int = DEFAULT_JPEG_QUALITY) -> None:
        self.jpeg_quality = jpeg_quality
        self._pages: _Lru[tuple[str, int], Image.Image] = _Lru(8)
        self._results: _Lru[tuple[object, ...], bytes] = _Lru(512)
        self._composites = CompositePages()

    def page(self, path: Path) -> Image.Image:
        """The decoded RGB page (cached by path and mtime)."""
        key = (str(path), path.stat().st_mtime_ns)
        cached = self._pages.get(key)
        if cached is not None:
            return cached
        with Image.open(path) as opened:
            image = opened.convert("RGB")
        self._pages.put(key, image)
        return image

    def size(self, path: Path) -> tuple[int, int]:
        """(width, height) of the page."""
        if is_composite(path):
            return self._composites.size(path)
        return self.page(path).size

    def render(self, path: Path, plan: RenderPlan) -> bytes:
        """Cut ``plan.box``, scale it to ``plan.width`` x ``plan.height``, encode it."""
        box = plan.box
        key = (
            str(path),
            path.stat().st_mtime_ns,
            box,
            plan.width,
            plan.height,
            plan.quality,
            plan.format,
        )
        cached = self._results.get(key)
        if cached is not None:
            return cached
        corners = (box.x, box.y, box.x + box.w, box.y + box.h)
        if is_composite(path):  # rendered for the box alone (see kaokore.server.composite)
            image = self._composites.crop(path, corners)
        else:
            image = self.page(path).crop(corners)
        if (plan.width, plan.height) != image.size:
            image = image.resize((plan.width, plan.height), Image.Resampling.LANCZOS)
        if plan.quality == "gray":
            image = image.convert("L")
        out = io.BytesIO()
        if plan.format == "png":
            image.save(out, format="PNG", compress_level=6)
        else:
            image.save(
                out, format="JPEG", quality=self.jpeg_quality, optimize=False, progressive=False
            )
        data = out.getvalue()
        if len(data) <= _CACHED_RESULT_BYTES:  # a few large answers must not fill memory
            self._results.put(key, data)
        return data
