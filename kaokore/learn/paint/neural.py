"""A neural stroke renderer: a network that draws a stroke's footprint from its shape numbers.

*Learning to Paint* (Huang et al. 2019) trains its painting agent through a differentiable
renderer; a small network that imitates the real rasteriser is fast, smooth and batched. This
renderer has the paper's network (fully connected layers, then convolutions with pixel
shuffles) with one change that makes it learnable in minutes on a CPU rather than hours on a
GPU: it draws the stroke in the stroke's **own frame**.

* The stroke's bounding square (its control points' box, grown by its radius and a margin) is
  found analytically: a centre and a half side.
* The network maps the stroke's shape *within* that square (control points in ``[-1, 1]``,
  radii relative to the half side) to a ``patch x patch`` footprint.
* The patch is placed on the canvas by a differentiable resampling (``grid_sample``), so the
  gradient reaches the position and size through the placement, and the shape through the
  network.

Translation and scale, which a plain network must learn for every position, are thereby
exact, and the network only learns shapes (curvature, taper, thickness).

Training data: random strokes are rasterised in their frame by the analytic rasteriser of
:mod:`kaokore.learn.paint.strokes` (the expensive part on a CPU) into a pool; each batch
draws from it with the 16 exact symmetries of a stroke (8 flips/rotations of the square, and
reversing its direction), and part of the pool is redrawn as training goes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from kaokore.learn.paint.strokes import SHAPE_PARAMS, curve_coverage, end_radii

__all__ = [
    "NeuralRenderer",
    "RendererTrainConfig",
    "frame_targets",
    "random_shapes",
    "stroke_frame",
    "train_renderer",
]

Progress = Callable[[dict[str, float]], None]
#: Canvas pixels left around a stroke's edge inside its frame, for the soft edge.
FRAME_MARGIN_PX = 1.5


def stroke_frame(shape: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each stroke in its own square: ``(local (M, 8), centre (M, 2), half (M,))``.

    ``local`` holds the control points relative to the centre in units of ``half`` (so in
    ``[-1, 1]``) and the end radii in units of ``half``.
    """
    control = shape[:, :6].reshape(-1, 3, 2)
    radii = end_radii(shape, size)
    low, high = control.amin(dim=1), control.amax(dim=1)
    centre = (low + high) / 2
    half = ((high - low) / 2).amax(dim=1) + radii.amax(dim=1) + FRAME_MARGIN_PX / size
    local = (control - centre[:, None]) / half[:, None, None]
    return torch.cat([local.reshape(-1, 6), radii / half[:, None]], dim=1), centre, half


def frame_targets(local: torch.Tensor, patch: int) -> torch.Tensor:
    """The analytic footprints ``(M, patch, patch)`` of strokes given in their own frame."""
    control = 0.5 + 0.5 * local[:, :6].reshape(-1, 3, 2)
    return curve_coverage(control, 0.5 * local[:, 6:8], patch)


class NeuralRenderer(nn.Module):
    """Shapes ``(..., 8)`` in ``[0, 1]`` -> footprints ``(..., size, size)`` in ``[0, 1]``."""

    def __init__(self, size: int = 64, patch: int = 32, width: int = 256) -> None:
        super().__init__()
        if patch % 8 or patch < 16:
            raise ValueError("the neural renderer's patch must be a multiple of 8, at least 16")
        self.size, self.patch, self.width = size, patch, width
        self.base = patch // 8
        self.fc = nn.Sequential(
            nn.Linear(SHAPE_PARAMS, width), nn.ReLU(),
            nn.Linear(width, 2 * width), nn.ReLU(),
            nn.Linear(2 * width, 4 * width), nn.ReLU(),
            nn.Linear(4 * width, 16 * self.base * self.base),
        )  # fmt: skip
        self.conv = nn.Sequential(
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1), nn.PixelShuffle(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 16, 3, padding=1), nn.PixelShuffle(2),
            nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(),
            nn.Conv2d(8, 4, 3, padding=1), nn.PixelShuffle(2),
        )  # fmt: skip

    def draw_patch(self, local: torch.Tensor) -> torch.Tensor:
        """The network: strokes in their frame ``(M, 8)`` -> patches ``(M, patch, patch)``."""
        x = F.relu(self.fc(local))
        x = self.conv(x.view(-1, 16, self.base, self.base))
        return torch.sigmoid(x)[:, 0]

    def forward(self, shape: torch.Tensor) -> torch.Tensor:
        lead = shape.shape[:-1]
        flat = shape.reshape(-1, shape.shape[-1])
        local, centre, half = stroke_frame(flat, self.size)
        patches = self.draw_patch(local)
        m, size = flat.shape[0], self.size
        pixels = (torch.arange(size, device=shape.device, dtype=shape.dtype) + 0.5) / size
        gx = (pixels[None] - centre[:, 0, None]) / half[:, None]  # (M, S) per column
        gy = (pixels[None] - centre[:, 1, None]) / half[:, None]  # (M, S) per row
        grid = torch.stack(
            [gx[:, None, :].expand(m, size, size), gy[:, :, None].expand(m, size, size)], dim=-1
        )
        placed = F.grid_sample(
            patches[:, None], grid, mode="bilinear", padding_mode="zeros", align_corners=False
        )
        return placed.reshape(*lead, size, size)


