"""Paint a reference with K strokes by gradient descent, coarse to fine.

The painting is built in ``stages``. Each stage adds ``K / stages`` strokes on top of the
canvas left by the earlier (now frozen) stages, and bounds its strokes' radius and half-length
by a cap that halves from stage to stage: broad washes first, then finer and finer detail, as
a painter would (and as the optimisation painter of the KaoKore paper's Figures 5-7 does).

Within a stage, new strokes start where the canvas is furthest from the reference, coloured as
the reference is there, and are optimised with Adam on the mean squared error. Because strokes
are resolution independent, wide early stages are optimised on a downsampled canvas (the
radius cap stays about two pixels or more), which makes them cheap. Each image keeps the best
strokes seen during the stage, so a stage can only end at its best point.

Parametrisation (all unconstrained, mapped by sigmoid/tanh): a centre ``c`` in the canvas;
start, control and end points ``c + L tanh(o)`` with ``L`` the stage's half-length cap; radii
``cap * sigmoid``; opacity and colour by sigmoid.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from kaokore.learn.paint.strokes import MAX_RADIUS, PARAMS, render

__all__ = ["OptimizeConfig", "OptimizeResult", "paint_by_optimization", "stage_plan"]

Progress = Callable[[dict[str, float]], None]


@dataclass(frozen=True, kw_only=True)
class OptimizeConfig:
    """How to paint: how many strokes, in how many stages, optimised for how long."""

    strokes: int = 256
    stages: int = 4
    steps: int = 100  # Adam steps per stage
    lr: float = 0.04
    first_radius: float = 0.12  # radius cap of the first stage, as a fraction of the side
    length_ratio: float = 3.0  # half-length cap = length_ratio * radius cap
    samples: int = 12  # points along each Bezier curve when rasterising
    seed: int = 0

    def __post_init__(self) -> None:
        if self.stages < 1 or self.strokes < self.stages:
            raise ValueError("need at least one stage and one stroke per stage")


@dataclass(frozen=True)
class StagePlan:
    """One stage: how many strokes, their radius and half-length caps, its working size."""

    strokes: int
    radius: float
    length: float
    size: int


@dataclass
class OptimizeResult:
    """The strokes ``(N, K, 12)`` in painting order, and the error after every stage.

    ``stage_errors[i, s]`` is image ``i``'s mean squared error at full size before any stroke
    (``s = 0``) and after stage ``s``; ``trace`` is the mean working-size error per Adam step.
    """

    strokes: torch.Tensor
    canvas: torch.Tensor
    stage_errors: torch.Tensor
    trace: list[float] = field(default_factory=list)


def stage_plan(config: OptimizeConfig, size: int) -> list[StagePlan]:
    """Split the strokes into stages with halving caps and a working size per stage."""
    base, extra = divmod(config.strokes, config.stages)
    plans = []
    for s in range(config.stages):
        radius = config.first_radius * 0.5**s
        work = 2 ** round(math.log2(max(2.0 / radius, 16)))
        plans.append(
            StagePlan(
                strokes=base + (1 if s < extra else 0),
                radius=radius,
                length=config.length_ratio * radius,
                size=min(size, work),
            )
        )
    return plans


class _StageStrokes(torch.nn.Module):
    """The unconstrained parameters of one stage's strokes, for ``N`` images at once."""

    def __init__(
        self,
        target: torch.Tensor,
        canvas: torch.Tensor,
        plan: StagePlan,
        generator: torch.Generator,
    ) -> None:
        super().__init__()
        n, _, h, w = target.shape
        k = plan.strokes
        self.plan = plan
        # start where the error is largest, with the reference's colour there
        error = (target - canvas).square().sum(dim=1).reshape(n, -1) + 1e-6
        pick = torch.multinomial(error, k, replacement=True, generator=generator)
        ys, xs = pick // w, pick % w
        centre = torch.stack([(xs + 0.5) / w, (ys + 0.5) / h], dim=-1).clamp(0.01, 0.99)
        colour = torch.gather(target.reshape(n, 3, -1), 2, pick[:, None, :].expand(n, 3, k))
        angle = torch.rand(n, k, generator=generator) * math.pi
        direction = torch.stack([angle.cos(), angle.sin()], dim=-1) * 0.5
        bend = (torch.rand(n, k, 2, generator=generator) - 0.5) * 0.4
        self.centre = torch.nn.Parameter(torch.logit(centre))
        self.offsets = torch.nn.Parameter(
            torch.atanh(torch.stack([direction, bend, -direction], dim=2))
        )
        self.radius = torch.nn.Parameter(torch.full((n, k, 2), math.log(0.6 / 0.4)))
        self.opacity = torch.nn.Parameter(torch.full((n, k, 1), math.log(0.8 / 0.2)))
        self.colour = torch.nn.Parameter(torch.logit(colour.transpose(1, 2).clamp(0.02, 0.98)))

    def strokes(self) -> torch.Tensor:
        """The strokes ``(N, K, 12)`` these parameters describe."""
        points = torch.sigmoid(self.centre)[:, :, None] + self.plan.length * torch.tanh(
            self.offsets
        )
        n, k = points.shape[:2]
        radius = (self.plan.radius / MAX_RADIUS) * torch.sigmoid(self.radius)
        out = torch.cat(
            [
                points.reshape(n, k, 6),
                radius,
                torch.sigmoid(self.opacity),
                torch.sigmoid(self.colour),
            ],
            dim=-1,
        )
        assert out.shape[-1] == PARAMS
        return out


