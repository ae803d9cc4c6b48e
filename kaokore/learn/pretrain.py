"""Self-supervised pretraining (SimCLR) on the faces that are not test faces of an evaluation split.

The published Table 2 numbers most likely started from ImageNet weights; this is a route past
them without ImageNet: learn the backbone from KaoKore faces alone, then fine-tune it with
``kaokore train classify --weights pretrain.pt``. Every face of the pretraining folder is
used except those whose key (:mod:`kaokore.learn.faces`) is a test face of the evaluation
split: the 1.2 folder has 8,446 faces, and 425 of the 527 version 1.0 test faces are among its
*training* faces, so excluding by key, not by file name or set column, is what keeps the
later test score honest. Labels are never read.

The recipe is SimCLR's (Chen et al., 2020): two random views of each face (resized crop of
20-100 % of the area, flip, colour jitter, grayscale), an NT-Xent loss over the batch at
temperature 0.2. To stay architecture-generic the network's own classification head, sized to
the projection dimension, serves as the (linear) projection head; fine-tuning replaces it.
The checkpoint records the keys of the faces it saw and the folder's checksum, so the leak
check of ``train classify`` can verify it.
"""

from __future__ import annotations

import json
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision import models

from kaokore.errors import ArgumentError, ReleaseError, UsageError
from kaokore.learn.augment import IMAGENET_MEAN, IMAGENET_STD, BatchAugment
from kaokore.learn.cache import decoded_array, stored_size
from kaokore.learn.data import KaoKore
from kaokore.learn.faces import face_keys, release_checksum
from kaokore.learn.models import ARCHS, build_model, min_image_size
from kaokore.learn.presets import lr_at
from kaokore.learn.progress import Printer, default_printer
from kaokore.learn.runtime import resolve_device
from kaokore.release import ReleaseFolder

__all__ = ["PretrainConfig", "PretrainResult", "nt_xent", "pretrain", "pretraining_faces"]


