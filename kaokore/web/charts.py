"""Bar charts as SVG, drawn on the server: readable without JavaScript, printable, linkable.

Why not a charting library in the browser: the pages must work without a framework, and a
chart of a few dozen bars is a few rectangles. This module only computes geometry (bars,
labels, a legend); the SVG itself is written by an autoescaped template, so labels from
upstream stay text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

__all__ = ["PALETTE", "Bar", "Chart", "bar_chart"]

#: Colour-blind-safe colours (Okabe-Ito), one per series.
PALETTE: Final = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
    "#999999",
)  # fmt: skip


@dataclass(frozen=True)
class Bar:
    """One rectangle of a (stacked) horizontal bar, with its tooltip."""

    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class Chart:
    """Everything the SVG template draws."""

    title: str
    width: int
    height: int
    label_width: int
    rows: tuple[tuple[str, float, int], ...]  # (row label, y of its baseline, total)
    bars: tuple[Bar, ...]
    legend: tuple[tuple[str, str], ...]  # (series name, colour)
    ticks: tuple[tuple[float, int], ...]  # (x, value)
    plot_top: int
    plot_bottom: int


def _nice_step(maximum: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000):
        if maximum / step <= 6:
            return step
    return max(1, maximum // 5)


def bar_chart(
    title: str,
    rows: Sequence[str],
    series: Sequence[str],
    counts: dict[tuple[str, str], int],
    *,
    width: int = 760,
    row_height: int = 22,
    label_width: int = 220,
) -> Chart:
    """Horizontal bars, one per row, stacked by series (one series: plain bars)."""
    legend_height = 24 if len(series) > 1 else 0
    plot_top = 30 + legend_height
    totals = [sum(counts.get((row, s), 0) for s in series) for row in rows]
    maximum = max(totals, default=0) or 1
    plot_width = width - label_width - 60
    scale = plot_width / maximum
    bars: list[Bar] = []
    labels: list[tuple[str, float, int]] = []
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(series)}
    for index, row in enumerate(rows):
        y = plot_top + index * row_height
        x = float(label_width)
        for name in series:
            count = counts.get((row, name), 0)
            if not count:
                continue
            w = count * scale
            tip = f"{row}: {count}" if len(series) == 1 else f"{row}, {name}: {count}"
            bars.append(Bar(x, y + 3, w, row_height - 6, colours[name], tip))
            x += w
        labels.append((row, y + row_height / 2 + 4, totals[index]))
    plot_bottom = plot_top + len(rows) * row_height
    step = _nice_step(maximum)
    ticks = tuple((label_width + value * scale, value) for value in range(0, maximum + 1, step))
    legend = tuple((name, colours[name]) for name in series) if len(series) > 1 else ()
    return Chart(
        title=title,
        width=width,
        height=plot_bottom + 30,
        label_width=label_width,
        rows=tuple(labels),
        bars=tuple(bars),
        legend=legend,
        ticks=ticks,
        plot_top=plot_top,
        plot_bottom=plot_bottom,
    )
