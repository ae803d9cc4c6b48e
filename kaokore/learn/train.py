"""Train one classifier on a release: the library behind ``kaokore train classify``.

The recipe follows the paper's baselines: a torchvision reference network trained from scratch
(or from local weights) with Adam and standard augmentation, early stopping on the dev split,
and the best checkpoint evaluated once on test; :mod:`~kaokore.learn.presets` names the
official repository's recipe and ours. Everything a run decides is written to its run folder:
``config.json``, ``history.csv``/``history.json``, ``best.pt`` (with the release checksum and
the keys of the faces it trained on), ``metrics.json``, and, when matplotlib is installed,
``curves.png`` and ``confusion.png``.

Starting weights are checked before anything trains: a checkpoint that trained on any test
face of the evaluation split is refused (:func:`~kaokore.learn.faces.check_no_leak`). Only
torch, torchvision, numpy and Pillow are needed (rich and matplotlib are used when present),
so ``python -m kaokore.learn`` runs this on a machine that has nothing else.

Every image, label and split is checked (decoded, in range, present) before the first step, so
a broken folder fails in seconds with the file named, not hours into a run. On the CPU a run is
deterministic for a given seed: the same metrics, bit for bit, every time.
"""

from __future__ import annotations

import csv
import json
import pickle
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torchvision
from torch import nn

from kaokore.config import Settings
from kaokore.errors import ArgumentError, ReleaseError, UsageError
from kaokore.learn import distributed
from kaokore.learn.augment import IMAGENET_MEAN, IMAGENET_STD, BatchAugment
from kaokore.learn.augment import eval_transform as plain_eval_transform
from kaokore.learn.augment import train_transform as plain_train_transform
from kaokore.learn.batches import Batches, FastBatches, PlainBatches
from kaokore.learn.cache import stored_size, verify_images
from kaokore.learn.data import FastKaoKore, KaoKore
from kaokore.learn.distributed import DistContext
from kaokore.learn.faces import check_no_leak, face_keys, release_checksum
from kaokore.learn.metrics import ClassificationMetrics, classification_metrics
from kaokore.learn.models import (
    ARCHS,
    build_model,
    default_image_size,
    logits_and_loss,
    min_image_size,
    uses_aux_logits,
)
from kaokore.learn.presets import SCHEDULES, lr_at
from kaokore.learn.progress import EpochProgress, Printer, default_printer
from kaokore.learn.runtime import seed_everything
from kaokore.release import version_of
from kaokore.release.layout import CATEGORIES, LABELS_FILE, SETS, SPLIT_FILES, split_path
from kaokore.vocab import class_names

