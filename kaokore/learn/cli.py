"""``python -m kaokore.learn``: the learning commands with nothing but torch, torchvision,
numpy and Pillow.

``kaokore train ...`` (typer, rich) is the command a user types; it imports the database
layer on the way. The GPU machine this project is lent at times has neither SQLAlchemy nor a
way to install it, so this entry point reaches the same library functions with argparse and
plain stderr lines. It is what ``bench/gpu_baselines.sh`` and ``bench/gpu_generative.sh`` run.

Subcommands: ``classify``, ``baselines``, ``pretrain`` (as ``kaokore train ...``), ``pack``
and ``unpack`` (a folder as one file small enough to travel), ``gan-train``, ``gan-sample``,
``paint-optimize``, ``paint-agent`` and ``paint-run`` (as ``kaokore gan train``,
``kaokore gan sample`` and ``kaokore paint ...``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kaokore.errors import ArgumentError, KaokoreError, UsageError, flag_name

__all__ = ["main"]

_SIZE = {"type": int, "default": None}


def _train_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by classify and baselines (None: the preset's value or the default)."""
    parser.add_argument("--release", type=Path, required=True, help="images_256/ + labels.csv")
    parser.add_argument("--preset", choices=("official", "scratch"), default=None)
    parser.add_argument("--image-size", **_SIZE)  # type: ignore[arg-type]
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--patience", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--weight-decay", type=float, default=None)
    parser.add_argument("--schedule", choices=("constant", "step", "cosine"), default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--amp", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--split", default=None, help="official, stable, by-work, by-page")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--fast", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=False)
    parser.add_argument("--out", type=Path, required=True)


def _train_config(args: argparse.Namespace, **fields: Any) -> Any:
    from kaokore.learn.cache import default_cache_dir
    from kaokore.learn.presets import with_preset
    from kaokore.learn.train import TrainConfig

    explicit = {
        "image_size": args.image_size,
        "epochs": args.epochs,
        "patience": args.patience,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "weight_decay": args.weight_decay,
        "schedule": args.schedule,
    }
    return TrainConfig(
        release=args.release,
        seed=args.seed,
        device=args.device,
        amp=args.amp,
        split=args.split,
        workers=args.workers,
        limit=args.limit,
        fast=args.fast,
        cache_dir=args.cache_dir or default_cache_dir(),
        threads=args.threads,
        progress=args.progress,
        **with_preset(args.preset, explicit),
        **fields,
    )


def _classify(args: argparse.Namespace) -> None:
    from kaokore.learn.train import train_classifier

    config = _train_config(
        args,
        arch=args.arch,
        task=args.task,
        weights=args.weights,
        out=args.out,
        time_limit=args.time_limit,
    )
    result = train_classifier(config)
    if result.test is not None:
        metrics = result.test.metrics
        print(
            f"{config.arch} {config.task}: test accuracy {metrics.accuracy:.2%}, macro-F1 "
            f"{metrics.macro_f1:.4f} (best epoch {result.best_epoch} of {result.epochs_run}); "
            f"run folder {result.run_dir}"
        )


def _names(value: str | None, valid: Sequence[str], option: str) -> list[str]:
    if not value:
        return list(valid)
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in valid]
    if unknown:
        raise UsageError(f"Unknown {option} {', '.join(unknown)}. Valid: {', '.join(valid)}.")
    return names


def _baselines(args: argparse.Namespace) -> None:
    from kaokore.learn.baselines import TASKS, run_baselines
    from kaokore.learn.models import ARCHS

    base = _train_config(args)
    archs = _names(args.archs, ARCHS, "--archs")
    tasks = _names(args.tasks, TASKS, "--tasks")
    rows = run_baselines(base, args.out, archs=archs, tasks=tasks, time_budget=args.time_budget)
    if rows:
        print((args.out / "baselines.md").read_text(encoding="utf-8"))


def _pretrain(args: argparse.Namespace) -> None:
    from kaokore.learn.cache import default_cache_dir
    from kaokore.learn.pretrain import PretrainConfig, pretrain

    config = PretrainConfig(
        release=args.release,
        out=args.out,
        evaluation=args.evaluation,
        evaluation_split=args.evaluation_split,
        arch=args.arch,
        image_size=args.image_size,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        temperature=args.temperature,
        seed=args.seed,
        device=args.device,
        limit=args.limit,
        cache_dir=args.cache_dir or default_cache_dir(),
        workers=args.workers,
        time_limit=args.time_limit,
        threads=args.threads,
    )
    result = pretrain(config)
    print(
        f"Pretrained on {result.faces} faces ({result.excluded} test faces left out) in "
        f"{result.seconds:.0f} s; checkpoint {result.checkpoint}"
    )


def _pack(args: argparse.Namespace) -> None:
    from kaokore.learn.pack import make_pack

    meta = make_pack(
        args.release, args.out, quality=args.quality, size=args.size, workers=args.workers
    )
    print(
        f"{args.out}: {meta['faces']} faces, {int(str(meta['packed_bytes'])) / 2**20:.1f} MiB "
        f"of JPEG (quality {meta['quality']}) from "
        f"{int(str(meta['original_bytes'])) / 2**20:.1f} MiB"
    )


