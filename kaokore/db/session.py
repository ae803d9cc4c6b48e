"""Opening the research database: engines, the at-head check and sessions.

Why a check before anything else: a command that writes to a database from an older or a
foreign schema could corrupt it. So every command opens through :func:`open_database`, which
looks (read-only) before it touches, refuses with a one-line reason, and changes nothing.
A database that does not exist yet, or is empty, is created at head: that is not a change to
anything a user has.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.exc import DatabaseError as SQLAlchemyDatabaseError
from sqlalchemy.orm import Session, sessionmaker

from kaokore.config import Settings
from kaokore.db import migrate
from kaokore.errors import DatabaseBehindHead, DatabaseError, NotAKaokoreDatabase

__all__ = ["Database", "make_engine", "open_database", "sqlite_path"]


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """WAL for concurrent readers during an ingest, foreign keys on, and patience on locks."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"Invalid database URL {url!r}: {exc}") from exc
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(url, connect_args={"timeout": 30})
            event.listen(engine, "connect", _on_sqlite_connect)
            return engine
        return create_engine(url, pool_pre_ping=True)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        hint = (
            " Install the postgres extra: pip install 'kaokore[postgres]'."
            if (parsed.get_backend_name() == "postgresql")
            else ""
        )
        raise DatabaseError(f"No driver for database URL {parsed!r}: {exc}.{hint}") from exc


def _inspect_sqlite_file(path: Path) -> tuple[set[str], str | None]:
    """Read table names and the Alembic revision of a SQLite file without writing to it."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise NotAKaokoreDatabase(f"{path} cannot be opened as a SQLite database: {exc}") from exc
    try:
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        revision = None
        if "alembic_version" in tables:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
        return tables, revision
    except sqlite3.DatabaseError as exc:
        raise NotAKaokoreDatabase(
            f"{path} is not a kaokore database (not a SQLite file: {exc})"
        ) from exc
    finally:
        conn.close()


def _inspect_server(engine: Engine) -> tuple[set[str], str | None]:
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            revision = migrate.current_revision(conn) if "alembic_version" in tables else None
            return tables, revision
    except (OperationalError, SQLAlchemyDatabaseError) as exc:
        first_line = str(exc.orig if exc.orig is not None else exc).strip().splitlines()[0]
        raise DatabaseError(f"Cannot connect to {engine.url!r}: {first_line}") from exc


def _describe(url: str) -> str:
    return str(make_url(url).render_as_string(hide_password=True))


@dataclass
class Database:
    """An open kaokore database: its engine, a session factory and the settings it came from."""

    engine: Engine
    settings: Settings

    def __post_init__(self) -> None:
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        return _describe(self.engine.url.render_as_string(hide_password=False))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def analyze(self) -> None:
        """Refresh the planner's statistics after a bulk change.

        Without them SQLite picks poor indexes for the research views on a freshly filled
        database (minutes instead of milliseconds); PostgreSQL's autovacuum gets there too,
        later.
        """
        with self.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")

    def new_session(self) -> Session:
        """A plain session whose transactions the caller manages."""
        return self._sessions()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_database(
    settings: Settings | None = None, *, upgrade: bool = False, create: bool = True
) -> Database:
    """Open the database of ``settings``, refusing one that is foreign or behind head.

    ``upgrade=True`` (``kaokore db upgrade``) migrates an older kaokore database to head.
    ``create=True`` initialises a missing or empty database at head. Nothing else is written
    before the checks pass.
    """
    settings = settings or Settings.from_env()
    url = settings.database_url
    label = _describe(url)
    file_path = sqlite_path(url)
    if file_path is not None:
        if file_path.is_dir():
            raise NotAKaokoreDatabase(f"{file_path} is a folder, not a kaokore database")
        if file_path.exists():
            tables, revision = _inspect_sqlite_file(file_path)
        else:
            tables, revision = set(), None
            if create:
                file_path.parent.mkdir(parents=True, exist_ok=True)
        engine = make_engine(url)
    else:
        engine = make_engine(url)
        tables, revision = _inspect_server(engine)

    head = migrate.head_revision()
    if tables and revision is None:
        engine.dispose()
        raise NotAKaokoreDatabase(
            f"{label} is not a kaokore database (it has tables but no kaokore schema version)"
        )
    if revision is not None and revision not in migrate.known_revisions():
        engine.dispose()
        raise NotAKaokoreDatabase(
            f"{label} has schema revision {revision}, unknown to kaokore; "
            "it is not a kaokore database or was made by a newer kaokore"
        )
    if revision != head:
        if revision is None and not create and not upgrade:
            engine.dispose()
            raise DatabaseError(f"{label} has no kaokore schema. Run `kaokore db upgrade` first.")
        if revision is not None and not upgrade:
            engine.dispose()
            raise DatabaseBehindHead(
                f"{label} is at schema revision {revision}, behind {head}. "
                "Run `kaokore db upgrade` first."
            )
        migrate.upgrade(engine)
    return Database(engine=engine, settings=settings)
