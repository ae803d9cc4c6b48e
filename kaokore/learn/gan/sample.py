"""Uncurated samples from a trained generator: the grid of the paper's Figure 4, and singles.

"Uncurated" means the first ``n`` latents drawn from ``seed`` are shown, none left out, so the
grid is an honest picture of the model. The EMA generator is used, as in StyleGAN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch

from kaokore.learn.gan.images import save_grid, save_image
from kaokore.learn.gan.networks import GanConfig, Generator
from kaokore.learn.gan.train import generate, load_checkpoint
from kaokore.learn.runtime import resolve_device

__all__ = ["SampleResult", "load_generator", "sample"]


@dataclass(frozen=True)
class SampleResult:
    """Where the grid and the single images went."""

    grid: Path
    images: list[Path]
    step: int


def load_generator(
    checkpoint: Path, *, device: torch.device | str = "cpu"
) -> tuple[Generator, int]:
    """The EMA generator of a checkpoint, and the training step it was saved at."""
    state = load_checkpoint(Path(checkpoint), device="cpu")
    generator = Generator(GanConfig(**state["config"]["model"]))
    generator.load_state_dict(state["G_ema"])
    return generator.to(device).eval().requires_grad_(False), int(state["step"])


def sample(
    checkpoint: Path,
    *,
    out: Path,
    n: int = 64,
    truncation: float = 0.7,
    seed: int = 0,
    device: str = "auto",
    scale: int = 1,
) -> SampleResult:
    """Write ``out/grid.png`` (``n`` uncurated samples) and ``out/images/seedS_NNNN.png``.

    ``truncation`` is StyleGAN's psi: 1 samples the learned distribution, lower values pull
    each latent towards the average face (less variety, fewer artefacts).
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    generator, step = load_generator(checkpoint, device=resolve_device(device))
    images = generate(generator, n, seed=seed, truncation=truncation)
    out = Path(out)
    grid = save_grid(images, out / "grid.png", nrow=math.ceil(math.sqrt(n)), scale=scale)
    singles = [
        save_image(image, out / "images" / f"seed{seed}_{i:04d}.png")
        for i, image in enumerate(images)
    ]
    return SampleResult(grid, singles, step)
