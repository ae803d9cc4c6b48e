"""``kaokore train``: the paper's classification baselines on a release.

torch is imported inside the commands only, so ``kaokore --help`` works on an install without
the ``train`` extra; running a command there ends with one line saying how to install it.
Other training commands (``kaokore train gan``) attach themselves to :data:`app`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from kaokore.commands.common import console, require_train_extra, settings_of
from kaokore.errors import UsageError

if TYPE_CHECKING:
    from kaokore.learn.train import Evaluation, TrainConfig

__all__ = ["app"]

app = typer.Typer(
    help="Train classifiers on a release: one run, or the paper's 7 x 2 baseline grid. "
    "Needs the train extra: pip install 'kaokore[train]'.",
    no_args_is_help=True,
)

_EXTRA_MODULES = {"torch", "torchvision", "matplotlib", "numpy", "PIL"}

ReleaseOption = Annotated[
    Path,
    typer.Option(
        "--release",
        help="Release folder (made by `kaokore build`) or official download folder: "
        "images_256/ and labels.csv.",
        show_default=False,
    ),
]
ImageSizeOption = Annotated[
    int | None,
    typer.Option(
        "--image-size",
        help="Input side in pixels [default: 256; 299 for inception_v3, whose auxiliary "
        "head needs 299 or more].",
        show_default=False,
    ),
]
EpochsOption = Annotated[int, typer.Option("--epochs", help="Most epochs to train.")]
PatienceOption = Annotated[
    int,
    typer.Option("--patience", help="Stop after this many epochs without a better dev accuracy."),
]
BatchSizeOption = Annotated[
    int, typer.Option("--batch-size", help="Images per step (per process).")
]
LrOption = Annotated[float, typer.Option("--lr", help="Adam learning rate.")]
WeightDecayOption = Annotated[float, typer.Option("--weight-decay", help="Adam weight decay.")]
SeedOption = Annotated[
    int, typer.Option("--seed", help="Seed of the initialisation, order and crops.")
]
DeviceOption = Annotated[str, typer.Option("--device", help="cpu, cuda, mps or auto.")]
AmpOption = Annotated[
    bool | None,
    typer.Option(
        "--amp/--no-amp",
        help="bf16 autocast [default: on with CUDA, off otherwise].",
        show_default=False,
    ),
]
BalancedOption = Annotated[
    bool, typer.Option("--balanced", help="Weight the loss by inverse class frequency.")
]
SplitOption = Annotated[
    str | None,
    typer.Option(
        "--split",
        help="Split file of the release: official, stable, by-work or by-page "
        "[default: the set column of labels.csv].",
        show_default=False,
    ),
]
WorkersOption = Annotated[
    int,
    typer.Option("--workers", help="Processes decoding JPEGs (cache build, or the plain loader)."),
]
LimitOption = Annotated[
    int | None,
    typer.Option(
        "--limit",
        help="Use only the first N images of each split (smoke runs).",
        show_default=False,
    ),
]
FastOption = Annotated[
    bool,
    typer.Option(
        "--fast/--no-fast",
        help="Decode once into a cached uint8 array and augment on the device (--no-fast: "
        "decode a JPEG per item, like the official loader).",
    ),
]
CacheDirOption = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        help="Where decoded arrays are kept [default: cache/decoded in the home folder].",
        show_default=False,
    ),
]
ThreadsOption = Annotated[
    int | None,
    typer.Option(
        "--threads",
        help="CPU threads for torch [default: torch's choice, one per core].",
        show_default=False,
    ),
]
ProgressOption = Annotated[
    bool, typer.Option("--progress/--no-progress", help="Show a progress bar per epoch.")
]


def _names(values: list[str] | None, valid: tuple[str, ...], option: str) -> list[str]:
    """Accept repeated options and comma-separated lists; check every name."""
    if not values:
        return list(valid)
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in valid]
    if unknown:
        raise UsageError(
            f"Unknown {option} {', '.join(unknown)}. Valid values are {', '.join(valid)}."
        )
    return names


def _print_result(config: TrainConfig, run_dir: Path, test: Evaluation) -> None:
    metrics = test.metrics
    table = Table(
        "class", "precision", "recall", "support", title=f"{config.arch} / {config.task}: test"
    )
    for i, name in enumerate(metrics.classes):
        table.add_row(
            name, f"{metrics.precision[i]:.3f}", f"{metrics.recall[i]:.3f}", str(metrics.support[i])
        )
    table.caption = f"accuracy {metrics.accuracy:.2%}, macro-F1 {metrics.macro_f1:.4f}"
    console.print(table)
    console.print(f"Run folder: {run_dir}")


@app.command()
def classify(
    ctx: typer.Context,
    release: ReleaseOption,
    arch: Annotated[
        str,
        typer.Option(
            "--arch",
            help="vgg11, alexnet, resnet18, resnet34, mobilenet_v2, densenet121 or inception_v3.",
        ),
    ] = "resnet18",
    task: Annotated[str, typer.Option("--task", help="gender or status.")] = "gender",
    image_size: ImageSizeOption = None,
    epochs: EpochsOption = 30,
    patience: PatienceOption = 5,
    batch_size: BatchSizeOption = 64,
    lr: LrOption = 3e-4,
    weight_decay: WeightDecayOption = 0.0,
    seed: SeedOption = 0,
    device: DeviceOption = "auto",
    amp: AmpOption = None,
    balanced: BalancedOption = False,
    weights: Annotated[
        Path | None,
        typer.Option(
            "--weights",
            help="Local state dict to start from (e.g. torchvision ImageNet weights saved "
            "earlier, or a best.pt); the classification head is always new. Nothing is downloaded.",
            show_default=False,
        ),
    ] = None,
    split: SplitOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Run folder to create [default: runs/ARCH-TASK-TIMESTAMP in the home folder].",
            show_default=False,
        ),
    ] = None,
    workers: WorkersOption = 0,
    limit: LimitOption = None,
    fast: FastOption = True,
    cache_dir: CacheDirOption = None,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            help="Seconds; stop before an epoch that would end later.",
            show_default=False,
        ),
    ] = None,
    threads: ThreadsOption = None,
    progress: ProgressOption = True,
) -> None:
    """Train one of the paper's classifiers, early-stopped on dev, and score it on test.

    Writes config.json, history.csv/json, best.pt, metrics.json (accuracy, macro-F1,
    per-class precision and recall, confusion matrix), curves.png and confusion.png into the
    run folder. Every image and label is checked before training starts. Under
    `torchrun --nproc-per-node N -m kaokore train classify ...` it trains with
    DistributedDataParallel.

    Examples:

    ```
    kaokore train classify --release kaokore-data/releases/kaokore-1.0 --arch resnet18 --task gender
    kaokore train classify --release ./kaokore --arch inception_v3 --task status --device cuda
    kaokore train classify --release ./kaokore --image-size 64 --epochs 3 --limit 200 --device cpu
    ```
    """
    require_train_extra("kaokore train")
    from kaokore.learn.cache import CACHE_SUBDIR
    from kaokore.learn.train import TrainConfig, default_run_dir, train_classifier

    settings = settings_of(ctx)
    config = TrainConfig(
        release=release,
        arch=arch,
        task=task,
        image_size=image_size,
        epochs=epochs,
        patience=patience,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        seed=seed,
        device=device,
        amp=amp,
        balanced=balanced,
        weights=weights,
        split=split,
        out=out or default_run_dir(arch, task, home=settings.home),
        workers=workers,
        limit=limit,
        fast=fast,
        cache_dir=cache_dir or settings.cache_dir / CACHE_SUBDIR,
        time_limit=time_limit,
        threads=threads,
        progress=progress,
    )
    result = train_classifier(config)
    if result.test is not None:
        _print_result(config, result.run_dir, result.test)


@app.command()
def baselines(
    ctx: typer.Context,
    release: ReleaseOption,
    archs: Annotated[
        list[str] | None,
        typer.Option(
            "--archs",
            help="Architectures, repeated or comma-separated [default: all seven].",
            show_default=False,
        ),
    ] = None,
    tasks: Annotated[
        list[str] | None,
        typer.Option("--tasks", help="gender, status or both [default: both].", show_default=False),
    ] = None,
    image_size: ImageSizeOption = None,
    epochs: EpochsOption = 30,
    patience: PatienceOption = 5,
    batch_size: BatchSizeOption = 64,
    lr: LrOption = 3e-4,
    seed: SeedOption = 0,
    device: DeviceOption = "auto",
    amp: AmpOption = None,
    balanced: BalancedOption = False,
    split: SplitOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for the tables and one run folder per cell "
            "[default: runs/baselines-TIMESTAMP in the home folder].",
            show_default=False,
        ),
    ] = None,
    workers: WorkersOption = 0,
    limit: LimitOption = None,
    fast: FastOption = True,
    cache_dir: CacheDirOption = None,
    time_budget: Annotated[
        float | None,
        typer.Option(
            "--time-budget",
            help="Seconds for the whole grid, shared out between the runs still to go.",
            show_default=False,
        ),
    ] = None,
    threads: ThreadsOption = None,
    progress: ProgressOption = True,
) -> None:
    """Run the paper's grid (7 architectures x gender/status) and tabulate it next to Table 2.

    Writes baselines.md and baselines.csv (paper and measured test accuracy side by side,
    rewritten after every run) and one run folder per cell into --out. The paper's numbers
    are for the version 1.0 split: see tools/make_v10_split.py to assemble it.

    Examples:

    ```
    kaokore train baselines --release kaokore-v1.0 --device cuda --epochs 20
    kaokore train baselines --release kaokore-v1.0 --archs resnet18,vgg11 --tasks gender --epochs 5
    ```
    """
    require_train_extra("kaokore train")
    from datetime import datetime

    from kaokore.learn.baselines import TASKS, run_baselines
    from kaokore.learn.cache import CACHE_SUBDIR
    from kaokore.learn.models import ARCHS
    from kaokore.learn.train import TrainConfig

    chosen_archs = _names(archs, ARCHS, "--archs")
    chosen_tasks = _names(tasks, TASKS, "--tasks")
    settings = settings_of(ctx)
    folder = out or settings.home / "runs" / f"baselines-{datetime.now():%Y%m%d-%H%M%S}"
    base = TrainConfig(
        release=release,
        image_size=image_size,
        epochs=epochs,
        patience=patience,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        device=device,
        amp=amp,
        balanced=balanced,
        split=split,
        workers=workers,
        limit=limit,
        fast=fast,
        cache_dir=cache_dir or settings.cache_dir / CACHE_SUBDIR,
        threads=threads,
        progress=progress,
    )
    rows = run_baselines(
        base, folder, archs=chosen_archs, tasks=chosen_tasks, time_budget=time_budget
    )
    if rows:
        console.print((folder / "baselines.md").read_text(encoding="utf-8"))
    console.print(f"Tables: {folder / 'baselines.md'} and {folder / 'baselines.csv'}")
