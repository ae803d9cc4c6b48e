"""Alembic, driven from Python: the migration scripts ship inside the package.

Why not an ``alembic.ini``: users run ``kaokore db upgrade`` from anywhere, so the script
location is the installed ``kaokore.migrations`` package and the URL comes from the settings.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from kaokore.errors import DatabaseError

__all__ = [
    "alembic_config",
    "current_revision",
    "head_revision",
    "known_revisions",
    "stamp",
    "upgrade",
]


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic configuration for the packaged scripts, bound to ``engine`` if given."""
    config = Config()
    config.set_main_option("script_location", "kaokore:migrations")
    if engine is not None:
        config.set_main_option(
            "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
        )
        config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The revision the code expects."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "kaokore ships at least one migration"
    return head


def known_revisions() -> set[str]:
    """Every revision the packaged scripts know."""
    scripts = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in scripts.walk_revisions()}


def current_revision(connection: Connection) -> str | None:
    """The revision a database is at, or None if it has never been migrated."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database of ``engine`` to ``revision`` (default: head).

    A migration the database refuses ends as one :class:`DatabaseError` that says what to
    do: the usual cause is a recorded revision behind the schema (a restored backup of the
    revision table, a hand-made change), where the migration meets what it would create.
    """
    with engine.connect() as connection:
        before = current_revision(connection)
    try:
        command.upgrade(alembic_config(engine), revision)
    except DBAPIError as exc:
        first = str(exc.orig if exc.orig is not None else exc).strip().splitlines()[0]
        head = head_revision()
        label = engine.url.render_as_string(hide_password=True)
        raise DatabaseError(
            f"{label}: migrating from recorded revision {before or 'none'} failed ({first}). "
            "The recorded revision is probably behind the schema. If the schema is already "
            f"at {head}, record that with `kaokore db stamp {head}`; otherwise restore the "
            "database from a backup"
        ) from exc


def stamp(engine: Engine, revision: str) -> None:
    """Record ``revision`` as the database's revision without running any migration."""
    if revision != "head" and revision not in known_revisions():
        raise DatabaseError(
            f"Unknown revision {revision!r}; known: {', '.join(sorted(known_revisions()))}"
        )
    command.stamp(alembic_config(engine), revision)
