"""``kaokore db``: create, migrate and inspect the research database."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import func, select

from kaokore.commands.common import console, open_db, settings_of
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
def stamp(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="The revision the schema is at (or head).")],
) -> None:
    """Record the schema revision without migrating: for a database whose record is wrong.

    Only when you know the schema is at REVISION (a hand-migrated database, a restored
    copy of the revision table); `kaokore db upgrade` says when that is the likely cause.

    Example: `kaokore db stamp 0002`
    """
    from kaokore.db.session import make_engine

    settings = settings_of(ctx)
    engine = make_engine(settings.database_url)
    try:
        migrate.stamp(engine, revision)
        with engine.connect() as connection:
            recorded = migrate.current_revision(connection)
    finally:
        engine.dispose()
    console.print(f"Recorded schema revision {recorded}.")


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
    database = open_db(ctx, read_only=True)
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


@app.command("reader-role")
def reader_role(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The role to create or update.")] = "kaokore_reader",
    password_env: Annotated[
        str | None,
        typer.Option(
            "--password-env",
            help="Name of an environment variable holding the role's password: the role may "
            "then log in. Without it, a group role to GRANT to existing users.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Create a PostgreSQL role that may read the documented views and nothing else.

    The way to give colleagues access to a shared database: the role has SELECT on the
    views of `kaokore sql --views` only (not on the base tables), sessions that start
    read-only with a 60 s statement timeout, and no other privilege. Run it as the owner;
    run it again after `kaokore db upgrade` to grant new views. See docs/security.md.

    Examples:

    ```
    export KAOKORE_DB=postgresql+psycopg://owner@db/kaokore
    READER_PW=... kaokore db reader-role alice --password-env READER_PW
    kaokore db reader-role kaokore_reader
    ```
    """
    import os

    from kaokore.errors import UsageError
    from kaokore.query.roles import create_reader_role

    password = None
    if password_env is not None:
        password = os.environ.get(password_env)
        if not password:
            raise UsageError(f"--password-env {password_env}: that environment variable is empty")
    role = create_reader_role(open_db(ctx), name, password=password)
    what = "Created" if role.created else "Updated"
    how = "may log in" if role.login else "a group role: GRANT it to users"
    console.print(
        f"{what} role {role.name} ({how}): SELECT on {', '.join(role.relations)}; "
        "sessions read-only, statement timeout 60 s."
    )
