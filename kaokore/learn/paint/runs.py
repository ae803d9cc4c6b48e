"""The painting commands as library calls: paint images and write every figure and number.

``kaokore paint optimize`` is :func:`optimize_images`, ``kaokore paint agent`` is
:func:`~kaokore.learn.paint.agent.train_agent` (through :func:`train_agent_on_release`) and
``kaokore paint run`` is :func:`run_agent`. Both painters write the same files, named by
painter (``optimize_*`` or ``agent_*``), so their results on the same references compare
side by side:

* ``{painter}_{image}.png`` and ``.gif``: the reference, then the canvas after every ``every``
  strokes;
* ``{painter}_finals.png``: the references (top row) over their final canvases;
* ``{painter}_strokes.pt``: the strokes ``(N, K, 12)`` in painting order;
* ``{painter}.json``: the options, and each image's squared error as the painting goes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from kaokore.errors import ArgumentError, UsageError
from kaokore.learn.gan.data import load_images
from kaokore.learn.paint.agent import (
    AgentConfig,
    AgentSummary,
    load_actor,
    paint_with_agent,
    train_agent,
)
from kaokore.learn.paint.figures import PaintingFiles, stroke_frames, unique_names, write_painting
from kaokore.learn.paint.optimize import OptimizeConfig, paint_by_optimization
from kaokore.learn.runtime import resolve_device

__all__ = ["RENDERERS", "PaintingRun", "optimize_images", "run_agent", "train_agent_on_release"]

Progress = Callable[[dict[str, float]], None]
RENDERERS = ("analytic", "neural")


@dataclass(frozen=True)
class PaintingRun:
    """What a painting command wrote, and each image's error (blank canvas first)."""

    files: PaintingFiles
    strokes: Path
    summary: Path
    errors: list[list[float]]


def _references(images: Sequence[Path], size: int) -> tuple[list[str], torch.Tensor]:
    if not images:
        raise UsageError("give at least one IMAGE to paint")
    for path in images:
        if not Path(path).is_file():
            raise UsageError(f"no image at {path}")
    paths = [Path(p) for p in images]
    return unique_names(paths), load_images(paths, size).float().div(255)


def _write(
    prefix: str,
    out: Path,
    names: list[str],
    references: torch.Tensor,
    strokes: torch.Tensor,
    errors: torch.Tensor,
    *,
    every: int | None,
    display_size: int,
    options: dict[str, Any],
) -> PaintingRun:
    every = every or max(1, strokes.shape[1] // 8)
    frames = stroke_frames(strokes, size=display_size, every=every)
    files = write_painting(out, names, references, frames, prefix=prefix)
    strokes_file = out / f"{prefix}_strokes.pt"
    torch.save(strokes.detach().cpu(), strokes_file)
    rows = errors.tolist()
    summary = out / f"{prefix}.json"
    summary.write_text(
        json.dumps(
            {
                "options": {**options, "every": every, "display_size": display_size},
                "images": names,
                "strokes": int(strokes.shape[1]),
                "mse": dict(zip(names, rows, strict=True)),
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    return PaintingRun(files, strokes_file, summary, rows)


def optimize_images(
    images: Sequence[Path],
    *,
    out: Path,
    config: OptimizeConfig = OptimizeConfig(),  # noqa: B008 - frozen, safe as a default
    size: int = 64,
    every: int | None = None,
    display_size: int | None = None,
    device: str = "auto",
    progress: Progress | None = None,
) -> PaintingRun:
    """Paint ``images`` by optimisation at ``size`` px, in one batch; write the figures."""
    names, references = _references(images, size)
    torch_device = resolve_device(device)
    result = paint_by_optimization(references.to(torch_device), config, progress=progress)
    return _write(
        "optimize", Path(out), names, references, result.strokes, result.stage_errors,
        every=every, display_size=display_size or size,
        options={"size": size, **asdict(config)},
    )  # fmt: skip


def train_agent_on_release(
    release: Path,
    *,
    out: Path,
    config: AgentConfig = AgentConfig(),  # noqa: B008 - frozen, safe as a default
    device: str = "auto",
    renderer_file: Path | None = None,
    progress: Progress | None = None,
) -> AgentSummary:
    """Train the neural renderer and the actor on the training faces of ``release``."""
    return train_agent(
        release, config, out=Path(out), device=resolve_device(device),
        renderer_file=renderer_file, progress=progress,
    )  # fmt: skip


def run_agent(
    images: Sequence[Path],
    *,
    actor: Path,
    out: Path,
    steps: int | None = None,
    every: int | None = None,
    display_size: int | None = None,
    renderer: str = "analytic",
    device: str = "auto",
) -> PaintingRun:
    """Paint ``images`` with a trained actor for ``steps`` steps; write the figures.

    ``renderer`` draws the canvas the actor sees: ``analytic`` (the real strokes, default) or
    ``neural`` (the renderer it was trained through). The figures always show the strokes
    drawn by the analytic rasteriser.
    """
    if renderer not in RENDERERS:
        raise ArgumentError("renderer", renderer, f"use one of {', '.join(RENDERERS)}")
    torch_device = resolve_device(device)
    model, neural, config = load_actor(actor, device=torch_device)
    names, references = _references(images, config.size)
    result = paint_with_agent(
        model, references.to(torch_device), steps=steps or config.episode_steps,
        renderer=neural if renderer == "neural" else None,
    )  # fmt: skip
    return _write(
        "agent", Path(out), names, references, result.strokes, result.step_errors,
        every=every or config.grid**2 * max(1, (steps or config.episode_steps) // 8),
        display_size=display_size or config.size,
        options={"actor": str(actor), "steps": steps or config.episode_steps, "renderer": renderer},
    )  # fmt: skip
