"""Charts: faces by century x status, by holder and by orientation, as SVG, table and CSV.

Each chart is a ``kaokore query stats`` table (the same function, the same numbers; the
command is printed under the chart) over the faces the URL's filters select.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse, Response

from kaokore.periods import period_table
from kaokore.query.faces import stats
from kaokore.query.names import english_value
from kaokore.query.rows import StatsResult, StatsRow
from kaokore.web.charts import Chart, bar_chart
from kaokore.web.context import WebContext, context_of
from kaokore.web.routes.face import NotFound
from kaokore.web.routes.faces import search_of
from kaokore.web.search import PERIOD_NAMES, Search, matching

__all__ = ["CHARTS", "router"]

router = APIRouter(include_in_schema=False)
Context = Annotated[WebContext, Depends(context_of)]


@dataclass(frozen=True)
class ChartSpec:
    """A chart: its title and the ``query stats`` columns it counts by (rows, then series)."""

    title: str
    by: tuple[str, ...]


CHARTS: Final[dict[str, ChartSpec]] = {
    "period-status": ChartSpec(
        "Faces by period (their date range overlaps it) and status", ("period", "status")
    ),
    "century-status": ChartSpec(
        "Faces by century (of the start of their date) and status", ("century", "status")
    ),
    "holder": ChartSpec("Faces by holder", ("holder",)),
    "orientation": ChartSpec("Faces by orientation", ("orientation",)),
}
_KEYS: Final = {"status": "身分", "holder": "所蔵", "orientation": "向き", "gender": "性別"}


_PERIOD_ENGLISH: Final = {p.name: p.english for p in period_table()}


def _name(column: str, value: str | None) -> str:
    if value is None:
        return "undated" if column in ("century", "period") else "(none)"
    if column == "period":
        return f"{value} {_PERIOD_ENGLISH.get(value, '')}".strip()
    key = _KEYS.get(column)
    english = english_value(key, value) if key else None
    return f"{value} {english}" if english and english != value else value


def _row_order(label: str) -> tuple[int, str]:
    """Centuries by number, periods in historical order."""
    for position, name in enumerate(PERIOD_NAMES):
        if label.split(" ")[0] == name:
            return (position, label)
    match = re.match(r"(\d+)", label)
    return (int(match[1]) if match else 10_000, label)


def period_table_of(context: WebContext, search: Search) -> StatsResult:
    """Faces by the main periods (a face counts under every period its date range overlaps,
    as ``--period`` selects) and status, from the facet index and the page's filters."""
    index = context.index.get()
    mask = matching(context.database, context.index, search)
    status = index.columns["status"]
    ranges = {p.name: (p.start, p.end) for p in period_table()}
    total = int(mask.sum())
    rows = []
    for name in PERIOD_NAMES:
        if name not in ranges:
            continue
        within = mask & index.overlapping(*ranges[name])
        for value, count in sorted(status.counts(within).items(), key=lambda item: -item[1]):
            rows.append(
                StatsRow(values=(name, value), count=count, share=count / total if total else 0)
            )
    return StatsResult(
        columns=("period", "status"), rows=tuple(rows), total=total, english={"status": "身分"}
    )


def chart_table(context: WebContext, name: str, search: Search) -> StatsResult:
    spec = CHARTS.get(name)
    if spec is None:
        raise NotFound(f"No chart {name!r}; charts: {', '.join(CHARTS)}")
    if name == "period-status":
        return context.index.result(
            ("chart", name, search.filter_key()), lambda: period_table_of(context, search)
        )
    return context.index.result(
        ("chart", name, search.filter_key()),
        lambda: stats(context.database, by=list(spec.by), where=search.face_filter()),
    )


def chart_of(name: str, table: StatsResult) -> Chart:
    spec = CHARTS[name]
    if len(spec.by) == 1:
        column = spec.by[0]
        rows = [_name(column, row.values[0]) for row in table.rows]
        single = {(_name(column, row.values[0]), "faces"): row.count for row in table.rows}
        return bar_chart(spec.title, rows, ["faces"], single)
    first, second = spec.by
    row_names = sorted({_name(first, r.values[0]) for r in table.rows}, key=_row_order)
    totals: dict[str, int] = {}
    counts: dict[tuple[str, str], int] = {}
    for r in table.rows:
        series = _name(second, r.values[1])
        counts[(_name(first, r.values[0]), series)] = r.count
        totals[series] = totals.get(series, 0) + r.count
    series_names = sorted(totals, key=lambda s: -totals[s])
    return bar_chart(spec.title, row_names, series_names, counts)


def command_of(name: str, search: Search) -> str:
    """The ``kaokore query stats`` command that prints the same table (for the periods: the
    same counts, one period at a time)."""
    by = "status --period PERIOD" if name == "period-status" else ",".join(CHARTS[name].by)
    parts = [f"kaokore query stats --by {by}"]
    for option, value in search.params():
        if option in ("page", "size", "crop"):
            continue
        flag = option.replace("_", "-")
        parts.append(f"--{flag} {_quote(value)}")
    return " ".join(parts)


def _quote(value: str) -> str:
    return value if re.fullmatch(r"[\w.:\-]+", value) else "'" + value.replace("'", "'\\''") + "'"


def csv_of(table: StatsResult) -> str:
    records = table.as_dicts()
    buffer = io.StringIO()
    columns = list(records[0]) if records else [*table.columns, "count", "share"]
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()


@router.get("/charts", response_class=HTMLResponse)
def charts_page(request: Request, context: Context) -> HTMLResponse:
    search = search_of(request, context)
    charts = []
    for name in CHARTS:
        table = chart_table(context, name, search)
        charts.append(
            {
                "name": name,
                "chart": chart_of(name, table),
                "table": table,
                "names": [
                    [_name(c, v) for c, v in zip(CHARTS[name].by, row.values, strict=True)]
                    for row in table.rows
                ],
                "command": command_of(name, search),
                "csv": search.url(f"/charts/{name}.csv"),
                "svg": search.url(f"/charts/{name}.svg"),
            }
        )
    return context.render(request, "charts.html", charts=charts, search=search)


@router.get("/charts/{name}.svg")
def chart_svg(name: str, request: Request, context: Context) -> Response:
    search = search_of(request, context)
    chart = chart_of(name, chart_table(context, name, search))
    body = context.templates.get_template("chart.svg").render(chart=chart, standalone=True)
    return Response(body, media_type="image/svg+xml")


@router.get("/charts/{name}.csv")
def chart_csv(name: str, request: Request, context: Context) -> Response:
    search = search_of(request, context)
    table = chart_table(context, name, search)
    return Response(
        csv_of(table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="kaokore-{name}.csv"'},
    )