def random_shapes(n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` random stroke shapes in ``[0, 1]``, of every extent from a dot to the canvas."""
    scale = torch.rand(n, 1, generator=generator) * 0.98 + 0.02
    centre = torch.rand(n, 2, generator=generator)
    points = centre.repeat(1, 3) + scale * (torch.rand(n, 6, generator=generator) - 0.5)
    return torch.cat([points.clamp(0, 1), torch.rand(n, 2, generator=generator)], dim=1)


def _symmetry(
    local: torch.Tensor, image: torch.Tensor, code: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Apply symmetry ``code`` (0-15 per sample) to framed strokes and their patches."""
    local, image = local.clone(), image.clone()
    points = local[:, :6].view(-1, 3, 2)
    flip_x, flip_y, swap, reverse = [((code >> bit) & 1).bool() for bit in range(4)]
    points[flip_x, :, 0] = -points[flip_x, :, 0]
    image[flip_x] = image[flip_x].flip(-1)
    points[flip_y, :, 1] = -points[flip_y, :, 1]
    image[flip_y] = image[flip_y].flip(-2)
    points[swap] = points[swap].flip(-1)
    image[swap] = image[swap].transpose(-1, -2)
    points[reverse] = points[reverse].flip(1)
    local[reverse, 6:8] = local[reverse, 6:8].flip(-1)
    local[:, :6] = points.reshape(-1, 6)
    return local, image


@dataclass(frozen=True, kw_only=True)
class RendererTrainConfig:
    """How long and on how much data to fit the neural renderer."""

    size: int = 64
    patch: int = 32
    width: int = 256
    steps: int = 2000
    batch_size: int = 64
    pool: int = 2048  # strokes rasterised up front
    refresh: int = 64  # strokes re-drawn in the pool every 100 steps
    lr: float = 1e-3
    seed: int = 0


def train_renderer(
    config: RendererTrainConfig,
    *,
    device: torch.device,
    progress: Progress | None = None,
) -> tuple[NeuralRenderer, list[dict[str, float]]]:
    """Fit a :class:`NeuralRenderer` to the analytic rasteriser; returns it and its history."""
    generator = torch.Generator().manual_seed(config.seed)
    torch.manual_seed(config.seed)
    model = NeuralRenderer(config.size, config.patch, config.width).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, config.steps, config.lr / 20)

    def draw(count: int) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            local = stroke_frame(random_shapes(count, generator), config.size)[0]
            return local, frame_targets(local, config.patch)

    locals_, images = draw(config.pool)
    history: list[dict[str, float]] = []
    for step in range(1, config.steps + 1):
        pick = torch.randint(config.pool, (config.batch_size,), generator=generator)
        code = torch.randint(16, (config.batch_size,), generator=generator)
        local, image = _symmetry(locals_[pick], images[pick], code)
        loss = F.mse_loss(model.draw_patch(local.to(device)), image.to(device))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        optimiser.step()
        schedule.step()
        if step % 100 == 0 or step == config.steps:
            record = {"step": float(step), "renderer_mse": float(loss.detach())}
            history.append(record)
            if progress is not None:
                progress(record)
            if config.refresh and step < config.steps:
                slots = torch.randint(config.pool, (config.refresh,), generator=generator)
                locals_[slots], images[slots] = draw(config.refresh)
    return model.eval(), history
