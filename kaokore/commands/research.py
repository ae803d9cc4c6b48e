"""``kaokore sql``, ``kaokore sparql`` and ``kaokore similar``: shells over :mod:`kaokore.query`.

The export formats of query results (``kaokore export rdf|curation``) live with the other
export commands in :mod:`kaokore.commands.export`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kaokore.commands.common import MaxRowsOption, TimeoutOption, face_filter_options, open_db
from kaokore.commands.query import (
    LimitOption,
    OutOption,
    TableFormatOption,
    check_format,
    emit,
    note,
    print_table,
)
from kaokore.errors import UsageError
from kaokore.face_filter import FaceFilter

__all__ = ["similar", "sparql", "sql"]


def _print_result(
    columns: tuple[str, ...],
    rows: tuple[tuple[object, ...], ...],
    fmt: str,
    out: Path | None,
    *,
    truncated: bool = False,
) -> None:
    from kaokore.query.output import to_csv, to_json

    if fmt == "csv":
        emit(to_csv(columns, rows), out)
    elif fmt == "json":
        emit(to_json([dict(zip(columns, row, strict=True)) for row in rows]), out)
    else:
        caption = f"{len(rows)} rows" + (" (cut at --max-rows)" if truncated else "")
        print_table(columns, rows, caption=caption)
    if truncated:
        note(
            f"Output cut after {len(rows)} rows (--max-rows); "
            "raise --max-rows or narrow the query for more"
        )


def _read_query(query: str) -> str:
    """A query given inline, or ``@file.sql`` / ``@file.rq`` to read it from a file."""
    if query.startswith("@"):
        path = Path(query[1:])
        if not path.is_file():
            raise UsageError(f"No query file {path}")
        return path.read_text(encoding="utf-8")
    return query


def sql(
    ctx: typer.Context,
    query: Annotated[
        str | None,
        typer.Argument(
            help="One SELECT statement, or @FILE to read it from a file.", show_default=False
        ),
    ] = None,
    format: TableFormatOption = "table",
    limit: LimitOption = None,
    out: OutOption = None,
    views: Annotated[
        bool, typer.Option("--views", help="List the documented views and their columns.")
    ] = False,
    timeout: TimeoutOption = 60.0,
    max_rows: MaxRowsOption = 10_000,
) -> None:
    """Run a read-only SQL query over the documented views.

    Views: faces_current (a face with its current labels as columns), labels_current,
    annotation_history, face_tags, face_periods, work_summary, pages (`--views` lists their
    columns). The database is opened read-only (a SQLite file with mode=ro; a PostgreSQL
    session read-only from its start, one statement per call), so INSERT, UPDATE, DELETE,
    DROP, ATTACH, PRAGMA assignments and stacked statements are refused and change nothing.
    The database stops a query after --timeout seconds; rows are streamed and cut after
    --max-rows (said on standard error). See docs/security.md.

    Examples:

    ```
    kaokore sql "SELECT status, count(*) AS faces FROM faces_current GROUP BY status"
    kaokore sql "SELECT work, period_from FROM faces_current WHERE period_from < 1650" -f csv
    kaokore sql --views
    ```
    """
    from kaokore.query import VIEWS
    from kaokore.query import sql as run_sql

    fmt = check_format(format, ("table", "csv", "json"))
    if views:
        rows = tuple(
            (view.name, column, meaning) for view in VIEWS for column, meaning in view.columns
        )
        _print_result(("view", "column", "meaning"), rows, fmt, out)
        return
    if query is None:
        raise UsageError('Give a query, e.g. kaokore sql "SELECT * FROM faces_current LIMIT 5"')
    result = run_sql(
        open_db(ctx, read_only=True),
        _read_query(query),
        limit=limit or None,
        timeout=timeout,
        max_rows=max_rows or None,
    )
    _print_result(result.columns, result.rows, fmt, out, truncated=result.truncated)


@face_filter_options
def sparql(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="A SPARQL query, or @FILE to read it from a file.")],
    where: FaceFilter,
    graph: Annotated[
        Path | None,
        typer.Option(
            "--graph", help="Query this exported file (kaokore export rdf) instead of the database."
        ),
    ] = None,
    format: TableFormatOption = "table",
    out: OutOption = None,
    timeout: TimeoutOption = 60.0,
    max_rows: MaxRowsOption = 10_000,
    max_memory: Annotated[
        int,
        typer.Option(
            "--max-memory",
            min=0,
            help="MiB the query may add to memory before it is stopped (0: no bound).",
        ),
    ] = 1024,
) -> None:
    """Run a SPARQL query over the faces as W3C Web Annotations (see `kaokore export rdf`).

    The graph is built from the faces matching the filters (all faces by default), or read
    from --graph. Prefixes oa, as, sc, dctypes, dcterms, rdf, rdfs, xsd and kaokore are
    predefined. Each face is an oa:Annotation; each label a body with kaokore:label (身分),
    kaokore:key (status), rdf:value (武士) and kaokore:agent.

    Only the local graph is queried: SERVICE and FROM are refused, and a --graph JSON-LD
    file must carry its @context inline (nothing is fetched). The query is stopped after
    --timeout seconds or --max-memory MiB; rows are cut after --max-rows (said on standard
    error).

    Examples:

    ```
    kaokore sparql 'SELECT ?status (COUNT(DISTINCT ?f) AS ?n) WHERE { ?f oa:hasBody ?b .
      ?b kaokore:key "status" ; rdf:value ?status } GROUP BY ?status' --holder "Keio University"
    kaokore sparql @queries/by-work.rq --graph faces.ttl -f csv
    ```
    """
    from kaokore.query import sparql as run_sparql

    fmt = check_format(format, ("table", "csv", "json"))
    text_query = _read_query(query)
    database = None if graph is not None else open_db(ctx, read_only=True)
    result = run_sparql(
        database,
        text_query,
        graph=graph,
        timeout=timeout,
        max_rows=max_rows or None,
        max_memory=max_memory * 2**20 if max_memory else None,
        where=where,
    )
    _print_result(result.columns, result.rows, fmt, out, truncated=result.truncated)


@face_filter_options
def similar(
    ctx: typer.Context,
    where: FaceFilter,
    face: Annotated[
        str | None,
        typer.Argument(
            help="The face: an id, a face key, a member id or a file name.", show_default=False
        ),
    ] = None,
    k: Annotated[int, typer.Option("--k", min=1, help="How many neighbours.")] = 10,
    other_works: Annotated[
        bool,
        typer.Option("--other-works", help="Only faces from other works than the query face's."),
    ] = False,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Embedding model: hist-hog (default, no torch), random-resnet18, or the name "
            "stored for a --checkpoint (classifier:RUN).",
            show_default=False,
        ),
    ] = None,
    compute: Annotated[
        bool,
        typer.Option("--compute", help="Compute and store embeddings of the faces with crops."),
    ] = False,
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint", help="A `kaokore train classify` run folder (config.json + best.pt)."
        ),
    ] = None,
    recompute: Annotated[
        bool, typer.Option("--recompute", help="With --compute: redo every face.")
    ] = False,
    format: Annotated[
        str,
        typer.Option("--format", "-f", help="table, csv, json, contact (PNG) or curation (JSON)."),
    ] = "table",
    out: OutOption = None,
) -> None:
    """Find the faces most similar to FACE by embedding, or compute the embeddings.

    Filters restrict the candidates (or, with --compute, the faces computed). Models:
    hist-hog (colour histogram + HOG, NumPy only: palette and line layout), random-ARCH
    (a seeded random torchvision network: low-level texture), or a trained classifier's
    penultimate layer (--checkpoint; the most meaningful). See docs/research.md.

    Examples:

    ```
    kaokore similar --compute
    kaokore similar 572 --k 10 --other-works
    kaokore similar 572 --format contact --out neighbours.png
    kaokore similar --compute --checkpoint runs/resnet18
    kaokore similar 572 --model classifier:resnet18
    ```
    """
    from kaokore.query import compute_embeddings
    from kaokore.query import similar as find_similar
    from kaokore.query.embeddings import model_name

    fmt = check_format(format, ("table", "csv", "json", "contact", "curation"))
    database = open_db(ctx)
    if compute:
        if face is not None:
            raise UsageError("--compute computes embeddings for many faces; it takes no FACE")
        report = compute_embeddings(
            database, model=model, checkpoint=checkpoint, recompute=recompute, where=where
        )
        typer.echo(
            f"{report.model}: {report.computed} computed, {report.unchanged} unchanged, "
            f"{report.without_crop} without a stored crop ({report.dims} dimensions)"
        )
        return
    if face is None:
        raise UsageError("Give a FACE (id, key, member id or file name), or --compute")
    if fmt in ("contact", "curation") and out is None:
        raise UsageError(f"--format {fmt} writes a file: give --out")
    query_row, neighbours = find_similar(
        database,
        face,
        k=k,
        model=model_name(model, checkpoint),
        other_works=other_works,
        where=where,
    )
    if fmt == "contact":
        from kaokore.query import contact_sheet

        assert out is not None
        contact_sheet(
            [query_row, *(n.face for n in neighbours)],
            out,
            blob_dir=database.settings.blob_dir,
            scores=[1.0, *(n.score for n in neighbours)],
        )
        note(f"Wrote {out}: face {query_row.face_id} and {len(neighbours)} neighbours")
        return
    if fmt == "curation":
        from kaokore.query.curation_export import curation_document

        result = curation_document(
            [query_row, *(n.face for n in neighbours)],
            label=f"kaokore: faces similar to face {query_row.face_id}",
        )
        emit(result.to_json(), out)
        if result.skipped:
            note(f"{result.skipped} faces have no canvas and were left out")
        return
    records = [n.as_dict() for n in neighbours]
    if fmt in ("csv", "json"):
        from kaokore.query.output import to_csv, to_json

        columns = list(records[0]) if records else ["rank", "score", "face_id"]
        text_out = (
            to_csv(columns, [list(r.values()) for r in records])
            if fmt == "csv"
            else to_json(records)
        )
        emit(text_out, out)
        return
    shown = ("rank", "score", "face_id", "work", "status", "gender", "orientation")
    print_table(
        shown,
        [[r[c] for c in shown] for r in records],
        title=f"Faces similar to {query_row.face_id} ({query_row.work}, {query_row.status})",
    )