def _unpack(args: argparse.Namespace) -> None:
    from kaokore.learn.pack import unpack

    count = unpack(args.pack, args.out)
    print(f"{args.out}: {count} faces")


def _gan_train(args: argparse.Namespace) -> None:
    from kaokore.learn.gan import GanConfig, GanTrainConfig, train_gan

    config = GanTrainConfig(
        release=str(args.release),
        model=GanConfig(res=args.res, channel_max=args.channels),
        steps=args.steps,
        batch_size=args.batch_size,
        max_images=args.max_images,
        seed=args.seed,
        log_every=args.log_every,
        checkpoint_every=args.checkpoint_every,
        snapshot_every=args.snapshot_every,
        fid_every=args.fid_every,
        fid_samples=args.fid_samples,
        time_budget=args.time_budget,
    )

    def report(record: dict[str, Any]) -> None:
        fd = f"  fd {record['fid']:.2f}" if record.get("fid") is not None else ""
        print(
            f"step {record['step']:>7}  D {record['loss_d']:.3f}  G {record['loss_g']:.3f}  "
            f"{record['images_per_second']:.1f} img/s{fd}",
            flush=True,
        )

    summary = train_gan(config, out=args.out, device=args.device, progress=report)
    fd = f", Frechet distance {summary.fid:.2f}" if summary.fid is not None else ""
    print(f"Trained to step {summary.step} at {summary.images_per_second:.1f} images/s{fd}")


def _gan_sample(args: argparse.Namespace) -> None:
    from kaokore.learn.gan import sample

    result = sample(
        args.checkpoint,
        out=args.out,
        n=args.n,
        truncation=args.truncation,
        seed=args.seed,
        device=args.device,
    )
    print(f"Wrote {result.grid} (step {result.step}, truncation {args.truncation})")


def _paint_summary(run: Any) -> None:
    first = sum(r[0] for r in run.errors) / len(run.errors)
    last = sum(r[-1] for r in run.errors) / len(run.errors)
    print(f"Mean squared error {first:.4f} (blank) -> {last:.4f}; wrote {run.files.finals}")


def _paint_optimize(args: argparse.Namespace) -> None:
    from kaokore.learn.paint import OptimizeConfig, optimize_images

    config = OptimizeConfig(
        strokes=args.strokes, stages=args.stages, steps=args.steps, seed=args.seed
    )
    run = optimize_images(
        args.images, out=args.out, config=config, size=args.size, every=args.every,
        device=args.device,
    )  # fmt: skip
    _paint_summary(run)


def _paint_agent(args: argparse.Namespace) -> None:
    from kaokore.learn.paint import AgentConfig, RendererTrainConfig, train_agent_on_release

    config = AgentConfig(
        size=args.size, grid=args.grid, episode_steps=args.episode_steps, steps=args.steps,
        batch_size=args.batch_size, max_images=args.max_images, seed=args.seed,
        renderer=RendererTrainConfig(size=args.size, steps=args.renderer_steps, seed=args.seed),
    )  # fmt: skip
    summary = train_agent_on_release(args.release, out=args.out, config=config, device=args.device)
    print(
        f"Dev faces, mean squared error: {summary.blank_mse:.4f} (blank) -> "
        f"{summary.dev_mse:.4f} (neural renderer), {summary.dev_mse_analytic:.4f} (analytic); "
        f"actor {summary.actor}"
    )


