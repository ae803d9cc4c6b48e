"""``kaokore query``: faces, statistics and history, as tables, CSV, JSON or contact sheets.

Thin shells over :mod:`kaokore.query`: the filter options are the fields of
:class:`~kaokore.query.FaceFilter` (``--status warrior`` is
``faces(db, where=FaceFilter(status="warrior"))``), added by
:func:`~kaokore.commands.common.face_filter_options` here as in every filtering command.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from kaokore.commands.common import console, face_filter_options, open_db
from kaokore.errors import UsageError
from kaokore.face_filter import FaceFilter

__all__ = [
    "LimitOption",
    "OutOption",
    "TableFormatOption",
    "app",
    "emit",
    "note",
    "print_table",
]

app = typer.Typer(
    help="Find faces, count them by any column, and read a face's history.",
    no_args_is_help=True,
)

LimitOption = Annotated[
    int | None,
    typer.Option("--limit", min=0, help="At most this many faces (0: all).", show_default=False),
]
#: ``--format`` of the commands that print rows: a table, or CSV/JSON for other programs.
TableFormatOption = Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out", "-o", help="Write to this file instead of standard output.", show_default=False
    ),
]


def print_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    title: str | None = None,
    caption: str | None = None,
) -> None:
    """Print rows as a rich table (None shown as an empty cell)."""
    table = Table(*columns, title=title, caption=caption)
    for row in rows:
        table.add_row(*("" if value is None else str(value) for value in row))
    console.print(table)


def note(message: str) -> None:
    """A one-line status message on standard error (never wrapped, unlike rich output)."""
    typer.echo(message, err=True)


def emit(text: str, out: Path | None) -> None:
    """Write CSV/JSON text to ``out`` or standard output."""
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        note(f"Wrote {out}")


def check_format(value: str, allowed: Sequence[str]) -> str:
    """The format in lower case, or a UsageError naming the allowed ones."""
    lowered = value.lower()
    if lowered not in allowed:
        raise UsageError(f"--format {value!r}: use {', '.join(allowed)}")
    return lowered


_FACE_TABLE = ("face_id", "work", "holder", "gender", "status", "orientation", "tags", "period")
#: Rows a table shows before it asks for --limit or another format.
TABLE_ROWS = 100


@app.command("faces")
@face_filter_options
def faces_command(
    ctx: typer.Context,
    where: FaceFilter,
    limit: LimitOption = None,
    format: Annotated[
        str,
        typer.Option("--format", "-f", help="table, csv, json or contact (a PNG of the crops)."),
    ] = "table",
    out: OutOption = None,
) -> None:
    """List the faces that match the filters, with their labels.

    Filters combine with AND; several values of one filter with OR (tags: all must match).
    Japanese values and English names are both accepted (--status warrior = --status 武士).
    `--format contact --out FILE.png` draws the crops from the blob store (placeholders for
    faces whose crop was not fetched).

    Examples:

    ```
    kaokore query faces --status warrior --period 1600-1650
    kaokore query faces --holder "Kyoto University" --gender female --format csv --out f.csv
    kaokore query faces --work 酒呑童子 --tag 鬼 --format contact --out oni.png
    ```
    """
    from kaokore.query import count_faces, faces
    from kaokore.query.rows import FACE_COLUMNS

    fmt = check_format(format, ("table", "csv", "json", "contact"))
    if fmt == "contact" and out is None:
        raise UsageError("--format contact writes a PNG: give --out FILE.png")
    database = open_db(ctx, read_only=True)
    shown_limit = limit or None
    if fmt == "table" and shown_limit is None:
        shown_limit = TABLE_ROWS
    rows = faces(database, where=where, limit=shown_limit)
    if fmt == "csv" or fmt == "json":
        from kaokore.query.output import to_csv, to_json

        records = [row.as_dict() for row in rows]
        if fmt == "csv":
            columns = list(records[0]) if records else list(FACE_COLUMNS)
            emit(to_csv(columns, [list(r.values()) for r in records]), out)
        else:
            emit(to_json(records), out)
        return
    if fmt == "contact":
        from kaokore.query import contact_sheet

        assert out is not None
        contact_sheet(rows, out, blob_dir=database.settings.blob_dir)
        missing = sum(1 for row in rows if row.blob_path is None)
        note(f"Wrote {out}: {len(rows)} faces ({missing} without a stored crop)")
        return
    total = count_faces(database, where=where)
    caption = f"{len(rows)} of {total} faces"
    if len(rows) < total:
        caption += " (use --limit, or --format csv for all)"
    print_table(
        _FACE_TABLE,
        [
            [row.as_dict()[c] if c != "period" else _period_text(row) for c in _FACE_TABLE]
            for row in rows
        ],
        caption=caption,
    )


def _period_text(row: Any) -> str:
    """The year range where the values give one, else the raw values (不明)."""
    return str(row.period.label or " | ".join(row.period.raw))


@app.command("stats")
@face_filter_options
def stats_command(
    ctx: typer.Context,
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help="Columns, comma-separated: work, holder, record_id, gender, status, orientation, "
            "tag, theme, period, century, agent, release (or 原典, 身分 ...).",
        ),
    ],
    where: FaceFilter,
    format: TableFormatOption = "table",
    out: OutOption = None,
) -> None:
    """Count the matching faces by one or more columns, with each count's share of them.

    A face with several values of a column (tags) counts under each; a face without a value
    counts under an empty cell.

    Examples:

    ```
    kaokore query stats --by status
    kaokore query stats --by work,status,gender --format csv --out crosstab.csv
    kaokore query stats --by century,status --holder "Keio University"
    ```
    """
    from kaokore.query import stats
    from kaokore.query.output import to_csv, to_json

    fmt = check_format(format, ("table", "csv", "json"))
    database = open_db(ctx, read_only=True)
    result = stats(database, by=by, where=where)
    records = result.as_dicts()
    columns = list(records[0]) if records else [*result.columns, "count", "share"]
    if fmt == "csv":
        emit(to_csv(columns, [list(r.values()) for r in records]), out)
    elif fmt == "json":
        emit(to_json(records), out)
    else:
        rows = [
            [f"{v:.1%}" if k == "share" else v for k, v in record.items()] for record in records
        ]
        print_table(columns, rows, caption=f"{result.total} faces")


@app.command("history")
def history_command(
    ctx: typer.Context,
    face: Annotated[
        str,
        typer.Argument(
            help="A face id, a face key, a curation member id or a file name (00000572.jpg)."
        ),
    ],
    format: TableFormatOption = "table",
    out: OutOption = None,
) -> None:
    """Show every annotation a face ever had, who asserted it, when, and its state now.

    States: current; retracted (withdrawn by its document, or changed by a newer version
    of its dataset); restated (repeated by the newer version); outranked (another
    source's newer or human assertion won). See docs/labels.md.

    Examples:

    ```
    kaokore query history 572
    kaokore query history "https://example.org/canvas/3#xywh=10,20,100,100" --format json
    ```
    """
    from kaokore.query import history
    from kaokore.query.output import to_csv, to_json

    fmt = check_format(format, ("table", "csv", "json"))
    rows = history(open_db(ctx, read_only=True), face)
    records = [row.as_dict() for row in rows]
    columns = list(records[0]) if records else ["annotation_id", "label", "value", "current"]
    if fmt == "csv":
        emit(to_csv(columns, [list(r.values()) for r in records]), out)
    elif fmt == "json":
        emit(to_json(records), out)
    else:
        shown = (
            "label",
            "value",
            "agent",
            "document_url",
            "asserted_at",
            "state",
            "ended_at",
            "provenance",
        )
        print_table(
            shown,
            [[r[c] for c in shown] for r in records],
            caption=f"{sum(1 for r in rows if r.current)} current of {len(rows)} annotations",
        )


@app.command("diff")
def diff_command(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="The old side: 1.2, official:1.2, built:1.0 or a date.")],
    b: Annotated[str, typer.Argument(help="The new side, likewise.")],
    label: Annotated[
        list[str] | None,
        typer.Option("--label", help="Only relabels of this key (向き, orientation ...)."),
    ] = None,
    summary: Annotated[
        bool, typer.Option("--summary", help="Only the counts, not the changes.")
    ] = False,
    limit: Annotated[
        int, typer.Option("--limit", help="Rows shown in a table (0: all; CSV/JSON: all).")
    ] = 50,
    format: TableFormatOption = "table",
    out: OutOption = None,
) -> None:
    """What changed from A to B: faces added, removed, and relabelled (label, old, new, who, when).

    A side is an imported official version (`1.3`, `official:1.3`: what that version's
    files say), a built release (`built:1.0`: the classes it wrote) or a date (`2024-05-01`
    or an ISO time in UTC: the current labels as they stood then, by the one rule).

    Examples:

    ```
    kaokore query diff 1.2 1.3 --label orientation
    kaokore query diff 1.2 1.3 --summary --format json
    kaokore query diff 2024-05-01 2024-06-01 --format csv --out changes.csv
    ```
    """
    from kaokore.query import diff
    from kaokore.query.names import label_key
    from kaokore.query.output import to_csv

    fmt = check_format(format, ("table", "csv", "json"))
    if limit < 0:
        raise UsageError(f"--limit {limit}: use a positive number, or 0 for all")
    derived = {"work": "原典", "holder": "所蔵"}
    keys = [derived.get(key, key) for key in (label_key(name) for name in label or [])]
    result = diff(open_db(ctx), a, b, labels=keys or None)
    counts = result.summary()
    records = result.as_dicts()
    columns = ["change", "face_id", "face_key", "label", "old", "new", "who", "when"]
    if fmt == "json":
        document = counts if summary else {"summary": counts, "changes": records}
        emit(json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n", out)
        return
    if fmt == "csv":
        if summary:
            flat = {k: v for k, v in counts.items() if k != "relabelled_labels"}
            flat.update({f"relabelled:{k}": v for k, v in counts["relabelled_labels"].items()})
            emit(to_csv(list(flat), [list(flat.values())]), out)
        else:
            emit(to_csv(columns, [[r[c] for c in columns] for r in records]), out)
        return
    per_label = ", ".join(f"{k} {v}" for k, v in counts["relabelled_labels"].items()) or "none"
    caption = (
        f"{counts['a']} ({counts['faces_a']} faces) -> {counts['b']} ({counts['faces_b']}): "
        f"{counts['added']} added, {counts['removed']} removed, "
        f"{counts['relabelled_faces']} faces relabelled ({per_label})"
    )
    if summary or not records:
        console.print(caption)
        return
    shown = records if limit == 0 else records[:limit]
    print_table(
        ["change", "face_id", "label", "old", "new", "who", "when"],
        [
            [r["change"], r["face_id"], r["label"], r["old"], r["new"], r["who"], r["when"]]
            for r in shown
        ],
        caption=caption + ("" if len(shown) == len(records) else f"; first {len(shown)} rows"),
    )
