"""The paper's Table 2, re-run: seven architectures by two tasks, side by side with the paper.

:func:`run_baselines` trains every (architecture, task) pair with one shared recipe and writes
``baselines.csv`` and ``baselines.md`` next to the run folders, rewriting both after every run
so a grid stopped half-way still leaves its table. Test accuracy is compared with the paper's
(version 1.0 split, in %); the table says which release and settings produced each number.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from kaokore.learn.models import ARCHS, PAPER_NAMES
from kaokore.learn.train import RunResult, TrainConfig, train_classifier
from kaokore.release import version_of

__all__ = [
    "PAPER_TABLE2",
    "TASKS",
    "BaselineRow",
    "run_baselines",
    "write_figure",
    "write_tables",
]

TASKS: Final[tuple[str, ...]] = ("gender", "status")
#: Test accuracy (%) of the KaoKore paper's Table 2, on the version 1.0 split.
PAPER_TABLE2: Final[dict[str, dict[str, float]]] = {
    "gender": {
        "vgg11": 92.03,
        "alexnet": 91.27,
        "resnet18": 92.98,
        "resnet34": 93.55,
        "mobilenet_v2": 95.06,
        "densenet121": 94.31,
        "inception_v3": 96.58,
    },
    "status": {
        "vgg11": 78.74,
        "alexnet": 78.93,
        "resnet18": 82.16,
        "resnet34": 84.82,
        "mobilenet_v2": 82.35,
        "densenet121": 79.70,
        "inception_v3": 84.25,
    },
}

_CSV_FIELDS: Final = (
    "task",
    "arch",
    "model",
    "paper_accuracy",
    "accuracy",
    "difference",
    "macro_f1",
    "image_size",
    "epochs_run",
    "best_epoch",
    "seconds",
    "run_dir",
)


@dataclass(frozen=True)
class BaselineRow:
    """One cell pair of the table: our test accuracy (%) next to the paper's."""

    task: str
    arch: str
    accuracy: float
    macro_f1: float
    image_size: int
    epochs_run: int
    best_epoch: int
    seconds: float
    run_dir: Path

    @property
    def paper_accuracy(self) -> float:
        """The paper's Table 2 figure for this architecture and task."""
        return PAPER_TABLE2[self.task][self.arch]

    def as_csv(self) -> dict[str, str]:
        """The row of ``baselines.csv``."""
        return {
            "task": self.task,
            "arch": self.arch,
            "model": PAPER_NAMES[self.arch],
            "paper_accuracy": f"{self.paper_accuracy:.2f}",
            "accuracy": f"{self.accuracy:.2f}",
            "difference": f"{self.accuracy - self.paper_accuracy:+.2f}",
            "macro_f1": f"{self.macro_f1:.4f}",
            "image_size": str(self.image_size),
            "epochs_run": str(self.epochs_run),
            "best_epoch": str(self.best_epoch),
            "seconds": f"{self.seconds:.1f}",
            "run_dir": self.run_dir.name,
        }


