"""``kaokore db``: create, migrate and inspect the research database."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import func, select

from kaokore.commands.common import console, open_db, settings_of
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
def status(ctx: typer.Context) -> None:
    """Show where the database is, its schema revision and how much it holds.

    Example: `kaokore db status`
    """
    database = open_db(ctx, read_only=True)
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
