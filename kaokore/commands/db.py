"""``kaokore db``: create, migrate and inspect the research database."""

from __future__ import annotations

import typer
from rich.table import Table
from sqlalchemy import func, select

from kaokore.commands.common import console, open_db
from kaokore.db import Annotation, Document, Face, Release, Source, Work, migrate

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
def status(ctx: typer.Context) -> None:
    """Show where the database is, its schema revision and how much it holds.

    Example: `kaokore db status`
    """
    database = open_db(ctx)
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
    with database.engine.connect() as connection:
        table.caption = f"schema revision {migrate.current_revision(connection)}"
    console.print(table)