def _paint_run(args: argparse.Namespace) -> None:
    from kaokore.learn.paint import run_agent

    run = run_agent(
        args.images, actor=args.actor, out=args.out, every=args.every, device=args.device
    )
    _paint_summary(run)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kaokore.learn",
        description="KaoKore learning commands needing only torch, torchvision, numpy, Pillow.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    commands: dict[str, Callable[[argparse.Namespace], None]] = {}

    def add(name: str, run: Callable[[argparse.Namespace], None], text: str) -> Any:
        commands[name] = run
        command = sub.add_parser(name, help=text, description=text)
        command.set_defaults(run=run)
        return command

    classify = add("classify", _classify, "Train one classifier (as `kaokore train classify`).")
    _train_options(classify)
    classify.add_argument("--arch", default="resnet18")
    classify.add_argument("--task", default="gender")
    classify.add_argument("--weights", type=Path, default=None)
    classify.add_argument("--time-limit", type=float, default=None)

    grid = add("baselines", _baselines, "The 7 x 2 grid of Table 2 (as `kaokore train baselines`).")
    _train_options(grid)
    grid.add_argument("--archs", default=None, help="comma-separated [default: all seven]")
    grid.add_argument("--tasks", default=None, help="gender,status [default: both]")
    grid.add_argument("--time-budget", type=float, default=None)

    pre = add("pretrain", _pretrain, "SimCLR pretraining (as `kaokore train pretrain`).")
    pre.add_argument("--release", type=Path, required=True)
    pre.add_argument("--evaluation", type=Path, default=None)
    pre.add_argument("--evaluation-split", default=None)
    pre.add_argument("--arch", default="resnet18")
    pre.add_argument("--image-size", type=int, default=64)
    pre.add_argument("--epochs", type=int, default=10)
    pre.add_argument("--batch-size", type=int, default=128)
    pre.add_argument("--lr", type=float, default=1e-3)
    pre.add_argument("--temperature", type=float, default=0.2)
    pre.add_argument("--seed", type=int, default=0)
    pre.add_argument("--device", default="auto")
    pre.add_argument("--limit", type=int, default=None)
    pre.add_argument("--cache-dir", type=Path, default=None)
    pre.add_argument("--workers", type=int, default=0)
    pre.add_argument("--time-limit", type=float, default=None)
    pre.add_argument("--threads", type=int, default=None)
    pre.add_argument("--out", type=Path, required=True)

    pack = add("pack", _pack, "Pack a KaoKore folder into one .npz file of re-encoded JPEGs.")
    pack.add_argument("release", type=Path)
    pack.add_argument("out", type=Path)
    pack.add_argument("--quality", type=int, default=80)
    pack.add_argument("--size", type=int, default=None, help="resize to SIZE px [default: keep]")
    pack.add_argument("--workers", type=int, default=0)

    unpack = add("unpack", _unpack, "Write a pack back as a folder (official download layout).")
    unpack.add_argument("pack", type=Path)
    unpack.add_argument("out", type=Path)

    gan = add(
        "gan-train", _gan_train, "Train the StyleGAN-style generator (as `kaokore gan train`)."
    )
    gan.add_argument("--release", type=Path, required=True)
    gan.add_argument("--out", type=Path, required=True)
    gan.add_argument("--res", type=int, choices=(32, 64, 128, 256), default=64)
    gan.add_argument("--channels", type=int, default=512)
    gan.add_argument("--steps", type=int, default=10_000)
    gan.add_argument("--batch-size", type=int, default=32)
    gan.add_argument("--max-images", type=int, default=None)
    gan.add_argument("--log-every", type=int, default=50)
    gan.add_argument("--checkpoint-every", type=int, default=500)
    gan.add_argument("--snapshot-every", type=int, default=1000)
    gan.add_argument("--fid-every", type=int, default=1000)
    gan.add_argument("--fid-samples", type=int, default=1000)
    gan.add_argument("--time-budget", type=float, default=None)
    gan.add_argument("--device", default="auto")
    gan.add_argument("--seed", type=int, default=0)

    draw = add("gan-sample", _gan_sample, "Generated faces, uncurated (as `kaokore gan sample`).")
    draw.add_argument("--checkpoint", type=Path, required=True)
    draw.add_argument("--out", type=Path, required=True)
    draw.add_argument("--n", type=int, default=64)
    draw.add_argument("--truncation", type=float, default=0.7)
    draw.add_argument("--device", default="auto")
    draw.add_argument("--seed", type=int, default=0)

    optimize = add("paint-optimize", _paint_optimize, "As `kaokore paint optimize`.")
    optimize.add_argument("images", type=Path, nargs="+")
    optimize.add_argument("--out", type=Path, required=True)
    optimize.add_argument("--strokes", type=int, default=256)
    optimize.add_argument("--stages", type=int, default=4)
    optimize.add_argument("--steps", type=int, default=100)
    optimize.add_argument("--size", type=int, default=64)
    optimize.add_argument("--every", type=int, default=None)
    optimize.add_argument("--device", default="auto")
    optimize.add_argument("--seed", type=int, default=0)

    agent = add("paint-agent", _paint_agent, "As `kaokore paint agent`.")
    agent.add_argument("--release", type=Path, required=True)
    agent.add_argument("--out", type=Path, required=True)
    agent.add_argument("--size", type=int, default=64)
    agent.add_argument("--grid", type=int, default=4)
    agent.add_argument("--episode-steps", type=int, default=8)
    agent.add_argument("--steps", type=int, default=2000)
    agent.add_argument("--batch-size", type=int, default=16)
    agent.add_argument("--renderer-steps", type=int, default=2000)
    agent.add_argument("--max-images", type=int, default=None)
    agent.add_argument("--device", default="auto")
    agent.add_argument("--seed", type=int, default=0)

    run = add("paint-run", _paint_run, "As `kaokore paint run`.")
    run.add_argument("images", type=Path, nargs="+")
    run.add_argument("--actor", type=Path, required=True)
    run.add_argument("--out", type=Path, required=True)
    run.add_argument("--every", type=int, default=None)
    run.add_argument("--device", default="auto")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; a KaokoreError becomes one ``Error: ...`` line and its exit code."""
    args = _parser().parse_args(argv)
    try:
        args.run(args)
    except KaokoreError as exc:
        # A library argument is worded as this parser's flag (the same spelling as kaokore's).
        message = (
            exc.worded(flag_name(exc.argument)) if isinstance(exc, ArgumentError) else str(exc)
        )
        print(f"Error: {message}", file=sys.stderr)
        return exc.exit_code
    return 0
