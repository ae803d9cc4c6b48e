"""``kaokore db reader-role``: a PostgreSQL role that reads the documented views, nothing else.

Why a role and not only a read-only session: ``kaokore sql`` opens every session read-only,
but a colleague with ``psql`` and the owner's password is not bound by kaokore. A role
whose only privileges are SELECT on the documented views (:data:`kaokore.query.VIEWS`) and
the schema revision cannot write, cannot read the harvest's bookkeeping tables, and is
not a superuser, so server-side functions that read files or run programs stay closed.
Its sessions also start read-only with a statement timeout, for clients that do not ask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from kaokore.errors import DatabaseError, UsageError
from kaokore.query.connect import DatabaseLike, using_database
from kaokore.query.views import VIEWS

__all__ = ["ReaderRole", "create_reader_role"]

_ROLE_NAME: Final = re.compile(r"[a-z_][a-z0-9_]{0,62}")
#: The revision table is readable too, so that kaokore can check the schema before a query.
_ALSO_READABLE: Final = ("alembic_version",)


@dataclass(frozen=True, kw_only=True, slots=True)
class ReaderRole:
    """What :func:`create_reader_role` did: the role, whether it was new, what it may read."""

    name: str
    created: bool
    login: bool
    relations: tuple[str, ...]


def create_reader_role(
    database: DatabaseLike,
    name: str,
    *,
    password: str | None = None,
    statement_timeout: float = 60.0,
) -> ReaderRole:
    """Create (or bring up to date) role ``name`` with SELECT on the documented views only.

    Run as the database owner. The role gets CONNECT on the database, USAGE on its schema,
    SELECT on each view of :data:`kaokore.query.VIEWS` and on ``alembic_version``, and
    sessions that start read-only with ``statement_timeout``. With ``password`` it may log
    in (``LOGIN PASSWORD``); without, it is a group role to grant to existing users.
    Running it again re-applies the grants (after an upgrade added a view, say).

    Example::

        >>> create_reader_role("postgresql+psycopg://owner@db/kaokore", "kaokore_reader",
        ...                    password=os.environ["READER_PASSWORD"])
    """
    if not _ROLE_NAME.fullmatch(name):
        raise UsageError(
            f"Role name {name!r}: use lower-case letters, digits and _ (at most 63, not "
            "starting with a digit)"
        )
    if statement_timeout <= 0:
        raise UsageError("The statement timeout must be above 0 seconds")
    with using_database(database) as db:
        if db.dialect != "postgresql":
            raise DatabaseError(
                "Reader roles are a PostgreSQL feature. For a SQLite file, give colleagues "
                "read access to the file: kaokore sql and kaokore sparql open it read-only"
            )
        import psycopg
        from psycopg import sql as pgsql

        role = pgsql.Identifier(name)
        relations = (*(view.name for view in VIEWS), *_ALSO_READABLE)
        with db.engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            if not isinstance(raw, psycopg.Connection):  # pragma: no cover (another driver)
                raise DatabaseError("Reader roles need the psycopg driver")
            with raw.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
                created = cursor.fetchone() is None
                verb = pgsql.SQL("CREATE ROLE" if created else "ALTER ROLE")
                login = (
                    pgsql.SQL("LOGIN PASSWORD {}").format(pgsql.Literal(password))
                    if password is not None
                    else pgsql.SQL("NOLOGIN")
                )
                cursor.execute(
                    pgsql.SQL("{} {} NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT {}").format(
                        verb, role, login
                    )
                )
                cursor.execute(
                    pgsql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(role)
                )
                cursor.execute(
                    pgsql.SQL("ALTER ROLE {} SET statement_timeout = {}").format(
                        role, pgsql.Literal(f"{max(1, round(statement_timeout * 1000))}ms")
                    )
                )
                cursor.execute("SELECT current_database(), current_schema()")
                row = cursor.fetchone()
                assert row is not None
                database_name, schema = row
                cursor.execute(
                    pgsql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                        pgsql.Identifier(database_name), role
                    )
                )
                cursor.execute(
                    pgsql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
                        pgsql.Identifier(schema), role
                    )
                )
                for relation in relations:
                    cursor.execute(
                        pgsql.SQL("GRANT SELECT ON {} TO {}").format(
                            pgsql.Identifier(schema, relation), role
                        )
                    )
            raw.commit()
    return ReaderRole(
        name=name, created=created, login=password is not None, relations=tuple(relations)
    )