def write_tables(rows: Sequence[BaselineRow], out: Path, *, note: str = "") -> tuple[Path, Path]:
    """Write ``baselines.csv`` and ``baselines.md`` (paper and ours side by side) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out / "baselines.csv", out / "baselines.md"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(_CSV_FIELDS))
        writer.writeheader()
        writer.writerows(row.as_csv() for row in rows)
    found = {(row.task, row.arch): row for row in rows}
    lines = [
        "| Model | Gender: paper | Gender: ours | Status: paper | Status: ours |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for arch in ARCHS:
        if not any((task, arch) in found for task in TASKS):
            continue
        cells = [PAPER_NAMES[arch]]
        for task in TASKS:
            row = found.get((task, arch))
            cells.append(f"{PAPER_TABLE2[task][arch]:.2f}")
            cells.append(
                ""
                if row is None
                else f"{row.accuracy:.2f} ({row.accuracy - row.paper_accuracy:+.2f})"
            )
        lines.append("| " + " | ".join(cells) + " |")
    text = (
        "Test accuracy (%) of the KaoKore paper's Table 2 (version 1.0 split) next to this run's "
        "(difference in brackets).\n\n" + "\n".join(lines) + "\n"
    )
    if note:
        text += f"\n{note}\n"
    md_path.write_text(text, encoding="utf-8")
    return csv_path, md_path


def write_figure(rows: Sequence[BaselineRow], path: Path) -> Path:
    """Bars of test accuracy, the paper's (grey) and ours (blue), per model and task.

    Drawn with Pillow, not matplotlib, so the figure is made on a machine that has only torch,
    torchvision, numpy and Pillow.
    """
    from PIL import Image, ImageDraw

    found = {(row.task, row.arch): row for row in rows}
    archs = [arch for arch in ARCHS if any((task, arch) in found for task in TASKS)]
    width, height, left, top, bottom = 120 + 95 * len(archs), 560, 50, 30, 60
    image = Image.new("RGB", (max(width, 320), height), "white")
    draw = ImageDraw.Draw(image)
    panel = (height - top - bottom) // 2
    for t, task in enumerate(TASKS):
        y0 = top + t * panel
        base = y0 + panel - 25
        scale = (panel - 45) / 100
        draw.text((left, y0), f"{task}: test accuracy (%), paper grey, ours blue", fill="black")
        for tick in (0, 50, 100):
            y = base - tick * scale
            draw.line([(left - 4, y), (left + 95 * len(archs), y)], fill=(220, 220, 220))
            draw.text((8, y - 6), str(tick), fill="black")
        for i, arch in enumerate(archs):
            x = left + 10 + 95 * i
            paper = PAPER_TABLE2[task][arch]
            draw.rectangle([x, base - paper * scale, x + 35, base], fill=(170, 170, 170))
            row = found.get((task, arch))
            if row is not None:
                draw.rectangle(
                    [x + 38, base - row.accuracy * scale, x + 73, base], fill=(60, 110, 200)
                )
                draw.text((x + 38, base - row.accuracy * scale - 12), f"{row.accuracy:.0f}",
                          fill="black")  # fmt: skip
            draw.text((x, base + 4), PAPER_NAMES[arch], fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def run_baselines(
    base: TrainConfig,
    out: Path,
    *,
    archs: Sequence[str] = ARCHS,
    tasks: Sequence[str] = TASKS,
    time_budget: float | None = None,
    on_row: Callable[[BaselineRow], None] | None = None,
) -> list[BaselineRow]:
    """Train every ``arch`` x ``task`` with ``base``'s recipe into ``out/ARCH-TASK/``.

    ``time_budget`` (seconds, for the whole grid) is shared out: each run may use what is left
    divided by the runs still to go, so a fixed-length slot (a 10-minute GPU lease) is never
    overrun by the last architectures.
    """
    pairs = [(arch, task) for task in tasks for arch in archs]
    started = time.perf_counter()
    rows: list[BaselineRow] = []
    settings = (
        f"Release {version_of(base.release) or base.release.name} "
        f"({base.split or 'labels.csv'} split); "
        f"image size {base.image_size or 'paper default (256, Inception-v3 299)'}; up to "
        f"{base.epochs} epochs, patience {base.patience}; batch {base.batch_size}; "
        f"Adam lr {base.lr}, weight decay {base.weight_decay}, {base.schedule} schedule; "
        f"preset {base.preset or 'none'}; start "
        f"{'from ' + str(base.weights) if base.weights else 'from scratch'}; "
        f"seed {base.seed}; device {base.device}."
    )
    for done, (arch, task) in enumerate(pairs):
        limit = None
        if time_budget is not None:
            left = time_budget - (time.perf_counter() - started)
            limit = max(left / (len(pairs) - done), 1.0)
        config = replace(base, arch=arch, task=task, out=out / f"{arch}-{task}", time_limit=limit)
        result: RunResult = train_classifier(config)
        if result.test is None:  # a rank other than 0 under torchrun
            continue
        row = BaselineRow(
            task=task,
            arch=arch,
            accuracy=100 * result.test.metrics.accuracy,
            macro_f1=result.test.metrics.macro_f1,
            image_size=config.input_size,
            epochs_run=result.epochs_run,
            best_epoch=result.best_epoch,
            seconds=result.seconds,
            run_dir=result.run_dir,
        )
        rows.append(row)
        write_tables(rows, out, note=settings)
        write_figure(rows, out / "baselines.png")
        if on_row is not None:
            on_row(row)
    return rows
