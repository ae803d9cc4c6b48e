"""The run's figures: learning curves and the confusion matrix, as PNG files.

matplotlib's non-interactive Agg canvas is used directly (no pyplot, no global figure state),
so plotting works headless, in worker processes and in tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["plot_confusion", "plot_curves"]


def plot_curves(
    history: Sequence[Mapping[str, float]], path: Path, *, best_epoch: int | None = None
) -> Path:
    """Loss and accuracy per epoch, train and dev, with the restored epoch marked."""
    figure = Figure(figsize=(9, 3.6), layout="constrained")
    FigureCanvasAgg(figure)
    epochs = [int(row["epoch"]) for row in history]
    for axis, metric, title in zip(
        figure.subplots(1, 2), ("loss", "accuracy"), ("loss", "accuracy"), strict=True
    ):
        for split, style in (("train", "-o"), ("dev", "-s")):
            key = f"{split}_{metric}"
            axis.plot(epochs, [row[key] for row in history], style, label=split, markersize=3)
        if best_epoch is not None:
            axis.axvline(
                best_epoch, color="grey", linestyle=":", label=f"best (epoch {best_epoch})"
            )
        axis.set_xlabel("epoch")
        axis.set_title(title)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.savefig(path, dpi=110)
    return path


def plot_confusion(
    confusion: Sequence[Sequence[int]], classes: Sequence[str], path: Path, *, title: str
) -> Path:
    """The confusion matrix with counts, rows the true class and columns the prediction."""
    size = 1.2 + 0.9 * len(classes)
    figure = Figure(figsize=(size + 1.2, size), layout="constrained")
    FigureCanvasAgg(figure)
    axis = figure.subplots()
    image = axis.imshow(confusion, cmap="Blues")
    figure.colorbar(image, ax=axis)
    peak = max((max(row) for row in confusion), default=0)
    for i, row in enumerate(confusion):
        for j, count in enumerate(row):
            colour = "white" if peak and count > peak / 2 else "black"
            axis.text(j, i, str(count), ha="center", va="center", color=colour)
    axis.set_xticks(range(len(classes)), classes, rotation=30, ha="right")
    axis.set_yticks(range(len(classes)), classes)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(title)
    figure.savefig(path, dpi=110)
    return path