__all__ = [
    "Evaluation",
    "RunResult",
    "TrainConfig",
    "default_run_dir",
    "describe_start",
    "evaluate",
    "read_start_weights",
    "train_classifier",
]


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Every choice of a run; the CLI options of ``kaokore train classify`` map onto these.

    ``image_size`` None means the paper's input (256 px, 299 px for Inception-v3); ``amp`` None
    means bf16 autocast on CUDA only; ``split`` None means the ``set`` column of labels.csv.
    ``time_limit`` (seconds) stops before an epoch that would end past it. ``threads`` sets
    torch's CPU threads for the run (on a shared machine one thread per free core is faster
    than OpenMP threads spinning against other jobs). ``schedule`` (constant, step or cosine,
    see :func:`~kaokore.learn.presets.lr_at`) sets the rate of each epoch; ``preset`` only
    records which named recipe the other fields came from.
    """

    release: Path
    arch: str = "resnet18"
    task: str = "gender"
    image_size: int | None = None
    epochs: int = 30
    patience: int = 5
    batch_size: int = 64
    lr: float = 3e-4
    weight_decay: float = 0.0
    seed: int = 0
    device: str = "auto"
    amp: bool | None = None
    balanced: bool = False
    weights: Path | None = None
    split: str | None = None
    out: Path | None = None
    workers: int = 0
    limit: int | None = None
    fast: bool = True
    cache_dir: Path | None = None
    time_limit: float | None = None
    threads: int | None = None
    progress: bool = True
    schedule: str = "constant"
    step_every: int = 10
    step_gamma: float = 0.1
    warmup_epochs: int = 0
    preset: str | None = None

    @property
    def input_size(self) -> int:
        """The side of the images the network sees."""
        return self.image_size if self.image_size is not None else default_image_size(self.arch)

    def check(self) -> None:
        """Raise UsageError for any option that cannot work, before anything is read."""
        checks: list[tuple[bool, str]] = [
            (
                self.arch in ARCHS,
                f"Unknown --arch {self.arch!r}. Valid values are {', '.join(ARCHS)}.",
            ),
            (
                self.task in CATEGORIES,
                f"Unknown --task {self.task!r}. Valid values are gender, status.",
            ),
            (
                self.split is None or self.split in SPLIT_FILES,
                f"Unknown --split {self.split!r}. Valid values are {', '.join(SPLIT_FILES)}.",
            ),
            (self.epochs >= 1, "--epochs must be at least 1."),
            (self.patience >= 1, "--patience must be at least 1."),
            (
                self.batch_size >= 2,
                "--batch-size must be at least 2 (batch norm needs two images).",
            ),
            (self.lr > 0, "--lr must be positive."),
            (
                self.schedule in SCHEDULES,
                f"Unknown schedule {self.schedule!r}. Valid values are {', '.join(SCHEDULES)}.",
            ),
            (self.step_every >= 1, "The step schedule needs step_every of at least 1."),
            (self.warmup_epochs >= 0, "warmup_epochs cannot be negative."),
            (self.workers >= 0, "--workers cannot be negative."),
            (self.threads is None or self.threads >= 1, "--threads must be at least 1."),
            (self.limit is None or self.limit >= 2, "--limit must be at least 2."),
            (
                self.input_size >= min_image_size(self.arch),
                f"{self.arch} needs --image-size {min_image_size(self.arch)} or more.",
            ),
            (
                self.weights is None or self.weights.is_file(),
                f"--weights {self.weights}: no such file.",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise UsageError(message)
        if self.out is not None and self.out.exists() and any(self.out.iterdir()):
            raise ArgumentError(
                "out", str(self.out), "exists and is not empty; choose a new run folder"
            )

    def to_json(self) -> dict[str, Any]:
        """The config as JSON values (paths as strings)."""
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Evaluation:
    """One pass over a split: the mean loss and the scores."""

    split: str
    loss: float
    metrics: ClassificationMetrics


@dataclass(frozen=True)
class RunResult:
    """What a run produced; ``test`` and ``dev`` are None on ranks other than 0."""

    run_dir: Path
    best_epoch: int
    epochs_run: int
    history: list[dict[str, float]]
    dev: Evaluation | None
    test: Evaluation | None
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)


def default_run_dir(arch: str, task: str, *, home: Path | None = None) -> Path:
    """``HOME/runs/ARCH-TASK-YYYYmmdd-HHMMSS``, HOME defaulting to ``$KAOKORE_HOME``."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return (home or Settings.from_env().home) / "runs" / f"{arch}-{task}-{stamp}"


