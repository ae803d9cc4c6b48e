"""The painting figures: a sequence per reference (strip PNG and GIF), and the finals side by side.

A sequence shows the reference first, then the canvas after every ``every`` strokes, as in
the KaoKore paper's Figures 5-10. Strokes are resolution independent, so the frames are drawn
by the analytic rasteriser at the display size, whatever size the painting was made at.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from kaokore.learn.gan.images import save_gif, save_grid
from kaokore.learn.paint.strokes import render

__all__ = ["PaintingFiles", "stroke_frames", "unique_names", "write_painting"]


@dataclass(frozen=True)
class PaintingFiles:
    """The files one painting command wrote."""

    strips: list[Path]
    gifs: list[Path]
    finals: Path


def unique_names(paths: Sequence[Path]) -> list[str]:
    """File stems made safe and unique (``a``, ``a-2``, ...), to name each reference's files."""
    names: list[str] = []
    for path in paths:
        base = re.sub(r"[^A-Za-z0-9_.-]+", "_", path.stem) or "image"
        name, count = base, 1
        while name in names:
            count += 1
            name = f"{base}-{count}"
        names.append(name)
    return names


@torch.no_grad()
def stroke_frames(
    strokes: torch.Tensor, *, size: int, every: int, background: float = 1.0
) -> list[torch.Tensor]:
    """Canvases ``(N, 3, size, size)`` after every ``every`` strokes (and after the last)."""
    if every < 1:
        raise ValueError("every must be at least 1")
    n, k = strokes.shape[:2]
    canvas = torch.full((n, 3, size, size), background, device=strokes.device)
    frames = []
    for start in range(0, k, every):
        canvas = render(strokes[:, start : start + every], canvas)
        frames.append(canvas.cpu())
    return frames


def write_painting(
    out: Path,
    names: Sequence[str],
    references: torch.Tensor,
    frames: Sequence[torch.Tensor],
    *,
    prefix: str,
) -> PaintingFiles:
    """Write ``{prefix}_{name}.png`` / ``.gif`` per reference and ``{prefix}_finals.png``.

    ``references (N, 3, H, W)`` are resized to the frames' size; the finals sheet has the
    references in its top row and the final canvases below them.
    """
    out.mkdir(parents=True, exist_ok=True)
    size = frames[-1].shape[-1]
    refs = references.cpu().float()
    if refs.shape[-1] != size:
        refs = F.interpolate(refs, size=(size, size), mode="bilinear", antialias=True).clamp(0, 1)
    strips, gifs = [], []
    for i, name in enumerate(names):
        sequence = [refs[i]] + [frame[i] for frame in frames]
        strips.append(save_grid(sequence, out / f"{prefix}_{name}.png", nrow=len(sequence)))
        gifs.append(save_gif(sequence, out / f"{prefix}_{name}.gif"))
    finals = save_grid(
        torch.cat([refs, frames[-1]]), out / f"{prefix}_finals.png", nrow=refs.shape[0]
    )
    return PaintingFiles(strips, gifs, finals)
