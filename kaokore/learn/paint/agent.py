"""The learned painter: an actor that proposes the next strokes from the canvas and the target.

This follows *Learning to Paint* (Huang et al. 2019), the model-based painter of the KaoKore
paper's Figures 8-10: a neural renderer (:mod:`kaokore.learn.paint.neural`) stands in for
the real rasteriser, and the actor is trained through it. Deliberate differences, chosen so
that it learns in minutes on a CPU (the paper trains for days on a GPU):

* **No critic.** The paper trains the actor with model-based DDPG: a critic estimates the
  discounted future reward and the actor follows its gradient through the renderer. Here the
  actor is trained by plain backpropagation of the one-step reward through the neural
  renderer, with the canvas detached between steps: the discount-zero case of the paper's
  objective. The reward is taken relative, as the drop in the *log* of the L2 distance, so
  that late, small refinements weigh as much as the first broad washes. It is greedy: the
  actor never trades a worse next canvas for a better final one.
* **One stroke per grid cell, coarse to fine.** The actor is fully convolutional and proposes
  one stroke per cell of a ``grid x grid`` map per step, with a radius cap that shrinks over
  the episode (see :class:`Actor`); the paper's actor has a global head and paints its fine
  stage patch by patch.
* **Colours relative to the reference.** A stroke's colour is proposed as a change to the
  reference's mean colour in its cell.

Training runs ``batch_size`` painting episodes in parallel on random training faces; each
update advances every episode by one step (``grid**2`` strokes), and finished episodes restart
on new faces, like the paper's batched environment. The actor sees the canvas, the target, the
fraction of the episode done and two coordinate channels (CoordConv).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from kaokore.errors import ArgumentError, UsageError
from kaokore.learn.gan.data import load_release_images
from kaokore.learn.paint.neural import NeuralRenderer, RendererTrainConfig, train_renderer
from kaokore.learn.paint.strokes import MAX_RADIUS, SHAPE_PARAMS, composite, render

__all__ = [
    "ACTOR_FORMAT",
    "Actor",
    "AgentConfig",
    "AgentPainting",
    "AgentSummary",
    "load_actor",
    "paint_with_agent",
    "train_agent",
]

ACTOR_FORMAT = "kaokore-paint-actor/1"
#: Numbers the actor proposes per stroke: centre 2, control-point offsets 6, radii 2,
#: opacity 1, colour 3.
_RAW = 14
Progress = Callable[[dict[str, float]], None]


@dataclass(frozen=True, kw_only=True)
class AgentConfig:
    """The actor, its episodes and its training; stored in ``actor.pt``."""

    size: int = 64
    grid: int = 4  # strokes per step: grid x grid
    episode_steps: int = 8
    width: int = 32
    first_radius: float = 0.15  # radius cap of the first step, fraction of the side
    last_radius: float = 0.04  # ... and of the last step
    length_ratio: float = 2.5  # control points within length_ratio x the cap of the centre
    steps: int = 2000  # actor updates
    batch_size: int = 16
    lr: float = 1e-3
    max_images: int | None = None
    seed: int = 0
    renderer: RendererTrainConfig = field(default_factory=RendererTrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def build_actor(self) -> Actor:
        """A fresh actor of this configuration."""
        return Actor(
            self.size, self.grid, self.width, first_radius=self.first_radius,
            last_radius=self.last_radius, length_ratio=self.length_ratio,
        )  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AgentConfig:
        data = dict(data)
        data["renderer"] = RendererTrainConfig(**data["renderer"])
        return cls(**data)


class Actor(nn.Module):
    """(canvas, target, progress) -> the next ``grid**2`` strokes ``(N, grid**2, 12)``.

    The actor is fully convolutional: its features form a ``grid x grid`` map over the
    canvas, and each cell proposes one stroke near that cell (its centre may drift one cell
    width), with radius and reach capped by a schedule that shrinks geometrically over the
    episode (``first_radius`` to ``last_radius``): coarse to fine by construction. Sharing one
    stroke head across cells makes every update count ``grid**2`` times, which is what lets
    it learn on a CPU in minutes; the paper's agent uses a global head and learns coarse to
    fine over millions of steps (and paints its fine stage patch by patch, as this does).
    """

    coords: torch.Tensor
    cells: torch.Tensor

    def __init__(
        self,
        size: int = 64,
        grid: int = 4,
        width: int = 32,
        *,
        first_radius: float = 0.15,
        last_radius: float = 0.04,
        length_ratio: float = 2.5,
    ) -> None:
        super().__init__()
        levels = int(math.log2(size // grid)) if size % grid == 0 else 0
        if levels < 2 or grid * 2**levels != size:
            raise ValueError("the actor's size must be grid x a power of two (at least 4)")
        self.size, self.grid, self.strokes = size, grid, grid * grid
        self.first_radius, self.last_radius = first_radius, last_radius
        self.length_ratio = length_ratio
        layers: list[nn.Module] = []
        channels = 9
        for i in range(levels):
            out = min(width * 2**i, 8 * width)
            layers += [
                nn.Conv2d(channels, out, 4, stride=2, padding=1),
                nn.GroupNorm(8, out),
                nn.ReLU(),
            ]
            channels = out
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(), nn.Conv2d(channels, _RAW, 1)
        )
        coords = (torch.arange(size) + 0.5) / size
        gy, gx = torch.meshgrid(coords, coords, indexing="ij")
        self.register_buffer("coords", torch.stack([gx, gy])[None])
        cells = (torch.arange(grid) + 0.5) / grid
        cy, cx = torch.meshgrid(cells, cells, indexing="ij")
        self.register_buffer("cells", torch.stack([cx.reshape(-1), cy.reshape(-1)], dim=-1))

    def radius_cap(self, progress: torch.Tensor) -> torch.Tensor:
        """The largest radius (fraction of the side) at ``progress`` in ``[0, 1)``."""
        return self.first_radius * (self.last_radius / self.first_radius) ** progress

    def forward(
        self, canvas: torch.Tensor, target: torch.Tensor, progress: torch.Tensor
    ) -> torch.Tensor:
        n = canvas.shape[0]
        planes = [
            canvas,
            target,
            progress.view(n, 1, 1, 1).expand(n, 1, self.size, self.size),
            self.coords.expand(n, -1, -1, -1),
        ]
        logits = self.head(self.features(torch.cat(planes, dim=1)))
        logits = logits.flatten(2).transpose(1, 2)  # (N, cells, RAW), cells in row-major order
        raw = torch.sigmoid(logits)
        radius = self.radius_cap(progress).view(n, 1, 1)
        centre = self.cells + (2 * raw[..., 0:2] - 1) / self.grid
        points = centre.repeat(1, 1, 3) + (2 * raw[..., 2:8] - 1) * self.length_ratio * radius
        radii = raw[..., 8:10] * radius / MAX_RADIUS
        # colours are proposed relative to the reference's mean colour in the cell
        local = F.adaptive_avg_pool2d(target, self.grid).flatten(2).transpose(1, 2)
        colour = torch.sigmoid(logits[..., 11:14] + torch.logit(local.clamp(0.02, 0.98)))
        return torch.cat([points, radii, raw[..., 10:11], colour], dim=-1)


@dataclass(frozen=True)
class AgentSummary:
    """What ``train_agent`` wrote and measured."""

    actor: Path
    history: list[dict[str, float]]
    dev_mse: float  # after a full episode, canvas drawn by the neural renderer
    dev_mse_analytic: float  # the same strokes drawn by the analytic rasteriser
    blank_mse: float


@dataclass
class AgentPainting:
    """Strokes ``(N, K, 12)`` in painting order, the final canvas, MSE after every step."""

    strokes: torch.Tensor
    canvas: torch.Tensor
    step_errors: torch.Tensor  # (N, steps + 1), blank canvas first


def _neural_step(
    renderer: NeuralRenderer, canvas: torch.Tensor, strokes: torch.Tensor
) -> torch.Tensor:
    coverage = renderer(strokes[..., :SHAPE_PARAMS])
    return composite(canvas, coverage, strokes[..., 8], strokes[..., 9:12])


def paint_with_agent(
    actor: Actor,
    targets: torch.Tensor,
    *,
    steps: int,
    renderer: NeuralRenderer | None = None,
    background: float = 1.0,
) -> AgentPainting:
    """Let ``actor`` paint ``targets (N, 3, S, S)`` for ``steps`` steps.

    With ``renderer`` the canvas is drawn by the neural renderer (what the actor was trained
    with); without, by the analytic rasteriser (the real strokes, at any size).
    """
    with torch.no_grad():
        canvas = torch.full_like(targets, background)
        errors = [(canvas - targets).square().mean(dim=(1, 2, 3))]
        strokes = []
        for t in range(steps):
            progress = torch.full((targets.shape[0],), t / steps, device=targets.device)
            action = actor(canvas, targets, progress)
            if renderer is not None:
                canvas = _neural_step(renderer, canvas, action)
            else:
                canvas = render(action, canvas)
            strokes.append(action)
            errors.append((canvas - targets).square().mean(dim=(1, 2, 3)))
    return AgentPainting(torch.cat(strokes, dim=1), canvas, torch.stack(errors, dim=1).cpu())


def load_actor(
    path: Path, *, device: torch.device | str = "cpu"
) -> tuple[Actor, NeuralRenderer, AgentConfig]:
    """The actor, its neural renderer and its configuration from an ``actor.pt``."""
    if not Path(path).is_file():
        raise UsageError(f"no actor at {path}; train one with `kaokore paint agent`")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means the same to the user
        raise UsageError(f"{path} is not a kaokore painting actor ({exc})") from exc
    if not isinstance(state, dict) or state.get("format") != ACTOR_FORMAT:
        raise UsageError(f"{path} is not a kaokore painting actor")
    config = AgentConfig.from_dict(state["config"])
    actor = config.build_actor()
    actor.load_state_dict(state["actor"])
    renderer = NeuralRenderer(config.renderer.size, config.renderer.patch, config.renderer.width)
    renderer.load_state_dict(state["renderer"])
    return actor.to(device).eval(), renderer.to(device).eval(), config


def _load_renderer(path: Path, config: AgentConfig) -> NeuralRenderer:
    if not path.is_file():
        raise ArgumentError("renderer", str(path), "no such file")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or "renderer" not in state or "renderer_config" not in state:
        raise UsageError(f"{path} holds no neural renderer (an actor.pt or renderer.pt)")
    renderer_config = RendererTrainConfig(**state["renderer_config"])
    if renderer_config.size != config.size:
        raise UsageError(f"{path} renders {renderer_config.size} px strokes, not {config.size} px")
    renderer = NeuralRenderer(renderer_config.size, renderer_config.patch, renderer_config.width)
    renderer.load_state_dict(state["renderer"])
    return renderer


def train_agent(
    release: Path | str,
    config: AgentConfig,
    *,
    out: Path,
    device: torch.device,
    renderer_file: Path | None = None,
    progress: Progress | None = None,
) -> AgentSummary:
    """Train the neural renderer (unless ``renderer_file`` is given), then the actor.

    Writes ``out/renderer.pt`` and ``out/actor.pt`` (which holds the renderer too, so that
    ``kaokore paint run`` needs only it). Reports the mean squared error of full episodes on
    up to 64 dev faces (neural and analytic canvas), against the blank canvas's.
    """
    if config.renderer.size != config.size:
        config = AgentConfig.from_dict(
            {**config.to_dict(), "renderer": {**asdict(config.renderer), "size": config.size}}
        )
    faces = load_release_images(
        release, split="train", size=config.size, limit=config.max_images, seed=config.seed
    )
    dev = load_release_images(release, split="dev", size=config.size, limit=64, seed=config.seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    history: list[dict[str, float]] = []
    if renderer_file is not None:
        renderer = _load_renderer(Path(renderer_file), config).to(device)
        renderer_config = config.renderer
    else:
        renderer, history = train_renderer(config.renderer, device=device, progress=progress)
        renderer_config = config.renderer
    renderer.eval().requires_grad_(False)
    torch.save(
        {"renderer": renderer.state_dict(), "renderer_config": asdict(renderer_config)},
        out / "renderer.pt",
    )

    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    actor = config.build_actor().to(device)
    optimiser = torch.optim.Adam(actor.parameters(), lr=config.lr)
    b, steps_per_episode = config.batch_size, config.episode_steps
    images = faces.to(device)

    def new_targets(count: int) -> torch.Tensor:
        pick = torch.randint(images.shape[0], (count,), generator=generator).to(device)
        return images[pick].float().div(255)

    target = new_targets(b)
    canvas = torch.ones_like(target)
    t = torch.zeros(b, dtype=torch.long, device=device)
    rewards: list[float] = []
    for update in range(1, config.steps + 1):
        action = actor(canvas, target, t.float() / steps_per_episode)
        painted = _neural_step(renderer, canvas, action)
        after = (painted - target).square().mean(dim=(1, 2, 3))
        optimiser.zero_grad(set_to_none=True)
        # the canvas is detached, so this is the one-step reward, taken relative (log of
        # the distance): late, small improvements weigh as much as the first broad washes
        after.add(1e-6).log().mean().backward()  # type: ignore[no-untyped-call]
        optimiser.step()
        with torch.no_grad():
            before = (canvas - target).square().mean(dim=(1, 2, 3))
            rewards.append(float((before - after).mean()))
            canvas, t = painted.detach(), t + 1
            done = t >= steps_per_episode
            if bool(done.any()):
                target[done] = new_targets(int(done.sum()))
                canvas[done] = 1.0
                t[done] = 0
        if update % 100 == 0 or update == config.steps:
            record = {"update": float(update), "reward": sum(rewards) / len(rewards)}
            rewards.clear()
            history.append(record)
            if progress is not None:
                progress(record)

    actor.eval()
    dev_targets = dev.to(device).float().div(255)
    neural = paint_with_agent(actor, dev_targets, steps=steps_per_episode, renderer=renderer)
    analytic = paint_with_agent(actor, dev_targets, steps=steps_per_episode)
    dev_mse = float(neural.step_errors[:, -1].mean())
    dev_mse_analytic = float(analytic.step_errors[:, -1].mean())
    blank_mse = float(neural.step_errors[:, 0].mean())
    history.append(
        {"dev_mse": dev_mse, "dev_mse_analytic": dev_mse_analytic, "blank_mse": blank_mse}
    )
    path = out / "actor.pt"
    torch.save(
        {
            "format": ACTOR_FORMAT,
            "config": config.to_dict(),
            "actor": actor.state_dict(),
            "renderer": renderer.state_dict(),
            "history": history,
        },
        path,
    )
    if not math.isfinite(dev_mse):
        raise RuntimeError("the actor diverged (non-finite error on the dev faces)")
    return AgentSummary(path, history, dev_mse, dev_mse_analytic, blank_mse)


def resize_to(images: torch.Tensor, size: int) -> torch.Tensor:
    """Resize float images to ``size`` (area when shrinking, bilinear when enlarging)."""
    if images.shape[-1] == size:
        return images
    mode = "area" if images.shape[-1] > size else "bilinear"
    return F.interpolate(images, size=(size, size), mode=mode)
