"""Train the GAN on a release: non-saturating loss, lazy R1, DiffAugment, EMA, exact resume.

One step is a discriminator update then a generator update on ``batch_size`` images each:

* D: ``softplus(D(aug(G(z)))) + softplus(-D(aug(x)))``, plus every ``r1_interval`` steps the
  R1 penalty ``gamma/2 |grad_x D(aug(x))|^2`` (scaled by the interval: "lazy" regularisation,
  with Adam's hyper-parameters adjusted as in StyleGAN2).
* G: ``softplus(-D(aug(G(z))))`` with style mixing (two latents, a random cut-over layer).
* ``G_ema`` follows ``G`` with a half-life of ``10 * batch_size / 32`` thousand images, ramped
  up over the first steps, as in StyleGAN2-ADA; it is the network that is sampled and scored.

Everything random comes from the global generators, which the checkpoint stores (with the
networks, both optimisers and the step), so ``--resume`` continues bit-for-bit on CPU.
Snapshots and the Fréchet distance use their own seeded generators and leave that stream alone.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from kaokore.errors import ArgumentError, UsageError
from kaokore.learn.fid import FeatureStats, compute_stats, frechet_distance, load_extractor
from kaokore.learn.gan.augment import DEFAULT_POLICY, diff_augment
from kaokore.learn.gan.data import load_release_images
from kaokore.learn.gan.images import save_grid
from kaokore.learn.gan.networks import Discriminator, GanConfig, Generator
from kaokore.learn.runtime import get_rng_state, resolve_device, seed_everything, set_rng_state

__all__ = [
    "CHECKPOINT_NAME",
    "GanTrainConfig",
    "TrainSummary",
    "generate",
    "load_checkpoint",
    "train_gan",
]

CHECKPOINT_NAME = "checkpoint.pt"
Progress = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, kw_only=True)
class GanTrainConfig:
    """Every option of a training run; stored in the checkpoint and in ``config.json``."""

    release: str
    model: GanConfig = field(default_factory=GanConfig)
    steps: int = 10_000
    batch_size: int = 32
    lr: float = 0.0025
    r1_gamma: float | None = None  # None: 0.0002 * res^2 / batch_size (StyleGAN2-ADA heuristic)
    r1_interval: int = 16
    mixing_prob: float = 0.9
    augment: str = DEFAULT_POLICY
    split: str = "train"
    max_images: int | None = None
    seed: int = 0
    log_every: int = 50
    checkpoint_every: int = 500
    snapshot_every: int = 1000
    fid_every: int = 1000
    fid_samples: int = 1000
    fid_extractor: str | None = None
    time_budget: float | None = None  # stop (and save) after this many seconds of this call

    @property
    def gamma(self) -> float:
        """The R1 weight in use."""
        if self.r1_gamma is not None:
            return self.r1_gamma
        return 0.0002 * self.model.res**2 / self.batch_size

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["model"] = self.model.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GanTrainConfig:
        data = dict(data)
        data["model"] = GanConfig(**data["model"])
        return cls(**data)


@dataclass(frozen=True)
class TrainSummary:
    """What a finished (or resumed and finished) run reports."""

    out: Path
    checkpoint: Path
    step: int
    images_per_second: float
    fid: float | None
    history: list[dict[str, Any]]


def _to_unit(images: torch.Tensor) -> torch.Tensor:
    return images.add(1).div(2).clamp(0, 1)


@torch.no_grad()
def generate(
    generator: Generator,
    n: int,
    *,
    seed: int,
    truncation: float = 1.0,
    batch_size: int = 64,
    noise_mode: str = "random",
) -> torch.Tensor:
    """``n`` images in ``[0, 1]`` from a seeded generator, leaving the global RNG untouched."""
    device = generator.const.device
    rng = torch.Generator(device=device).manual_seed(seed)
    out = []
    for start in range(0, n, batch_size):
        count = min(batch_size, n - start)
        z = torch.randn(count, generator.config.z_dim, device=device, generator=rng)
        images = generator(z, truncation=truncation, noise_mode=noise_mode, generator=rng)
        out.append(_to_unit(images).cpu())
    return torch.cat(out)


def load_checkpoint(path: Path, *, device: torch.device | str = "cpu") -> dict[str, Any]:
    """A checkpoint written by :func:`train_gan` (its own format; not for untrusted files)."""
    if not path.is_file():
        raise UsageError(f"no checkpoint at {path}")
    try:
        state: dict[str, Any] = torch.load(path, map_location=device, weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means the same to the user
        raise UsageError(f"{path} is not a kaokore GAN checkpoint ({exc})") from exc
    if not isinstance(state, dict) or state.get("format") != "kaokore-gan/1":
        raise UsageError(f"{path} is not a kaokore GAN checkpoint")
    return state


def _save_atomically(state: dict[str, Any], path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


class _Trainer:
    """The networks, optimisers and counters of one run."""

    def __init__(self, config: GanTrainConfig, device: torch.device) -> None:
        self.config = config
        self.device = device
        seed_everything(config.seed)
        self.G = Generator(config.model).to(device)
        self.D = Discriminator(config.model).to(device)
        self.G_ema = Generator(config.model).to(device).eval()
        self.G_ema.load_state_dict(self.G.state_dict())
        self.G_ema.requires_grad_(False)
        ratio = config.r1_interval / (config.r1_interval + 1)  # lazy regularisation
        self.opt_G = torch.optim.Adam(
            self.G.parameters(), lr=config.lr, betas=(0.0, 0.99), eps=1e-8
        )
        self.opt_D = torch.optim.Adam(
            self.D.parameters(), lr=config.lr * ratio, betas=(0.0, 0.99**ratio), eps=1e-8
        )
        self.step = 0
        self.history: list[dict[str, Any]] = []

    def state(self) -> dict[str, Any]:
        return {
            "format": "kaokore-gan/1",
            "config": self.config.to_dict(),
            "step": self.step,
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "G_ema": self.G_ema.state_dict(),
            "opt_G": self.opt_G.state_dict(),
            "opt_D": self.opt_D.state_dict(),
            "rng": get_rng_state(),
            "history": self.history,
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.G_ema.load_state_dict(state["G_ema"])
        self.opt_G.load_state_dict(state["opt_G"])
        self.opt_D.load_state_dict(state["opt_D"])
        self.step = int(state["step"])
        self.history = list(state["history"])
        set_rng_state(state["rng"])

    def _latents(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.config.model.z_dim, device=self.device)

    def _fake(self, n: int) -> torch.Tensor:
        ws = self.G.map(self._latents(n), update_w_avg=True)
        if self.config.mixing_prob > 0 and torch.rand(()).item() < self.config.mixing_prob:
            cut = int(torch.randint(1, self.G.num_ws, ()).item())
            ws = torch.cat([ws[:, :cut], self.G.map(self._latents(n))[:, cut:]], dim=1)
        return self.G.synthesis(ws)

    def train_step(self, reals: torch.Tensor) -> dict[str, float]:
        """One D and one G update; ``reals`` uint8 on the device."""
        cfg = self.config
        n = reals.shape[0]
        real = reals.float().div(127.5).sub(1)
        policy = cfg.augment
        # discriminator
        self.D.requires_grad_(True)
        with torch.no_grad():
            fake = self._fake(n)
        regularise = cfg.gamma > 0 and self.step % cfg.r1_interval == 0
        real.requires_grad_(regularise)
        logits_real = self.D(diff_augment(real, policy))
        logits_fake = self.D(diff_augment(fake, policy))
        loss_d = F.softplus(logits_fake).mean() + F.softplus(-logits_real).mean()
        r1 = torch.zeros((), device=self.device)
        if regularise:
            (grad,) = torch.autograd.grad(logits_real.sum(), real, create_graph=True)
            r1 = grad.square().sum(dim=(1, 2, 3)).mean()
            loss_d = loss_d + r1 * (cfg.gamma / 2) * cfg.r1_interval
        self.opt_D.zero_grad(set_to_none=True)
        loss_d.backward()  # type: ignore[no-untyped-call]
        self.opt_D.step()
        # generator
        self.D.requires_grad_(False)
        loss_g = F.softplus(-self.D(diff_augment(self._fake(n), policy))).mean()
        self.opt_G.zero_grad(set_to_none=True)
        loss_g.backward()  # type: ignore[no-untyped-call]
        self.opt_G.step()
        self.step += 1
        self._update_ema(n)
        return {
            "loss_d": float(loss_d.detach()),
            "loss_g": float(loss_g.detach()),
            "r1": float(r1.detach()),
        }

    @torch.no_grad()
    def _update_ema(self, n: int) -> None:
        ema_nimg = 10_000 * self.config.batch_size / 32
        ema_nimg = min(ema_nimg, self.step * n * 0.05)  # ramp-up
        beta = 0.5 ** (n / max(ema_nimg, 1e-8))
        for p_ema, p in zip(self.G_ema.parameters(), self.G.parameters(), strict=True):
            p_ema.lerp_(p, 1 - beta)
        for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers(), strict=True):
            b_ema.copy_(b)


def _check_resume(config: GanTrainConfig, saved: GanTrainConfig) -> GanTrainConfig:
    """The saved configuration, with the new step target; refuse a different model or data."""
    for name in ("model", "batch_size", "release", "split", "max_images", "augment", "seed"):
        if getattr(config, name) != getattr(saved, name):
            raise UsageError(
                f"--resume: {name} differs from the checkpoint ({getattr(saved, name)!r}); "
                "resume with the same options or train into another --out"
            )
    return replace(saved, steps=config.steps, time_budget=config.time_budget)


def train_gan(
    config: GanTrainConfig,
    *,
    out: Path,
    device: str = "auto",
    resume: bool = False,
    progress: Progress | None = None,
) -> TrainSummary:
    """Train (or, with ``resume``, continue) a GAN on ``config.release`` into ``out``.

    ``out`` receives ``checkpoint.pt``, ``config.json``, ``history.json`` (losses, images per
    second and the Fréchet distance) and ``samples/step_NNNNNN.png`` snapshots of G_ema.
    """
    out = Path(out)
    checkpoint = out / CHECKPOINT_NAME
    if resume and not checkpoint.is_file():
        raise ArgumentError("resume", str(checkpoint), "no checkpoint there to resume from")
    if not resume and checkpoint.exists():
        raise UsageError(
            f"{checkpoint} exists: pass --resume to continue that run, or choose another --out"
        )
    torch_device = resolve_device(device)
    state = load_checkpoint(checkpoint, device="cpu") if resume else None
    if state is not None:
        config = _check_resume(config, GanTrainConfig.from_dict(state["config"]))
    reals = load_release_images(
        config.release, split=config.split, size=config.model.res,
        limit=config.max_images, seed=config.seed,
    ).to(torch_device)  # fmt: skip
    if torch_device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    trainer = _Trainer(config, torch_device)
    if state is not None:
        trainer.restore(state)
        del state
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(config.to_dict(), indent=2), encoding="utf-8")

    extractor = None
    real_stats: FeatureStats | None = None
    if config.fid_every > 0 and config.fid_samples >= 2:
        extractor = load_extractor(config.fid_extractor, device=torch_device, seed=config.seed)
        pick = torch.randperm(
            reals.shape[0], generator=torch.Generator().manual_seed(config.seed)
        )[: config.fid_samples]  # fmt: skip
        real_stats = compute_stats(extractor, reals[pick.to(reals.device)])

    def score() -> float | None:
        if extractor is None or real_stats is None:
            return None
        fakes = generate(
            trainer.G_ema, min(config.fid_samples, max(2, reals.shape[0])), seed=10_000
        )
        return frechet_distance(real_stats, compute_stats(extractor, fakes))

    snapshot_seed = config.seed + 1
    started, step_at_start = time.perf_counter(), trainer.step
    window_time, window_steps = time.perf_counter(), 0
    images_per_second = 0.0
    final_fid: float | None = None
    last = False
    while trainer.step < config.steps and not last:
        index = torch.randint(reals.shape[0], (config.batch_size,))
        losses = trainer.train_step(reals[index.to(reals.device)])
        window_steps += 1
        step = trainer.step
        out_of_time = (
            config.time_budget is not None and time.perf_counter() - started >= config.time_budget
        )
        last = step == config.steps or out_of_time
        if step % config.log_every == 0 or last:
            if torch_device.type == "cuda":
                torch.cuda.synchronize()
            now = time.perf_counter()
            images_per_second = window_steps * config.batch_size / max(now - window_time, 1e-9)
            window_time, window_steps = now, 0
            record: dict[str, Any] = {
                "step": step,
                **losses,
                "images_per_second": images_per_second,
            }
            if config.fid_every > 0 and (step % config.fid_every == 0 or last):
                record["fid"] = final_fid = score()
                record["fid_extractor"] = extractor.name if extractor else None
                window_time = time.perf_counter()  # scoring is not training time
            trainer.history.append(record)
            if progress is not None:
                progress(record)
        if config.snapshot_every > 0 and (step % config.snapshot_every == 0 or last):
            grid = generate(trainer.G_ema, 16, seed=snapshot_seed, noise_mode="const")
            save_grid(grid, out / "samples" / f"step_{step:06d}.png", nrow=4)
        if step % config.checkpoint_every == 0 or last:
            _save_atomically(trainer.state(), checkpoint)
            (out / "history.json").write_text(
                json.dumps(trainer.history, indent=1), encoding="utf-8"
            )
    elapsed = time.perf_counter() - started
    done = trainer.step - step_at_start
    overall = done * config.batch_size / elapsed if done else images_per_second
    if not math.isfinite(overall):
        overall = 0.0
    return TrainSummary(out, checkpoint, trainer.step, overall, final_fid, trainer.history)
