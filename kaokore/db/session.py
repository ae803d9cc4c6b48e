"""Opening the research database: engines, the at-head check and sessions.

Why a check before anything else: a command that writes to a database from an older or a
foreign schema could corrupt it. So every command opens through :func:`open_database`, which
looks (read-only) before it touches, refuses with a one-line reason, and changes nothing.
A database that does not exist yet, or is empty, is created at head: that is not a change to
anything a user has.

Why a read-only opening that does not depend on the caller (``read_only=True``,
:func:`open_readonly`): ``kaokore sql``, ``kaokore sparql`` and the web app run queries that
somebody else wrote, so "read-only" has to be a property of the connection, not of the text.
A SQLite file is opened with ``mode=ro`` and ``PRAGMA query_only``, an authorizer allows
reads only (ATTACH, writes and PRAGMA assignments are denied by SQLite itself), and the
connection is never switched to WAL; a PostgreSQL session starts with
``default_transaction_read_only=on``, so no transaction it ever begins can write.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.exc import DatabaseError as SQLAlchemyDatabaseError
from sqlalchemy.orm import Session, sessionmaker

from kaokore.config import Settings
from kaokore.db import migrate
from kaokore.errors import (
    DatabaseBehindHead,
    DatabaseError,
    NotAKaokoreDatabase,
    ReadOnlyDatabase,
)

__all__ = [
    "READ_PRAGMAS",
    "Database",
    "QueryDeadline",
    "make_engine",
    "make_readonly_engine",
    "open_database",
    "open_readonly",
    "sqlite_path",
]

#: PRAGMAs a read-only SQLite connection may run (without an assignment): they only report.
READ_PRAGMAS: Final[frozenset[str]] = frozenset(
    {
        "table_info",
        "table_xinfo",
        "table_list",
        "index_list",
        "index_info",
        "index_xinfo",
        "foreign_key_list",
        "collation_list",
        "function_list",
        "pragma_list",
        "database_list",
        "compile_options",
        "user_version",
        "schema_version",
        "page_count",
        "page_size",
        "encoding",
        "data_version",
        "query_only",
        "read_uncommitted",
    }
)
#: Read PRAGMAs that also accept an assignment: allowed only without an argument.
_SETTABLE_PRAGMAS: Final[frozenset[str]] = frozenset(
    {"user_version", "schema_version", "query_only", "read_uncommitted"}
)
_SQLITE_ALLOWED_ACTIONS: Final[frozenset[int]] = frozenset(
    {
        sqlite3.SQLITE_SELECT,
        sqlite3.SQLITE_READ,
        sqlite3.SQLITE_FUNCTION,
        sqlite3.SQLITE_TRANSACTION,
        getattr(sqlite3, "SQLITE_RECURSIVE", 33),
    }
)
#: How often (in SQLite virtual-machine steps) the progress handler looks at the clock.
_PROGRESS_STEPS: Final = 10_000


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """WAL for concurrent readers during an ingest, foreign keys on, and patience on locks.

    A 32 MiB page cache (the default is 2 MiB) keeps the indexes that a bulk write of a
    curation's thousands of annotations touches in memory; temporary B-trees stay there too.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA cache_size=-32768")
    cursor.execute("PRAGMA temp_store=MEMORY")
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


class QueryDeadline:
    """The deadline of the statement running on one read-only SQLite connection.

    SQLite has no statement timeout; its progress handler, called every few thousand
    virtual-machine steps, interrupts the statement when this returns non-zero.
    """

    def __init__(self) -> None:
        self.at: float | None = None

    def start(self, seconds: float | None) -> None:
        self.at = None if seconds is None else time.monotonic() + seconds

    def __call__(self) -> int:
        return 1 if self.at is not None and time.monotonic() > self.at else 0


class ReadOnlySQLiteConnection(sqlite3.Connection):
    """A sqlite3 connection that carries its :class:`QueryDeadline`."""

    deadline: QueryDeadline


