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

__all__ = ["alembic_config", "current_revision", "head_revision", "known_revisions", "upgrade"]


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
    """Migrate the database of ``engine`` to ``revision`` (default: head)."""
    command.upgrade(alembic_config(engine), revision)