def _autocast(device: torch.device, enabled: bool) -> AbstractContextManager[Any]:
    if not enabled:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def evaluate(
    model: nn.Module,
    batches: Batches,
    *,
    split: str,
    classes: list[str],
    criterion: nn.Module,
    amp: bool = False,
) -> Evaluation:
    """Loss and scores of ``model`` on every batch of ``split``, in eval mode."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    loss_sum, predictions, targets = 0.0, [], []
    with torch.inference_mode():
        for images, labels in batches:
            with _autocast(device, amp):
                logits, loss = logits_and_loss(model(images), labels, criterion)
            loss_sum += float(loss) * len(labels)
            predictions.append(logits.argmax(dim=1).cpu())
            targets.append(labels.cpu())
    model.train(was_training)
    true = torch.cat(targets).numpy() if targets else np.zeros(0, dtype=np.int64)
    pred = torch.cat(predictions).numpy() if predictions else np.zeros(0, dtype=np.int64)
    count = max(len(true), 1)
    return Evaluation(split, loss_sum / count, classification_metrics(true, pred, classes))


def _train_epoch(
    model: nn.Module,
    batches: Batches,
    optimizer: torch.optim.Optimizer,
    criterion: nn.Module,
    *,
    amp: bool,
    device: torch.device,
    bar: EpochProgress,
) -> tuple[float, int, int]:
    model.train()
    loss_sum, correct, seen = 0.0, 0, 0
    for images, labels in batches:
        optimizer.zero_grad(set_to_none=True)
        with _autocast(device, amp):
            logits, loss = logits_and_loss(model(images), labels, criterion)
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        batch_loss = float(loss.detach()) * len(labels)
        batch_correct = int((logits.detach().argmax(dim=1) == labels).sum())
        loss_sum, correct, seen = loss_sum + batch_loss, correct + batch_correct, seen + len(labels)
        bar.advance(images=len(labels), loss_sum=batch_loss, correct=batch_correct)
    return loss_sum, correct, seen


@contextmanager
def _reproducible(device: torch.device, threads_wanted: int | None) -> Iterator[None]:
    """Deterministic kernels on the CPU; fast autotuned kernels and TF32 on CUDA."""
    deterministic = torch.are_deterministic_algorithms_enabled()
    benchmark = torch.backends.cudnn.benchmark
    precision = torch.get_float32_matmul_precision()
    threads = torch.get_num_threads()
    try:
        if threads_wanted is not None:
            torch.set_num_threads(threads_wanted)
        if device.type == "cpu":
            torch.use_deterministic_algorithms(True)
        elif device.type == "cuda":
            torch.backends.cudnn.benchmark = True
            torch.set_float32_matmul_precision("high")
        yield
    finally:
        torch.use_deterministic_algorithms(deterministic)
        torch.backends.cudnn.benchmark = benchmark
        torch.set_float32_matmul_precision(precision)
        torch.set_num_threads(threads)


@dataclass
class _Splits:
    train: KaoKore
    dev: KaoKore
    test: KaoKore


def _load_splits(config: TrainConfig, ctx: DistContext) -> _Splits:
    """Build the three strict datasets, validating every image, label and split first.

    With the fast path rank 0 decodes (and so validates) each split into the cache while the
    other ranks wait, then they map the same files.
    """
    size = config.input_size
    loaded: dict[str, KaoKore] = {}
    for rank_turn in (True, False):
        if ctx.is_main == rank_turn:
            for split in SETS:
                loaded[split] = _load_split(config, split, size, validate=ctx.is_main)
        if rank_turn:
            ctx.barrier()
    for split, dataset in loaded.items():
        if len(dataset) == 0:
            where = split_path(config.split) if config.split else LABELS_FILE
            raise ReleaseError(f"{config.release}: the {split} split of {where} has no images.")
    return _Splits(loaded["train"], loaded["dev"], loaded["test"])


def _load_split(config: TrainConfig, split: str, size: int, *, validate: bool) -> KaoKore:
    """One strict split; on the fast path the training split is stored at the images' own size,
    so that its random crops are cut from the original pixels and resized once (as the plain
    path's RandomResizedCrop does), and dev/test are stored resized to ``size``."""
    common: dict[str, Any] = {"split_file": config.split, "strict": True}
    if config.fast:
        stored = size
        if split == "train":
            probe = KaoKore(config.release, split, config.task, **common)
            stored = stored_size(Path(probe.root), probe.images) or size
        return FastKaoKore(
            config.release,
            split,
            config.task,
            image_size=stored,
            cache_dir=config.cache_dir,
            workers=config.workers,
            limit=config.limit,
            **common,
        )
    transform = plain_train_transform(size) if split == "train" else plain_eval_transform(size)
    dataset = KaoKore(config.release, split, config.task, transform, **common)
    if config.limit is not None:
        dataset.restrict(config.limit)
    if validate:
        verify_images(Path(dataset.root), dataset.images, workers=config.workers)
    return dataset


def _batches(
    config: TrainConfig, dataset: KaoKore, ctx: DistContext, *, train: bool, channels_last: bool
) -> Batches:
    world = ctx.world_size if train else 1
    rank = ctx.rank if train else 0
    if isinstance(dataset, FastKaoKore):
        augment = BatchAugment(config.input_size, train=train, channels_last=channels_last)
        return FastBatches(
            dataset,
            augment,
            batch_size=config.batch_size,
            device=ctx.device,
            shuffle=train,
            seed=config.seed,
            rank=rank,
            world_size=world,
            preload=ctx.device.type != "cpu",
        )
    return PlainBatches(
        dataset,
        batch_size=config.batch_size,
        device=ctx.device,
        shuffle=train,
        seed=config.seed,
        rank=rank,
        world_size=world,
        workers=config.workers,
        channels_last=channels_last,
    )


def _class_weights(targets: list[int], num_classes: int) -> torch.Tensor:
    """``N / (K * n_c)``: each class weighs as much in the loss as if classes were balanced."""
    counts = np.bincount(np.asarray(targets, dtype=np.int64), minlength=num_classes)
    weights = np.divide(
        len(targets), num_classes * counts, out=np.zeros(num_classes), where=counts > 0
    )
    return torch.as_tensor(weights, dtype=torch.float32)


def _write_history(run_dir: Path, history: list[dict[str, float]]) -> None:
    (run_dir / "history.json").write_text(json.dumps(history, indent=2) + "\n", encoding="utf-8")
    with (run_dir / "history.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(history[0]))
        writer.writeheader()
        writer.writerows(history)


def train_classifier(config: TrainConfig, *, console: Printer | None = None) -> RunResult:
    """Train, early-stop on dev, restore the best epoch and evaluate it once on test.

    Raises UsageError for impossible options, DatasetNotFoundError for a folder without a
    release, ReleaseError for a missing or corrupt image or a label out of range (all before
    training starts).
    """
    config.check()
    ctx = distributed.setup(config.device)
    try:
        with _reproducible(ctx.device, config.threads):
            return _run(config, ctx, console or default_printer())
    finally:
        ctx.close()


def _run(config: TrainConfig, ctx: DistContext, console: Printer) -> RunResult:
    started = time.perf_counter()
    device = ctx.device
    size = config.input_size
    classes = class_names(config.task)
    amp = config.amp if config.amp is not None else device.type == "cuda"
    channels_last = device.type == "cuda"
    show = config.progress and ctx.is_main
    seed_everything(config.seed)

    splits = _load_splits(config, ctx)
    start, inherited = describe_start(config, splits.test)
    if show:
        console.print(f"Start: {start}")
    # What the weights have seen: this run's training faces and those of the checkpoint it
    # started from, so a chain of checkpoints cannot launder a test face.
    own = face_keys(Path(splits.train.root), splits.train.images).values()
    trained_keys = sorted({*own, *inherited})
    checksum = release_checksum(config.release)
    run_dir = config.out if config.out is not None else default_run_dir(config.arch, config.task)
    if ctx.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        resolved = {
            **config.to_json(),
            "image_size": size,
            "device": str(device),
            "amp": amp,
            "aux_logits": uses_aux_logits(config.arch, size),
            "world_size": ctx.world_size,
            "release_version": version_of(config.release),
            "classes": classes,
            "counts": {
                "train": len(splits.train),
                "dev": len(splits.dev),
                "test": len(splits.test),
            },
            "optimizer": "Adam",
            "start": start,
            "release_checksum": checksum,
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        (run_dir / "config.json").write_text(
            json.dumps(resolved, indent=2) + "\n", encoding="utf-8"
        )

    model = build_model(config.arch, len(classes), image_size=size, weights=config.weights).to(
        device
    )
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    net = ctx.wrap(model)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    weights = _class_weights(splits.train.targets, len(classes)) if config.balanced else None
    criterion = nn.CrossEntropyLoss(weight=None if weights is None else weights.to(device))
    train_batches = _batches(config, splits.train, ctx, train=True, channels_last=channels_last)
    dev_batches = _batches(config, splits.dev, ctx, train=False, channels_last=channels_last)
    test_batches = _batches(config, splits.test, ctx, train=False, channels_last=channels_last)

    history: list[dict[str, float]] = []
    best: tuple[float, int, dict[str, torch.Tensor], Evaluation] | None = None
    stale = 0
    training_started = time.perf_counter()
    horizon = config.epochs
    for epoch in range(1, config.epochs + 1):
        train_batches.set_epoch(epoch)
        epoch_started = time.perf_counter()
        if config.time_limit is not None and epoch > 1:
            # The epochs the time limit still affords: a decaying schedule ends where the run does.
            per_epoch = (epoch_started - training_started) / (epoch - 1)
            affordable = int((config.time_limit - (epoch_started - started)) / per_epoch)
            horizon = max(epoch, min(config.epochs, epoch - 1 + affordable))
        rate = lr_at(
            lr=config.lr,
            schedule=config.schedule,
            epoch=epoch,
            horizon=horizon,
            step_every=config.step_every,
            step_gamma=config.step_gamma,
            warmup_epochs=config.warmup_epochs,
            planned=config.epochs,
        )
        for group in optimizer.param_groups:
            group["lr"] = rate
        with EpochProgress(
            epoch=epoch,
            epochs=config.epochs,
            total=len(train_batches),
            enabled=show,
            console=console,
        ) as bar:
            local = _train_epoch(
                net, train_batches, optimizer, criterion, amp=amp, device=device, bar=bar
            )
        loss_sum, correct, seen = ctx.sum([float(value) for value in local])
        train_seconds = time.perf_counter() - epoch_started
        stop = False
        if ctx.is_main:
            dev = evaluate(
                model, dev_batches, split="dev", classes=classes, criterion=criterion, amp=amp
            )
            row = {
                "epoch": epoch,
                "lr": rate,
                "train_loss": loss_sum / max(seen, 1),
                "train_accuracy": correct / max(seen, 1),
                "dev_loss": dev.loss,
                "dev_accuracy": dev.metrics.accuracy,
                "dev_macro_f1": dev.metrics.macro_f1,
                "seconds": time.perf_counter() - epoch_started,
                "images_per_second": seen / train_seconds if train_seconds > 0 else 0.0,
            }
            history.append(row)
            improved = best is None or dev.metrics.accuracy > best[0]
            if improved:
                state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                best = (dev.metrics.accuracy, epoch, state, dev)
                stale = 0
                _save_checkpoint(
                    run_dir / "best.pt",
                    config,
                    state,
                    classes,
                    epoch,
                    dev,
                    faces=trained_keys,
                    checksum=checksum,
                )
            else:
                stale += 1
            _write_history(run_dir, history)
            if show:
                console.print(
                    f"epoch {epoch}: train loss {row['train_loss']:.4f}"
                    f" acc {row['train_accuracy']:.4f}"
                    f" | dev loss {dev.loss:.4f} acc {dev.metrics.accuracy:.4f}"
                    f" macro-F1 {dev.metrics.macro_f1:.4f} | {row['images_per_second']:.0f} img/s"
                    + (" (best)" if improved else "")
                )
            # Stop before an epoch that would end past the limit (setup time counts too).
            now = time.perf_counter()
            projected = now - started + (now - training_started) / epoch
            out_of_time = config.time_limit is not None and projected > config.time_limit
            stop = stale >= config.patience or out_of_time
        if ctx.broadcast_flag(stop):
            break

    epochs_run = epoch
    if not ctx.is_main or best is None:
        ctx.barrier()
        return RunResult(run_dir, 0, epochs_run, history, None, None, time.perf_counter() - started)
    _best_accuracy, best_epoch, state, dev = best
    model.load_state_dict(state)
    test = evaluate(
        model, test_batches, split="test", classes=classes, criterion=criterion, amp=amp
    )
    seconds = time.perf_counter() - started
    metrics = {
        "arch": config.arch,
        "task": config.task,
        "release_version": version_of(config.release),
        "split": config.split or LABELS_FILE,
        "image_size": size,
        "best_epoch": best_epoch,
        "epochs_run": epochs_run,
        "seconds": seconds,
        "preset": config.preset,
        "start": start,
        "test": {"loss": test.loss, **test.metrics.to_dict()},
        "dev": {"loss": dev.loss, **dev.metrics.to_dict()},
    }
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    _plot(config, run_dir, history, best_epoch, test, classes)
    ctx.barrier()
    return RunResult(run_dir, best_epoch, epochs_run, history, dev, test, seconds)


def _plot(
    config: TrainConfig,
    run_dir: Path,
    history: list[dict[str, float]],
    best_epoch: int,
    test: Evaluation,
    classes: list[str],
) -> None:
    """``curves.png`` and ``confusion.png`` when matplotlib is installed (not on a bare GPU
    machine, where the grid's own figure is drawn with Pillow instead)."""
    try:
        from kaokore.learn.plots import plot_confusion, plot_curves
    except ImportError:
        return
    plot_curves(history, run_dir / "curves.png", best_epoch=best_epoch)
    title = f"{config.arch} {config.task}: test accuracy {test.metrics.accuracy:.2%}"
    plot_confusion(test.metrics.confusion, classes, run_dir / "confusion.png", title=title)


def read_start_weights(path: Path) -> tuple[bool, list[str] | None, str | None]:
    """What a ``--weights`` file says about itself: (is a kaokore checkpoint, the face keys it
    trained on or None, the checksum of the folder they came from or None)."""
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, ValueError, EOFError, pickle.UnpicklingError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ArgumentError("weights", str(path), f"cannot read it ({reason})") from exc
    if not isinstance(loaded, dict) or not isinstance(loaded.get("model"), dict):
        return False, None, None
    faces = loaded.get("faces")
    checksum = loaded.get("release_checksum")
    keys = [str(key) for key in faces] if isinstance(faces, list | tuple) else None
    return True, keys, checksum if isinstance(checksum, str) else None


def describe_start(config: TrainConfig, test: KaoKore) -> tuple[str, list[str]]:
    """Check the starting weights against the evaluation split's test faces; say what they are
    and return the face keys they had trained on (none for scratch or external weights).

    Raises UsageError (see :func:`~kaokore.learn.faces.check_no_leak`) when a kaokore
    checkpoint trained on a test face of ``test``, or records no faces at all.
    """
    preset = f"preset {config.preset}: " if config.preset else ""
    if config.weights is None:
        if config.preset == "official":
            return (
                f"{preset}from scratch (no --weights given; the official repository started "
                "from ImageNet weights)",
                [],
            )
        return f"{preset}from scratch", []
    is_checkpoint, faces, checksum = read_start_weights(config.weights)
    if not is_checkpoint:
        return (
            f"{preset}from {config.weights} (weights that record no KaoKore faces, e.g. ImageNet)",
            [],
        )
    where = f"{config.release} ({config.split or 'labels.csv'} split)"
    test_keys = face_keys(Path(test.root), test.images)
    check_no_leak(f"--weights {config.weights}", faces, test_keys, where=where)
    origin = f"folder checksum {checksum[:12]}" if checksum else "an unrecorded folder"
    text = (
        f"{preset}from {config.weights} (trained on {len(faces or [])} faces of {origin}; "
        f"none of the {len(test_keys)} test faces of {where})"
    )
    return text, list(faces or [])


def _save_checkpoint(
    path: Path,
    config: TrainConfig,
    state: dict[str, torch.Tensor],
    classes: list[str],
    epoch: int,
    dev: Evaluation,
    *,
    faces: list[str],
    checksum: str,
) -> None:
    """``best.pt``: the weights plus what is needed to use them (classes, input, normalisation)
    and to check them for leaks later (the folder's checksum, the keys of the training faces;
    those of a ``--weights`` start were checked against this run's test faces)."""
    torch.save(
        {
            "model": state,
            "arch": config.arch,
            "task": config.task,
            "classes": classes,
            "image_size": config.input_size,
            "aux_logits": uses_aux_logits(config.arch, config.input_size),
            "mean": IMAGENET_MEAN,
            "std": IMAGENET_STD,
            "epoch": epoch,
            "dev_accuracy": dev.metrics.accuracy,
            "release_checksum": checksum,
            "faces": faces,
        },
        path,
    )


def with_overrides(config: TrainConfig, **changes: Any) -> TrainConfig:
    """A copy of ``config`` with ``changes`` (used by the baselines grid)."""
    return replace(config, **changes)