def _read_authorizer(
    action: int, arg1: str | None, arg2: str | None, _db: str | None, _src: str | None
) -> int:
    """Allow reads only: SQLite itself denies writes, ATTACH and PRAGMA assignments."""
    if action in _SQLITE_ALLOWED_ACTIONS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master":
        # SQLite reports its own schema lookups for table-valued PRAGMA functions
        # (pragma_table_info) this way; a real write is impossible on a mode=ro connection.
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA:
        name = (arg1 or "").lower()
        # arg2 is the argument: a table name for table_info, a new value for user_version.
        if name in READ_PRAGMAS and (arg2 is None or name not in _SETTABLE_PRAGMAS):
            return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _sqlite_readonly_connector(path: Path) -> Callable[[], ReadOnlySQLiteConnection]:
    uri = f"{path.resolve().as_uri()}?mode=ro"

    def connect() -> ReadOnlySQLiteConnection:
        connection = sqlite3.connect(
            uri,
            uri=True,
            timeout=30,
            check_same_thread=False,
            factory=ReadOnlySQLiteConnection,
        )
        assert isinstance(connection, ReadOnlySQLiteConnection)
        connection.execute("PRAGMA query_only=ON")
        connection.set_authorizer(_read_authorizer)
        connection.deadline = QueryDeadline()
        connection.set_progress_handler(connection.deadline, _PROGRESS_STEPS)
        return connection

    return connect