def _resize(images: torch.Tensor, size: int) -> torch.Tensor:
    if images.shape[-1] == size:
        return images
    return F.interpolate(images, size=(size, size), mode="area")


def paint_by_optimization(
    targets: torch.Tensor,
    config: OptimizeConfig = OptimizeConfig(),  # noqa: B008 - frozen, safe as a default
    *,
    background: float = 1.0,
    progress: Progress | None = None,
) -> OptimizeResult:
    """Paint each of ``targets (N, 3, S, S)`` (float in ``[0, 1]``) with ``config.strokes``."""
    device = targets.device
    n, _, size, _ = targets.shape
    generator = torch.Generator().manual_seed(config.seed)
    blank = torch.full_like(targets, background)
    painted = torch.zeros(n, 0, PARAMS, device=device)
    errors = [(blank - targets).square().mean(dim=(1, 2, 3))]
    trace: list[float] = []
    for index, plan in enumerate(stage_plan(config, size)):
        target = _resize(targets, plan.size)
        with torch.no_grad():
            below = render(painted, torch.full_like(target, background), samples=config.samples)
        stage = _StageStrokes(target.cpu(), below.cpu(), plan, generator).to(device)
        optimiser = torch.optim.Adam(stage.parameters(), lr=config.lr)
        best_loss = torch.full((n,), torch.inf, device=device)
        best = stage.strokes().detach()
        for step in range(config.steps + 1):  # the last pass only scores the final update
            strokes = stage.strokes()
            canvas = render(strokes, below, samples=config.samples)
            loss = (canvas - target).square().mean(dim=(1, 2, 3))
            with torch.no_grad():
                improved = loss < best_loss
                best_loss = torch.where(improved, loss, best_loss)
                best = torch.where(improved[:, None, None], strokes, best)
            trace.append(float(loss.detach().mean()))
            if step == config.steps:
                break
            optimiser.zero_grad(set_to_none=True)
            loss.sum().backward()  # type: ignore[no-untyped-call]
            optimiser.step()
        painted = torch.cat([painted, best], dim=1)
        with torch.no_grad():
            full = render(painted, blank, samples=config.samples)
        errors.append((full - targets).square().mean(dim=(1, 2, 3)))
        if progress is not None:
            progress(
                {"stage": index + 1, "strokes": painted.shape[1], "mse": float(errors[-1].mean())}
            )
    return OptimizeResult(painted, full, torch.stack(errors, dim=1).cpu(), trace)
