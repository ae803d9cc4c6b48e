"""``kaokore db``: create, migrate and inspect the research database."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import func, select

from kaokore.commands.common import console, open_db
from kaokore.db import Annotation, Database, Document, Face, Release, Source, Work, migrate
from kaokore.db.defects import count_defects, list_defects

app = typer.Typer(help="Create, migrate and inspect the research database.", no_args_is_help=True)


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Create the database, or migrate it to the schema this kaokore expects.

    Examples:

    ```
    kaokore db upgrade
    kaokore --db postgresql+psycopg://kaokore@localhost/kaokore db upgrade
    ```
    """
    database = open_db(ctx, upgrade=True)
    with database.engine.connect() as connection:
        revision = migrate.current_revision(connection)
    console.print(f"{database.url} is at schema revision {revision} (head).")


@app.command()
def status(
    ctx: typer.Context,
    defects: Annotated[
        bool,
        typer.Option(
            "--defects",
            help="List the upstream defects the harvest handled: document, JSON pointer "
            "(or file line), kind, whether the face was kept or left out, and why.",
        ),
    ] = False,
    code: Annotated[
        str | None, typer.Option("--code", help="With --defects: only defects of this kind.")
    ] = None,
) -> None:
    """Show where the database is, its schema revision and how much it holds.

    Examples:

    ```
    kaokore db status
    kaokore db status --defects                      # every handled upstream defect
    kaokore db status --defects --code empty_label
    ```
    """
    database = open_db(ctx)
    if defects or code is not None:
        _print_defects(database, code)
        return
    table = Table("what", "count", title=f"{database.url}")
    with database.session() as session:
        for label, model in (
            ("sources", Source),
            ("documents", Document),
            ("works", Work),
            ("faces", Face),
            ("annotations", Annotation),
            ("releases", Release),
        ):
            count = session.scalar(select(func.count()).select_from(model)) or 0
            table.add_row(label, str(count))
        handled = count_defects(session)
        kept = sum(n for (_code, outcome), n in handled.items() if outcome == "kept")
        table.add_row(
            "defects",
            f"{sum(handled.values())} ({kept} kept, {sum(handled.values()) - kept} left out)",
        )
    with database.engine.connect() as connection:
        table.caption = f"schema revision {migrate.current_revision(connection)}"
    console.print(table)


def _print_defects(database: Database, code: str | None) -> None:
    """Every recorded defect, then the counts by kind and outcome."""
    with database.session() as session:
        rows = list_defects(session, code=code)
        counts = count_defects(session)
    # One line per defect (not a table): the list is complete, long and meant to be grepped.
    for row in rows:
        console.print(
            f"{row.document_url} {row.pointer}: {row.code}, face {row.outcome.replace('_', ' ')}: "
            f"{row.reason}",
            highlight=False,
            soft_wrap=True,
            markup=False,
        )
    summary = ", ".join(
        f"{kind} ({outcome.replace('_', ' ')}) {n}"
        for (kind, outcome), n in sorted(counts.items())
        if code is None or kind == code
    )
    console.print(f"{len(rows)} defects" + (f": {summary}" if summary else ""))
