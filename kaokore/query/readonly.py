"""Read-only, bounded SQL over the research database: ``kaokore sql`` and ``kaokore.query.sql``.

Why nothing here parses SQL for safety: a research user pastes SQL from anywhere, and a
web page may forward it, so read-only must hold by construction, not by reading the text
right. The statement runs on a connection opened by :func:`kaokore.db.open_readonly`:

* SQLite: the file opened ``mode=ro`` with ``PRAGMA query_only`` and an authorizer that
  lets SQLite itself deny every write, ATTACH and PRAGMA assignment; Python's sqlite3
  refuses more than one statement per call.
* PostgreSQL: a session that is read-only from its start (``default_transaction_read_only``),
  a transaction begun ``READ ONLY`` and rolled back, and the statement sent through the
  extended query protocol, which carries exactly one statement (a stacked ``COMMIT`` is a
  syntax error, not a second statement).

Bounds: ``timeout`` is enforced by the database (``statement_timeout`` on PostgreSQL, a
progress handler on SQLite), and rows are streamed from the server and cut after
``max_rows`` (``TabularResult.truncated`` says so), so memory does not grow with the result.

The first word is still looked at, but only to give a helpful message (``DELETE is
refused``) and to keep statements that are not queries at all (``COPY``, ``DO``) away from
a server session; the guarantees above do not depend on it.
"""

from __future__ import annotations

import sqlite3
from itertools import islice
from typing import Any, Final

from kaokore.db.session import Database, ReadOnlySQLiteConnection
from kaokore.errors import ArgumentError, DatabaseError, QueryLimitError, UsageError
from kaokore.query.connect import DatabaseLike, using_database
from kaokore.query.rows import TabularResult

__all__ = ["DEFAULT_MAX_ROWS", "DEFAULT_TIMEOUT", "sql"]

#: Seconds a statement may run (``kaokore sql --timeout``).
DEFAULT_TIMEOUT: Final = 60.0
#: Rows returned before the output is cut (``kaokore sql --max-rows``).
DEFAULT_MAX_ROWS: Final = 10_000

_READ_STARTS: Final = {
    "sqlite": ("select", "with", "values", "explain", "pragma"),
    "postgresql": ("select", "with", "values", "explain", "table", "show"),
}


def _first_word(query: str) -> str:
    """The first keyword after leading blanks and comments, lower case ('' if none)."""
    i, n = 0, len(query)
    while i < n:
        if query[i].isspace() or query[i] == "(":
            i += 1
        elif query.startswith("--", i):
            end = query.find("\n", i)
            i = n if end < 0 else end + 1
        elif query.startswith("/*", i):
            end = query.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            break
    start = i
    while i < n and (query[i].isalnum() or query[i] == "_"):
        i += 1
    return query[start:i].lower()


