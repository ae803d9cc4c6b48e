"""Write tensors as images: single PNGs, uncurated grids, strips and animated GIFs.

Every figure the generative commands write goes through here, so that they share one
convention: float tensors in ``[0, 1]`` (or uint8), channels first, padded with white.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

__all__ = ["grid_image", "save_gif", "save_grid", "save_image", "to_pil"]


def to_pil(image: torch.Tensor) -> Image.Image:
    """A ``(3, H, W)`` tensor (float in ``[0, 1]`` or uint8) as an RGB PIL image."""
    if image.dtype != torch.uint8:
        image = image.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8)
    array = image.cpu().permute(1, 2, 0).numpy()
    return Image.fromarray(np.ascontiguousarray(array))


def grid_image(
    images: torch.Tensor | Sequence[torch.Tensor], *, nrow: int | None = None, padding: int = 2
) -> Image.Image:
    """Images of one size tiled ``nrow`` per row (square by default) on a white background."""
    items = list(images)
    if not items:
        raise ValueError("grid_image needs at least one image")
    nrow = nrow or math.ceil(math.sqrt(len(items)))
    rows = math.ceil(len(items) / nrow)
    h, w = items[0].shape[-2:]
    sheet = Image.new(
        "RGB", (nrow * (w + padding) + padding, rows * (h + padding) + padding), "white"
    )
    for i, item in enumerate(items):
        r, c = divmod(i, nrow)
        sheet.paste(to_pil(item), (padding + c * (w + padding), padding + r * (h + padding)))
    return sheet


def save_grid(
    images: torch.Tensor | Sequence[torch.Tensor],
    path: Path,
    *,
    nrow: int | None = None,
    scale: int = 1,
) -> Path:
    """Save :func:`grid_image` as a PNG, enlarged ``scale`` times with nearest neighbours."""
    sheet = grid_image(images, nrow=nrow)
    if scale > 1:
        sheet = sheet.resize((sheet.width * scale, sheet.height * scale), Image.Resampling.NEAREST)
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, optimize=True)
    return path


def save_image(image: torch.Tensor, path: Path) -> Path:
    """Save one ``(3, H, W)`` tensor as PNG or JPEG (by suffix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    to_pil(image).save(path)
    return path


def save_gif(
    frames: Sequence[torch.Tensor], path: Path, *, duration_ms: int = 250, scale: int = 1
) -> Path:
    """An animated GIF of ``frames``, the last one held three times as long, looping forever."""
    if not frames:
        raise ValueError("save_gif needs at least one frame")
    pictures = [to_pil(frame) for frame in frames]
    if scale > 1:
        pictures = [
            p.resize((p.width * scale, p.height * scale), Image.Resampling.NEAREST)
            for p in pictures
        ]
    durations = [duration_ms] * (len(pictures) - 1) + [duration_ms * 3]
    path.parent.mkdir(parents=True, exist_ok=True)
    pictures[0].save(
        path, save_all=True, append_images=pictures[1:], duration=durations, loop=0, optimize=True
    )
    return path