def make_readonly_engine(url: str, *, statement_timeout: float | None = None) -> Engine:
    """An engine whose connections cannot write, whatever SQL they are given.

    SQLite: ``mode=ro``, ``query_only``, a read-only authorizer, no WAL switch.
    PostgreSQL: every session starts with ``default_transaction_read_only=on``.
    ``statement_timeout`` (seconds) bounds every statement the engine runs (PostgreSQL's
    ``statement_timeout``; a progress handler on SQLite).
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"Invalid database URL {url!r}: {exc}") from exc
    path = sqlite_path(url)
    if parsed.get_backend_name() == "sqlite":
        if path is None:
            raise DatabaseError("A read-only database must be a SQLite file or a server database")
        engine = create_engine(url, creator=_sqlite_readonly_connector(path))
        if statement_timeout is not None:

            @event.listens_for(engine, "before_cursor_execute")
            def _start_deadline(conn: Any, *_args: Any) -> None:
                raw = conn.connection.dbapi_connection
                if isinstance(raw, ReadOnlySQLiteConnection):
                    raw.deadline.start(statement_timeout)

        return engine
    options = "-c default_transaction_read_only=on"
    if statement_timeout is not None:
        options += f" -c statement_timeout={max(1, round(statement_timeout * 1000))}"
    try:
        return create_engine(url, pool_pre_ping=True, connect_args={"options": options})
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise DatabaseError(f"No driver for database URL {parsed!r}: {exc}") from exc


def _write_problem(path: Path) -> str | None:
    """Why SQLite could not write ``path`` (an existing file), or None if it can."""
    if not os.access(path, os.W_OK):
        return "the file is read-only"
    if not os.access(path.parent, os.W_OK):
        return "its folder is read-only (SQLite writes its -wal and -shm files beside it)"
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists() and not os.access(side, os.W_OK):
            return f"{side.name} is read-only"
    return None


def _inspect_sqlite_file(path: Path) -> tuple[set[str], str | None]:
    """Read table names and the Alembic revision of a SQLite file without writing to it."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise DatabaseError(f"{path} cannot be opened: {exc} (check its permissions)") from exc
    try:
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        revision = None
        if "alembic_version" in tables:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
        return tables, revision
    except sqlite3.OperationalError as exc:
        # "unable to open database file", "attempt to write a readonly database": the
        # file is there but its -wal/-shm files cannot be read or made.
        raise DatabaseError(
            f"{path} cannot be read: {exc} (check the permissions of the file, its -wal and "
            "-shm files and its folder)"
        ) from exc
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
    #: Opened with ``read_only=True``: no connection of ``engine`` can write.
    read_only: bool = field(default=False, kw_only=True)

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
    settings: Settings | None = None,
    *,
    upgrade: bool = False,
    create: bool = True,
    read_only: bool = False,
    statement_timeout: float | None = None,
) -> Database:
    """Open the database of ``settings``, refusing one that is foreign or behind head.

    ``upgrade=True`` (``kaokore db upgrade``) migrates an older kaokore database to head.
    ``create=True`` initialises a missing or empty database at head. Nothing else is written
    before the checks pass. ``read_only=True`` opens it so that nothing can be written
    through it at all (see the module docstring; ``statement_timeout`` in seconds bounds
    each statement); it must exist and be at head. A SQLite file that cannot be written is
    refused by a writable opening with the reason, before anything is tried.
    """
    settings = settings or Settings.from_env()
    url = settings.database_url
    label = _describe(url)
    file_path = sqlite_path(url)
    if read_only and upgrade:
        raise ValueError("a read-only database cannot be upgraded")
    if file_path is not None:
        if file_path.is_dir():
            raise NotAKaokoreDatabase(f"{file_path} is a folder, not a kaokore database")
        if file_path.exists():
            tables, revision = _inspect_sqlite_file(file_path)
            problem = None if read_only else _write_problem(file_path)
            if problem is not None:
                raise ReadOnlyDatabase(
                    f"{file_path} cannot be written: {problem}. This command writes to the "
                    "database; read-only commands (kaokore query, sql, sparql, export rdf, "
                    "db status) still work"
                )
        elif read_only:
            raise DatabaseError(
                f"No database at {file_path}. Create one with `kaokore ingest` or "
                "`kaokore db upgrade` first."
            )
        else:
            tables, revision = set(), None
            if create:
                file_path.parent.mkdir(parents=True, exist_ok=True)
        engine = (
            make_readonly_engine(url, statement_timeout=statement_timeout)
            if read_only
            else make_engine(url)
        )
    else:
        engine = (
            make_readonly_engine(url, statement_timeout=statement_timeout)
            if read_only
            else make_engine(url)
        )
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
        if revision is None and (read_only or (not create and not upgrade)):
            engine.dispose()
            raise DatabaseError(f"{label} has no kaokore schema. Run `kaokore db upgrade` first.")
        if revision is not None and not upgrade:
            engine.dispose()
            raise DatabaseBehindHead(
                f"{label} is at schema revision {revision}, behind {head}. "
                "Run `kaokore db upgrade` first."
            )
        try:
            migrate.upgrade(engine)
        except Exception:
            engine.dispose()
            raise
    return Database(engine=engine, settings=settings, read_only=read_only)


def open_readonly(
    database: Settings | str | Path | None = None, *, statement_timeout: float | None = None
) -> Database:
    """Open a kaokore database so that nothing can be written through it, whatever it runs.

    The entry point for code that runs queries it did not write (``kaokore sql``, the web
    app). ``database`` is :class:`Settings`, a SQLAlchemy URL or the path of a SQLite file
    (default: the settings of the environment). ``statement_timeout`` (seconds) bounds every
    statement. Raises :class:`DatabaseError` when the database is missing, foreign or not at
    head (a read-only opening never migrates).

    Example::

        >>> from kaokore.db import open_readonly
        >>> with open_readonly("kaokore-data/kaokore.db", statement_timeout=10) as db:
        ...     faces = kaokore.query.faces(db, limit=10)
    """
    if database is None or isinstance(database, Settings):
        settings = database
    else:
        text = str(database)
        url = text if "://" in text else f"sqlite:///{Path(text).resolve()}"
        settings = Settings(db_url=url)
    return open_database(
        settings, create=False, read_only=True, statement_timeout=statement_timeout
    )
