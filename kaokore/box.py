"""The one pixel rectangle every stage speaks of.

Why a leaf module: a curation's ``#xywh=`` region (ingest), a face's square in a release
(compiler), a review suggestion's square and an Image API request's region (the local IIIF
server) are the same four numbers. Defining the rectangle here, with no imports from any
stage, lets each of them use it without an upward import.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Box"]


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
