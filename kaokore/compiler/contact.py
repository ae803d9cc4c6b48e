"""``contact_sheet.png``: a few faces of every class, to see a release at a glance.

Why not :func:`kaokore.query.contact_sheet`: that one draws any list of faces from the
database's blob store as a grid in the list's order, captions under each face and a
placeholder for a crop never fetched; this one draws a release's own images, one captioned
row per class, chosen deterministically. The two share nothing but Pillow, so they have
different names: this is :func:`class_sheet`.

Why deterministic: the sheet is a file of the release, so it must be identical when the
release is rebuilt. The faces of each row are the first of their class in the order of a
seeded hash of their key (not a random draw), the thumbnails are resized with a fixed filter,
and the PNG carries no timestamp.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from PIL import Image, ImageDraw, ImageFont

from kaokore.compiler.records import ReleaseEntry
from kaokore.compiler.splits import unit_interval
from kaokore.vocab import GENDER_CLASSES, STATUS_CLASSES

__all__ = ["PER_ROW", "THUMB", "class_sheet"]

#: Faces per class and the side of a thumbnail, in pixels.
PER_ROW: Final = 8
THUMB: Final = 96
_LABEL_WIDTH: Final = 150
_GAP: Final = 4


def _rows(entries: Sequence[ReleaseEntry], seed: int) -> list[tuple[str, list[ReleaseEntry]]]:
    labelled = [e for e in entries if e.row.labelled]
    order = sorted(labelled, key=lambda e: (unit_interval(seed, f"contact:{e.row.key}"), e.image))
    rows: list[tuple[str, list[ReleaseEntry]]] = []
    for index, (_ja, english) in enumerate(GENDER_CLASSES):
        chosen = [e for e in order if e.row.gender == index][:PER_ROW]
        rows.append((f"gender: {english}", chosen))
    for index, (_ja, english) in enumerate(STATUS_CLASSES):
        chosen = [e for e in order if e.row.status == index][:PER_ROW]
        rows.append((f"status: {english}", chosen))
    return rows


def class_sheet(entries: Sequence[ReleaseEntry], images_dir: Path, *, seed: int) -> bytes:
    """A PNG with one row per class (2 genders, 4 statuses) of up to ``PER_ROW`` faces."""
    rows = _rows(entries, seed)
    width = _LABEL_WIDTH + PER_ROW * (THUMB + _GAP) + _GAP
    height = len(rows) * (THUMB + _GAP) + _GAP
    sheet = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for row_index, (caption, chosen) in enumerate(rows):
        top = _GAP + row_index * (THUMB + _GAP)
        text = f"{caption} ({len(chosen)})"
        draw.text((_GAP, top + THUMB // 2 - 6), text, fill=(0, 0, 0), font=font)
        for column, entry in enumerate(chosen):
            with Image.open(images_dir / entry.image) as image:
                thumb = image.convert("RGB").resize((THUMB, THUMB), Image.Resampling.LANCZOS)
            sheet.paste(thumb, (_LABEL_WIDTH + _GAP + column * (THUMB + _GAP), top))
    out = io.BytesIO()
    sheet.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()
