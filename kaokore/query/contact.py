"""Contact sheets: a grid of face crops from the blob store, as one PNG.

Why a picture: a list of 40 face ids says little to an art historian; forty faces side by
side show the workshop, the hand and the period at a glance. Faces whose crop has not
been fetched (``kaokore ingest`` fetches crops unless ``--no-images``) are drawn as grey
placeholders, so the grid always shows every row of the result, in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from kaokore.query.rows import FaceRow

__all__ = ["contact_sheet", "open_crop"]

_BACKGROUND = (250, 250, 247)
_PLACEHOLDER = (200, 200, 200)
_TEXT = (30, 30, 30)


def open_crop(row: FaceRow, blob_dir: Path) -> Image.Image | None:
    """The face's stored crop as RGB, or None when it was never fetched or is unreadable."""
    if row.blob_path is None:
        return None
    path = Path(blob_dir) / row.blob_path
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (OSError, ValueError):
        return None


def _caption(row: FaceRow, score: float | None) -> str:
    """ASCII only: PIL's built-in font has no Japanese glyphs."""
    parts = [f"#{row.face_id}"]
    if row.status_en:
        parts.append(row.status_en)
    if score is not None:
        parts.append(f"{score:.2f}")
    return " ".join(parts)


def contact_sheet(
    rows: Sequence[FaceRow],
    out: Path,
    *,
    blob_dir: Path,
    columns: int = 8,
    tile: int = 128,
    scores: Sequence[float] | None = None,
    captions: bool = True,
) -> Path:
    """Write a PNG grid of the crops of ``rows`` (placeholders for missing crops) to ``out``.

    ``scores`` (similarities, say) are printed under each face when given.
    """
    columns = max(1, min(columns, max(1, len(rows))))
    caption_height = 14 if captions else 0
    cell_w, cell_h = tile + 4, tile + 4 + caption_height
    count = max(1, len(rows))
    lines = (count + columns - 1) // columns
    sheet = Image.new("RGB", (columns * cell_w, lines * cell_h), _BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for index, row in enumerate(rows):
        x = (index % columns) * cell_w + 2
        y = (index // columns) * cell_h + 2
        crop = open_crop(row, blob_dir)
        if crop is None:
            draw.rectangle((x, y, x + tile - 1, y + tile - 1), fill=_PLACEHOLDER)
            draw.line((x, y, x + tile - 1, y + tile - 1), fill=_BACKGROUND, width=2)
            draw.line((x, y + tile - 1, x + tile - 1, y), fill=_BACKGROUND, width=2)
            draw.text((x + 4, y + 4), "no crop", fill=_TEXT, font=font)
        else:
            crop.thumbnail((tile, tile))
            sheet.paste(crop, (x + (tile - crop.width) // 2, y + (tile - crop.height) // 2))
        if captions:
            score = scores[index] if scores is not None and index < len(scores) else None
            draw.text((x, y + tile + 1), _caption(row, score), fill=_TEXT, font=font)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, format="PNG")
    return out