@dataclass(frozen=True, kw_only=True)
class PretrainConfig:
    """Every choice of a pretraining run (``kaokore train pretrain``'s options).

    ``evaluation`` (default: ``release`` itself) and ``evaluation_split`` name the split
    whose test faces are left out. ``limit`` keeps a seeded subset of the faces (CPU runs).
    """

    release: Path
    out: Path
    evaluation: Path | None = None
    evaluation_split: str | None = None
    arch: str = "resnet18"
    image_size: int = 64
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-6
    temperature: float = 0.2
    projection: int = 128
    seed: int = 0
    device: str = "auto"
    amp: bool | None = None
    limit: int | None = None
    cache_dir: Path | None = None
    workers: int = 0
    time_limit: float | None = None
    threads: int | None = None
    progress: bool = True

    def check(self) -> None:
        """Raise UsageError for an option that cannot work, before anything is read."""
        checks = [
            (self.arch in ARCHS, f"Unknown --arch {self.arch!r}. Valid: {', '.join(ARCHS)}."),
            (self.epochs >= 1, "--epochs must be at least 1."),
            (self.batch_size >= 4, "--batch-size must be at least 4 (two views, negatives)."),
            (self.lr > 0, "--lr must be positive."),
            (self.temperature > 0, "--temperature must be positive."),
            (self.projection >= 2, "--projection must be at least 2."),
            (self.limit is None or self.limit >= 4, "--limit must be at least 4."),
            (
                self.image_size >= min_image_size(self.arch),
                f"{self.arch} needs --image-size {min_image_size(self.arch)} or more.",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise UsageError(message)
        if self.out.exists() and any(self.out.iterdir()):
            raise ArgumentError(
                "out", str(self.out), "exists and is not empty; choose a new folder"
            )


@dataclass(frozen=True)
class PretrainResult:
    """Where the checkpoint is, how many faces were used and left out, the loss per epoch."""

    checkpoint: Path
    faces: int
    excluded: int
    history: list[dict[str, float]]
    seconds: float


def pretraining_faces(config: PretrainConfig) -> tuple[list[str], dict[str, str], int]:
    """The images of ``config.release`` to learn from, their keys, and how many were left out.

    Left out: every face whose key is a test face of the evaluation split.
    """
    root = config.release
    names = list(dict.fromkeys(row.image for row in ReleaseFolder.open(root).labels()))
    evaluation = config.evaluation or root
    test = KaoKore(evaluation, "test", "gender", split_file=config.evaluation_split)
    test_keys = set(face_keys(Path(test.root), test.images).values())
    keys = face_keys(root, names)
    kept = [name for name in names if keys[name] not in test_keys]
    excluded = len(names) - len(kept)
    if config.limit is not None and config.limit < len(kept):
        pick = np.sort(np.random.RandomState(config.seed).permutation(len(kept))[: config.limit])
        kept = [kept[i] for i in pick]
    if len(kept) < 4:
        raise ReleaseError(f"{root}: fewer than 4 faces are left for pretraining.")
    return kept, {name: keys[name] for name in kept}, excluded


def nt_xent(first: torch.Tensor, second: torch.Tensor, temperature: float) -> torch.Tensor:
    """SimCLR's loss: each view must pick its partner among the ``2N - 1`` other views."""
    z = F.normalize(torch.cat([first, second]).float(), dim=1)
    logits = z @ z.T / temperature
    n = first.shape[0]
    logits.fill_diagonal_(float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(logits, targets)


def _jitter(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Colour jitter (brightness, contrast, saturation: 0.6-1.4) and 20 % grayscale, on [0, 1]."""
    n = x.shape[0]

    def factors() -> torch.Tensor:
        drawn = torch.rand(n, generator=generator) * 0.8 + 0.6
        return drawn.to(x).view(n, 1, 1, 1)

    gray_weights = torch.tensor([0.299, 0.587, 0.114]).to(x).view(1, 3, 1, 1)
    x = x * factors()
    mean = (x * gray_weights).sum(1, keepdim=True).mean((2, 3), keepdim=True)
    x = (x - mean) * factors() + mean
    gray = (x * gray_weights).sum(1, keepdim=True)
    x = (x - gray) * factors() + gray
    to_gray = (torch.rand(n, generator=generator) < 0.2).to(x.device).view(n, 1, 1, 1)
    x = torch.where(to_gray, (x * gray_weights).sum(1, keepdim=True).expand_as(x), x)
    mean_t = torch.tensor(IMAGENET_MEAN).to(x).view(1, 3, 1, 1)
    std_t = torch.tensor(IMAGENET_STD).to(x).view(1, 3, 1, 1)
    return (x.clamp(0, 1) - mean_t) / std_t


def _embed(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    output = model(images)
    embedded: torch.Tensor = (
        output.logits if isinstance(output, models.InceptionOutputs) else output
    )
    return embedded


def pretrain(config: PretrainConfig, *, console: Printer | None = None) -> PretrainResult:
    """Run SimCLR on the faces of :func:`pretraining_faces`; write ``pretrain.pt`` and
    ``pretrain.json`` into ``config.out``."""
    config.check()
    say = console or default_printer()
    started = time.perf_counter()
    device = resolve_device(config.device)
    threads = torch.get_num_threads()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    try:
        return _pretrain(config, device, say, started)
    finally:
        torch.set_num_threads(threads)


def _pretrain(
    config: PretrainConfig, device: torch.device, say: Printer, started: float
) -> PretrainResult:
    torch.manual_seed(config.seed)
    names, keys, excluded = pretraining_faces(config)
    # Stored at most at twice the input: crops keep detail without a 256 px array on a CPU.
    native = stored_size(config.release, names) or config.image_size
    size = min(native, 2 * config.image_size)
    array = np.load(
        decoded_array(
            config.release, names, size, cache_dir=config.cache_dir, workers=config.workers
        ),
        mmap_mode="r",
    )
    if config.progress:
        say.print(
            f"Pretraining on {len(names)} faces of {config.release} ({excluded} test faces of "
            f"{config.evaluation or config.release} left out), {config.arch} at "
            f"{config.image_size} px, device {device}"
        )
    images = torch.from_numpy(np.array(array)).permute(0, 3, 1, 2)  # a writable copy
    if device.type != "cpu":
        images = images.to(device)
    amp = config.amp if config.amp is not None else device.type == "cuda"
    model = build_model(config.arch, config.projection, image_size=config.image_size).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    augment = BatchAugment(
        config.image_size, train=True, scale=(0.2, 1.0), mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0)
    )
    generator = torch.Generator().manual_seed(config.seed)
    history: list[dict[str, float]] = []
    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    loop_started = time.perf_counter()
    horizon = config.epochs
    for epoch in range(1, config.epochs + 1):
        epoch_started = time.perf_counter()
        if config.time_limit is not None and epoch > 1:
            per_epoch = (epoch_started - loop_started) / (epoch - 1)
            affordable = int((config.time_limit - (epoch_started - started)) / per_epoch)
            if affordable < 1:
                break
            horizon = max(epoch, min(config.epochs, epoch - 1 + affordable))
        rate = lr_at(lr=config.lr, schedule="cosine", epoch=epoch, horizon=horizon, warmup_epochs=1)
        for group in optimizer.param_groups:
            group["lr"] = rate
        order = torch.randperm(len(names), generator=generator)
        model.train()
        loss_sum, batches = 0.0, 0
        for start in range(0, len(order) - config.batch_size + 1, config.batch_size):
            batch = images[order[start : start + config.batch_size].to(images.device)]
            views = [
                _jitter(augment(batch, generator).to(device), generator).contiguous()
                for _ in range(2)
            ]
            optimizer.zero_grad(set_to_none=True)
            with (
                torch.autocast(device_type=device.type, dtype=torch.bfloat16)
                if amp
                else nullcontext()
            ):
                first, second = _embed(model, views[0]), _embed(model, views[1])
            loss = nt_xent(first, second, config.temperature)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            loss_sum, batches = loss_sum + float(loss.detach()), batches + 1
        seconds = time.perf_counter() - epoch_started
        row = {
            "epoch": epoch,
            "lr": rate,
            "loss": loss_sum / max(batches, 1),
            "seconds": seconds,
            "images_per_second": batches * config.batch_size / seconds if seconds else 0.0,
        }
        history.append(row)
        if config.progress:
            say.print(
                f"pretrain epoch {epoch}: loss {row['loss']:.4f} lr {rate:.2e} "
                f"{row['images_per_second']:.0f} img/s"
            )
    checkpoint = out / "pretrain.pt"
    checksum = release_checksum(config.release)
    torch.save(
        {
            "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "kind": "simclr",
            "arch": config.arch,
            "image_size": config.image_size,
            "release_checksum": checksum,
            "faces": sorted(set(keys.values())),
            "excluded_test_faces": excluded,
        },
        checkpoint,
    )
    seconds = time.perf_counter() - started
    summary: dict[str, Any] = {
        **{k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
        "faces": len(names),
        "excluded_test_faces": excluded,
        "release_checksum": checksum,
        "device": str(device),
        "seconds": seconds,
        "history": history,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    (out / "pretrain.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return PretrainResult(checkpoint, len(names), excluded, history, seconds)
