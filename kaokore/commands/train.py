"""``kaokore train``: the paper's classification baselines on a release.

torch is imported inside the commands only, so ``kaokore --help`` works on an install without
the ``train`` extra; running a command there ends with one line saying how to install it.
The generative model has its own group (``kaokore gan``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from kaokore.commands.common import console, require_train_extra, settings_of
from kaokore.commands.learning import DeviceOption, ReleaseOption, SeedOption
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

ImageSizeOption = Annotated[
    int | None,
    typer.Option(
        "--image-size",
        help="Input side in pixels [default: 256; 299 for inception_v3, whose auxiliary "
        "head needs 299 or more].",
        show_default=False,
    ),
]
EpochsOption = Annotated[
    int | None,
    typer.Option(
        "--epochs", help="Most epochs to train [default: 30, or the preset's].", show_default=False
    ),
]
PatienceOption = Annotated[
    int | None,
    typer.Option(
        "--patience",
        help="Stop after this many epochs without a better dev accuracy "
        "[default: 5, or the preset's].",
        show_default=False,
    ),
]
BatchSizeOption = Annotated[
    int | None,
    typer.Option(
        "--batch-size",
        help="Images per step (per process) [default: 64, or the preset's].",
        show_default=False,
    ),
]
LrOption = Annotated[
    float | None,
    typer.Option(
        "--lr", help="Adam learning rate [default: 3e-4, or the preset's].", show_default=False
    ),
]
WeightDecayOption = Annotated[
    float | None,
    typer.Option(
        "--weight-decay",
        help="Adam weight decay [default: 0, or the preset's].",
        show_default=False,
    ),
]
PresetOption = Annotated[
    str | None,
    typer.Option(
        "--preset",
        help="official: the official repository's recipe (Adam 1e-3, batch 32, 20 epochs, "
        "rate / 10 every 10 epochs, 256 px; ImageNet weights only with --weights, else from "
        "scratch); scratch: ours, to train from scratch to convergence (cosine over 60 "
        "epochs, 2 warm-up, weight decay 1e-4, batch 64). Options given explicitly win.",
        show_default=False,
    ),
]
ScheduleOption = Annotated[
    str | None,
    typer.Option(
        "--schedule",
        help="Learning rate per epoch: constant, step (/10 every 10 epochs) or cosine "
        "[default: constant, or the preset's].",
        show_default=False,
    ),
]
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


@dataclass(frozen=True, kw_only=True)
class _Recipe:
    """The options ``classify`` and ``baselines`` share: how one classifier is trained."""

    preset: str | None
    image_size: int | None
    epochs: int | None
    patience: int | None
    batch_size: int | None
    lr: float | None
    weight_decay: float | None
    schedule: str | None
    seed: int
    device: str
    amp: bool | None
    balanced: bool
    split: str | None
    workers: int
    limit: int | None
    fast: bool
    cache_dir: Path | None
    threads: int | None
    progress: bool

    def config(self, ctx: typer.Context, release: Path) -> dict[str, Any]:
        """The ``TrainConfig`` fields these options decide (the preset filled in)."""
        from kaokore.learn.cache import CACHE_SUBDIR
        from kaokore.learn.presets import with_preset

        chosen = with_preset(
            self.preset,
            {
                "image_size": self.image_size,
                "epochs": self.epochs,
                "patience": self.patience,
                "batch_size": self.batch_size,
                "lr": self.lr,
                "weight_decay": self.weight_decay,
                "schedule": self.schedule,
            },
        )
        settings = settings_of(ctx)
        return {
            "release": release,
            **chosen,
            "seed": self.seed,
            "device": self.device,
            "amp": self.amp,
            "balanced": self.balanced,
            "split": self.split,
            "workers": self.workers,
            "limit": self.limit,
            "fast": self.fast,
            "cache_dir": self.cache_dir or settings.cache_dir / CACHE_SUBDIR,
            "threads": self.threads,
            "progress": self.progress,
        }


#: Each shared option: its annotated type and its default, in the order --help lists them.
_RECIPE_OPTIONS: dict[str, tuple[Any, Any]] = {
    "preset": (PresetOption, None),
    "image_size": (ImageSizeOption, None),
    "epochs": (EpochsOption, None),
    "patience": (PatienceOption, None),
    "batch_size": (BatchSizeOption, None),
    "lr": (LrOption, None),
    "weight_decay": (WeightDecayOption, None),
    "schedule": (ScheduleOption, None),
    "seed": (SeedOption, 0),
    "device": (DeviceOption, "auto"),
    "amp": (AmpOption, None),
    "balanced": (BalancedOption, False),
    "split": (SplitOption, None),
    "workers": (WorkersOption, 0),
    "limit": (LimitOption, None),
    "fast": (FastOption, True),
    "cache_dir": (CacheDirOption, None),
    "threads": (ThreadsOption, None),
    "progress": (ProgressOption, True),
}


def _recipe_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give ``command`` the shared options, gathered into its ``recipe`` argument.

    Why a decorator: typer reads a command's options from its signature, so the shared ones
    are added to the signature here, once, instead of being written out in each command.
    """
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "recipe"]
    shared = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=default)
        for name, (kind, default) in _RECIPE_OPTIONS.items()
    ]

    @functools.wraps(command)
    def with_recipe(*args: Any, **kwargs: Any) -> None:
        recipe = _Recipe(**{name: kwargs.pop(name) for name in _RECIPE_OPTIONS})
        command(*args, recipe=recipe, **kwargs)

    with_recipe.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*own, *shared]
    )
    return with_recipe


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
@_recipe_options
def classify(
    ctx: typer.Context,
    recipe: _Recipe,
    release: ReleaseOption,
    arch: Annotated[
        str,
        typer.Option(
            "--arch",
            help="vgg11, alexnet, resnet18, resnet34, mobilenet_v2, densenet121 or inception_v3.",
        ),
    ] = "resnet18",
    task: Annotated[str, typer.Option("--task", help="gender or status.")] = "gender",
    weights: Annotated[
        Path | None,
        typer.Option(
            "--weights",
            help="Local state dict to start from (e.g. torchvision ImageNet weights saved "
            "earlier, a best.pt or a pretrain.pt); the classification head is always new. "
            "Nothing is downloaded. A checkpoint that trained on a test face of this run's "
            "split is refused.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Run folder to create [default: runs/ARCH-TASK-TIMESTAMP in the home folder].",
            show_default=False,
        ),
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            help="Seconds; stop before an epoch that would end later.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Train one of the paper's classifiers, early-stopped on dev, and score it on test.

    Writes config.json, history.csv/json, best.pt, metrics.json (accuracy, macro-F1,
    per-class precision and recall, confusion matrix), curves.png and confusion.png into the
    run folder. Every image and label is checked before training starts, and a --weights
    checkpoint that trained on any test face of the split is refused. Under
    `torchrun --nproc-per-node N -m kaokore train classify ...` it trains with
    DistributedDataParallel.

    Examples:

    ```
    kaokore train classify --release kaokore-data/releases/kaokore-1.0 --arch resnet18 --task gender
    kaokore train classify --release ./kaokore --arch inception_v3 --task status --device cuda
    kaokore train classify --release ./kaokore --image-size 64 --epochs 3 --limit 200 --device cpu
    kaokore train classify --release kaokore-v1.0 --preset official --device cuda
    kaokore train classify --release kaokore-v1.0 --weights runs/simclr/pretrain.pt
    ```
    """
    require_train_extra("kaokore train")
    from kaokore.learn.train import TrainConfig, default_run_dir, train_classifier

    config = TrainConfig(
        **recipe.config(ctx, release),
        arch=arch,
        task=task,
        weights=weights,
        out=out or default_run_dir(arch, task, home=settings_of(ctx).home),
        time_limit=time_limit,
    )
    result = train_classifier(config)
    if result.test is not None:
        _print_result(config, result.run_dir, result.test)


@app.command()
@_recipe_options
def baselines(
    ctx: typer.Context,
    recipe: _Recipe,
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
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for the tables and one run folder per cell "
            "[default: runs/baselines-TIMESTAMP in the home folder].",
            show_default=False,
        ),
    ] = None,
    time_budget: Annotated[
        float | None,
        typer.Option(
            "--time-budget",
            help="Seconds for the whole grid, shared out between the runs still to go.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the paper's grid (7 architectures x gender/status) and tabulate it next to Table 2.

    Writes baselines.md, baselines.csv (paper and measured test accuracy side by side,
    rewritten after every run), baselines.png and one run folder per cell into --out. The
    paper's numbers
    are for the version 1.0 split: see tools/make_v10_split.py to assemble it.

    Examples:

    ```
    kaokore train baselines --release kaokore-v1.0 --device cuda --preset official
    kaokore train baselines --release kaokore-v1.0 --archs resnet18,vgg11 --tasks gender --epochs 5
    ```
    """
    require_train_extra("kaokore train")
    from datetime import datetime

    from kaokore.learn.baselines import TASKS, run_baselines
    from kaokore.learn.models import ARCHS
    from kaokore.learn.train import TrainConfig

    chosen_archs = _names(archs, ARCHS, "--archs")
    chosen_tasks = _names(tasks, TASKS, "--tasks")
    folder = out or settings_of(ctx).home / "runs" / f"baselines-{datetime.now():%Y%m%d-%H%M%S}"
    base = TrainConfig(**recipe.config(ctx, release))
    rows = run_baselines(
        base, folder, archs=chosen_archs, tasks=chosen_tasks, time_budget=time_budget
    )
    if rows:
        console.print((folder / "baselines.md").read_text(encoding="utf-8"))
    console.print(f"Tables: {folder / 'baselines.md'} and {folder / 'baselines.csv'}")


@app.command()
def pretrain(
    ctx: typer.Context,
    release: Annotated[
        Path,
        typer.Option(
            "--release",
            help="Folder whose faces are learnt from (every face in labels.csv, labels unused).",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option("--out", help="Folder for pretrain.pt and pretrain.json.", show_default=False),
    ],
    evaluation: Annotated[
        Path | None,
        typer.Option(
            "--evaluation",
            help="Folder of the split that will be evaluated on; its test faces are left out "
            "[default: --release].",
            show_default=False,
        ),
    ] = None,
    evaluation_split: Annotated[
        str | None,
        typer.Option(
            "--evaluation-split",
            help="Split file of --evaluation [default: its labels.csv set column].",
            show_default=False,
        ),
    ] = None,
    arch: Annotated[str, typer.Option("--arch", help="One of the seven networks.")] = "resnet18",
    image_size: Annotated[int, typer.Option("--image-size", help="Input side in pixels.")] = 64,
    epochs: Annotated[int, typer.Option("--epochs", help="Epochs over the faces.")] = 10,
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="Faces per step (two views each).")
    ] = 128,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate (cosine decay).")] = 1e-3,
    temperature: Annotated[float, typer.Option("--temperature", help="NT-Xent temperature.")] = 0.2,
    seed: SeedOption = 0,
    device: DeviceOption = "auto",
    limit: Annotated[
        int | None,
        typer.Option("--limit", help="Use a seeded subset of N faces.", show_default=False),
    ] = None,
    workers: WorkersOption = 0,
    cache_dir: CacheDirOption = None,
    time_limit: Annotated[
        float | None,
        typer.Option("--time-limit", help="Seconds; stop before an epoch that would end later."),
    ] = None,
    threads: ThreadsOption = None,
) -> None:
    """Self-supervised pretraining (SimCLR) on every face that is not a test face.

    Faces are compared by content key, so the version 1.2 faces can be used to pretrain for
    the version 1.0 split without its test faces (425 of the 527 are 1.2 training faces).
    Fine-tune with `kaokore train classify --weights OUT/pretrain.pt`; the checkpoint records
    the faces it saw, and the leak check verifies them.

    Examples:

    ```
    kaokore train pretrain --release kaokore-v1.2 --evaluation kaokore-v1.0 --out runs/simclr
    kaokore train classify --release kaokore-v1.0 --weights runs/simclr/pretrain.pt
    ```
    """
    require_train_extra("kaokore train")
    from kaokore.learn.cache import CACHE_SUBDIR
    from kaokore.learn.pretrain import PretrainConfig
    from kaokore.learn.pretrain import pretrain as run_pretraining

    settings = settings_of(ctx)
    config = PretrainConfig(
        release=release,
        out=out,
        evaluation=evaluation,
        evaluation_split=evaluation_split,
        arch=arch,
        image_size=image_size,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        temperature=temperature,
        seed=seed,
        device=device,
        limit=limit,
        workers=workers,
        cache_dir=cache_dir or settings.cache_dir / CACHE_SUBDIR,
        time_limit=time_limit,
        threads=threads,
    )
    result = run_pretraining(config, console=console)
    console.print(
        f"Pretrained on {result.faces} faces ({result.excluded} test faces left out) in "
        f"{result.seconds:.0f} s; checkpoint {result.checkpoint}"
    )