def _check_start(query: str, dialect: str) -> None:
    word = _first_word(query)
    if not word:
        raise UsageError("No SQL statement given")
    if word not in _READ_STARTS.get(dialect, ()):
        raise UsageError(
            f"kaokore sql is read-only: {word.upper()} is refused. Use SELECT (or WITH ... "
            "SELECT) over the documented views, e.g. "
            "SELECT status, count(*) FROM faces_current GROUP BY status"
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _timed_out(timeout: float | None) -> QueryLimitError:
    return QueryLimitError(
        f"The query ran past its time limit of {timeout:g} s and was stopped "
        "(raise it with --timeout)"
    )


def _refused(message: str) -> UsageError:
    return UsageError(f"kaokore sql is read-only; the statement was refused ({message})")


def _stacked() -> UsageError:
    return UsageError(
        "kaokore sql runs one read-only statement at a time (stacked statements are refused)"
    )


def _run_sqlite(
    database: Database, statement: str, cap: int | None, timeout: float | None
) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    with database.engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        if not isinstance(raw, ReadOnlySQLiteConnection):  # pragma: no cover (a bug)
            raise DatabaseError("kaokore sql needs a read-only SQLite connection")
        raw.deadline.start(timeout)
        cursor = raw.cursor()
        try:
            cursor.execute(statement)
            columns = tuple(column[0] for column in cursor.description or ())
            rows = cursor.fetchmany(cap + 1) if cap is not None else cursor.fetchall()
            return columns, [tuple(row) for row in rows]
        except (sqlite3.Warning, sqlite3.ProgrammingError) as exc:
            if "one statement" in str(exc):
                raise _stacked() from exc
            raise UsageError(f"SQL error: {_first_line(exc)}") from exc
        except sqlite3.DatabaseError as exc:
            message = _first_line(exc)
            if "interrupted" in message:
                raise _timed_out(timeout) from exc
            if "not authorized" in message or "readonly" in message or "read-only" in message:
                raise _refused(message) from exc
            raise UsageError(f"SQL error: {message}") from exc
        finally:
            raw.deadline.start(None)
            cursor.close()


def _run_postgresql(
    database: Database, statement: str, cap: int | None, timeout: float | None
) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    import psycopg
    from psycopg import errors as pg_errors

    with database.engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        if not isinstance(raw, psycopg.Connection):  # pragma: no cover (another driver)
            raise DatabaseError("kaokore sql on PostgreSQL needs the psycopg driver")
        try:
            with raw.cursor() as cursor:
                # Ours, before the user's statement: a later SET TRANSACTION READ WRITE
                # fails ("must be called before any query").
                cursor.execute("SET TRANSACTION READ ONLY")
                milliseconds = 0 if timeout is None else max(1, round(timeout * 1000))
                cursor.execute(f"SET LOCAL statement_timeout = {milliseconds:d}")
                # stream(): the extended protocol (one statement), rows as they come; leaving
                # early cancels the rest on the server.
                stream = cursor.stream(statement)
                try:
                    rows = list(islice(stream, cap + 1)) if cap is not None else list(stream)
                    columns = tuple(column.name for column in cursor.description or ())
                finally:
                    stream.close()
                if not columns:
                    columns = _describe_postgresql(raw, statement)
            return columns, [tuple(row) for row in rows]
        except pg_errors.QueryCanceled as exc:
            raise _timed_out(timeout) from exc
        except (pg_errors.ReadOnlySqlTransaction, pg_errors.InsufficientPrivilege) as exc:
            raise _refused(_first_line(exc)) from exc
        except psycopg.Error as exc:
            message = _first_line(exc)
            if "multiple commands" in message:
                raise _stacked() from exc
            raise UsageError(f"SQL error: {message}") from exc
        finally:
            raw.rollback()


def _describe_postgresql(raw: Any, statement: str) -> tuple[str, ...]:
    """The column names of a statement that gave no row (a stream of nothing has none)."""
    from psycopg import pq

    pgconn = raw.pgconn
    encoding = raw.info.encoding
    prepared = pgconn.prepare(b"", statement.encode(encoding))
    if prepared.status != pq.ExecStatus.COMMAND_OK:
        return ()
    described = pgconn.describe_prepared(b"")
    return tuple(
        (described.fname(index) or b"").decode(encoding) for index in range(described.nfields)
    )


def sql(
    database: DatabaseLike,
    query: str,
    *,
    limit: int | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    max_rows: int | None = DEFAULT_MAX_ROWS,
) -> TabularResult:
    """Run one read-only SQL statement and return its columns and rows.

    The database is opened read-only whatever ``database`` is (see the module docstring):
    writes of any kind, stacked statements and ATTACH raise :class:`UsageError` and leave
    it unchanged. ``timeout`` (seconds, None: none) stops a statement that runs longer with
    :class:`~kaokore.errors.QueryLimitError`; at most ``max_rows`` rows are returned
    (None: all), and ``truncated`` says whether more were cut. ``limit`` asks for fewer
    rows without calling the result cut. The documented views are listed in
    :data:`kaokore.query.views.VIEWS`.

    Example::

        >>> from kaokore.query import sql
        >>> sql("kaokore-data/kaokore.db",
        ...     "SELECT status, count(*) AS faces FROM faces_current GROUP BY status").rows
    """
    if timeout is not None and timeout <= 0:
        raise ArgumentError("timeout", f"{timeout:g}", "must be above 0 seconds")
    if max_rows is not None and max_rows <= 0:
        max_rows = None
    caps = [value for value in (limit, max_rows) if value]
    cap = min(caps) if caps else None
    with using_database(database, read_only=True) as db:
        _check_start(query, db.dialect)
        if db.dialect == "sqlite":
            columns, rows = _run_sqlite(db, query, cap, timeout)
        elif db.dialect == "postgresql":
            columns, rows = _run_postgresql(db, query, cap, timeout)
        else:
            raise DatabaseError(f"kaokore sql supports SQLite and PostgreSQL, not {db.dialect}")
    truncated = cap is not None and len(rows) > cap and cap == max_rows
    return TabularResult(
        columns=columns, rows=tuple(rows[:cap] if cap is not None else rows), truncated=truncated
    )
