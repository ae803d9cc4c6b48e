"""The one pixel rectangle every stage speaks of.

Why a leaf module: a curation's ``#xywh=`` region (ingest), a face's square in a release
(compiler), a review suggestion's square and an Image API request's region (the local IIIF
server) are the same four numbers. Defining the rectangle here, with no imports from any
stage, lets each of them use it without an upward import.
"""

from __future__ import annotations

from dataclasses import dataclass

_PARTS = ("x", "y", "w", "h")

__all__ = ["Box", "box_columns", "box_values"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Box:
    """A pixel rectangle: ``x,y`` top-left (may be negative), ``w,h`` size."""

    x: int
    y: int
    w: int
    h: int

    @property
    def iiif(self) -> str:
        """The rectangle as an Image API region parameter (``x,y,w,h``)."""
        return f"{self.x},{self.y},{self.w},{self.h}"


def box_columns(prefix: str) -> tuple[str, ...]:
    """The four columns a table stores a rectangle in: ``PREFIX_x``, ``_y``, ``_w``, ``_h``.

    Why here: the faces table (``region_*``, ``square_*``), the bulk writer and the release's
    ``faces.csv`` all store rectangles so; naming the columns once keeps them in step.
    """
    return tuple(f"{prefix}_{part}" for part in _PARTS)


def box_values(prefix: str, box: Box | None) -> dict[str, int | None]:
    """``box`` as the values of :func:`box_columns` (all None when there is no rectangle)."""
    values = (None,) * 4 if box is None else (box.x, box.y, box.w, box.h)
    return dict(zip(box_columns(prefix), values, strict=True))
