"""Read-only SQL over the research database: ``kaokore sql`` and ``kaokore.query.sql``.

Why several locks and not one: a research user pastes SQL from anywhere, and no single
mechanism refuses every write on every database. So, in order:

1. the text is split into statements (quotes, comments and dollar quotes respected); more
   than one is refused, and the one statement must begin with SELECT, WITH, VALUES or
   EXPLAIN (or a PRAGMA that only reads, on SQLite);
2. SQLite: a separate connection opened with ``mode=ro`` (the file cannot be written), with
   ``PRAGMA query_only=ON`` and an authorizer that allows only reads, so even a write
   hidden in a CTE, an ATTACH or a PRAGMA assignment is refused by SQLite itself;
3. PostgreSQL: the statement runs in a transaction begun ``READ ONLY`` and rolled back.

Each refusal is a :class:`kaokore.errors.UsageError` that names what was refused.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any, Final

from sqlalchemy.exc import DBAPIError

from kaokore.db.session import Database, sqlite_path
from kaokore.errors import DatabaseError, UsageError
from kaokore.query.connect import DatabaseLike, using_database
from kaokore.query.rows import TabularResult

__all__ = ["READ_PRAGMAS", "split_statements", "sql"]

#: PRAGMAs that only report; any other PRAGMA (or any assignment) is refused.
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
    }
)
#: Read PRAGMAs that also accept an assignment: allowed only without an argument.
_SETTABLE_PRAGMAS: Final[frozenset[str]] = frozenset(
    {"user_version", "schema_version", "query_only"}
)
_READ_STARTS: Final = ("select", "with", "values", "explain")

_SQLITE_ALLOWED_ACTIONS: Final[frozenset[int]] = frozenset(
    {
        sqlite3.SQLITE_SELECT,
        sqlite3.SQLITE_READ,
        sqlite3.SQLITE_FUNCTION,
        getattr(sqlite3, "SQLITE_RECURSIVE", 33),
    }
)


def split_statements(query: str) -> list[str]:
    """Split SQL text into statements at semicolons outside quotes, comments and $$ bodies.

    Empty statements (a trailing ``;``) are dropped. Comments are kept inside statements.
    """
    statements: list[str] = []
    current: list[str] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch in ("'", '"', "`"):
            end = i + 1
            while end < n:
                if query[end] == ch:
                    if end + 1 < n and query[end + 1] == ch:  # doubled quote
                        end += 2
                        continue
                    break
                end += 1
            current.append(query[i : end + 1])
            i = end + 1
            continue
        if ch == "[":  # SQLite's bracketed identifiers
            end = query.find("]", i + 1)
            end = n - 1 if end < 0 else end
            current.append(query[i : end + 1])
            i = end + 1
            continue
        if query.startswith("--", i):
            end = query.find("\n", i)
            end = n if end < 0 else end
            current.append(query[i:end])
            i = end
            continue
        if query.startswith("/*", i):
            end = query.find("*/", i + 2)
            end = n if end < 0 else end + 2
            current.append(query[i:end])
            i = end
            continue
        if ch == "$":
            match = re.match(r"\$[A-Za-z_]*\$", query[i:])
            if match:
                tag = match.group(0)
                end = query.find(tag, i + len(tag))
                end = n if end < 0 else end + len(tag)
                current.append(query[i:end])
                i = end
                continue
        if ch == ";":
            statements.append("".join(current))
            current = []
            i += 1
            continue
        current.append(ch)
        i += 1
    statements.append("".join(current))
    return [s for s in statements if _strip_comments(s).strip()]


def _strip_comments(statement: str) -> str:
    without_block = re.sub(r"/\*.*?(\*/|$)", " ", statement, flags=re.S)
    return re.sub(r"--[^\n]*", " ", without_block)


def _first_word(statement: str) -> str:
    match = re.match(r"\s*\(*\s*([A-Za-z_]+)", _strip_comments(statement))
    return match.group(1).lower() if match else ""


def _check_text(query: str, dialect: str) -> str:
    """The single statement of ``query``, or a UsageError saying why it is refused."""
    statements = split_statements(query)
    if not statements:
        raise UsageError("No SQL statement given")
    if len(statements) > 1:
        raise UsageError(
            f"kaokore sql runs one read-only statement; {len(statements)} statements were given "
            "(stacked statements are refused)"
        )
    statement = statements[0]
    word = _first_word(statement)
    if word == "pragma" and dialect == "sqlite":
        match = re.match(
            r"\s*pragma\s+(?:\w+\.)?(\w+)\s*(\(\s*[^)]*\))?\s*$", _strip_comments(statement), re.I
        )
        if match is None or match.group(1).lower() not in READ_PRAGMAS:
            raise UsageError(
                "kaokore sql is read-only: this PRAGMA can change the database and is refused "
                f"(allowed: {', '.join(sorted(READ_PRAGMAS))}, without assignment)"
            )
        if match.group(1).lower() in _SETTABLE_PRAGMAS and match.group(2):
            raise UsageError("kaokore sql is read-only: PRAGMA assignments are refused")
        return statement
    if word not in _READ_STARTS:
        shown = word.upper() or "this statement"
        raise UsageError(
            f"kaokore sql is read-only: {shown} is refused. Use SELECT (or WITH ... SELECT) over "
            "the documented views, e.g. SELECT status, count(*) FROM faces_current GROUP BY status"
        )
    return statement


def _authorizer(
    action: int, arg1: str | None, arg2: str | None, _db: str | None, _src: str | None
) -> int:
    if action in _SQLITE_ALLOWED_ACTIONS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master":
        # SQLite reports its own schema lookups for table-valued PRAGMA functions
        # (pragma_table_info) this way; a real write to sqlite_master is impossible on a
        # mode=ro, query_only connection.
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA:
        name = (arg1 or "").lower()
        # arg2 is the argument: a table name for table_info, a new value for user_version.
        if name in READ_PRAGMAS and (arg2 is None or name not in _SETTABLE_PRAGMAS):
            return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _run_sqlite(database: Database, statement: str, limit: int | None) -> TabularResult:
    path = sqlite_path(database.engine.url.render_as_string(hide_password=False))
    if path is None:
        raise DatabaseError("kaokore sql needs a SQLite file or a PostgreSQL database")
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise DatabaseError(f"Cannot open {path} read-only: {exc}") from exc
    try:
        connection.execute("PRAGMA query_only=ON")
        connection.set_authorizer(_authorizer)
        try:
            cursor = connection.execute(statement)
            rows = cursor.fetchmany(limit) if limit else cursor.fetchall()
        except sqlite3.Warning as exc:  # "You can only execute one statement at a time."
            raise UsageError(f"kaokore sql runs one statement: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            message = str(exc)
            if "not authorized" in message or "readonly" in message or "read-only" in message:
                raise UsageError(
                    f"kaokore sql is read-only; the statement was refused ({message})"
                ) from exc
            raise UsageError(f"SQL error: {message}") from exc
        except sqlite3.ProgrammingError as exc:
            raise UsageError(f"SQL error: {exc}") from exc
        columns = tuple(column[0] for column in cursor.description or ())
        return TabularResult(columns=columns, rows=tuple(tuple(row) for row in rows))
    finally:
        connection.close()


def _run_postgresql(database: Database, statement: str, limit: int | None) -> TabularResult:
    with database.engine.connect() as connection:
        transaction = connection.begin()
        try:
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            result = connection.exec_driver_sql(statement)
            columns = tuple(result.keys())
            rows: Any = result.fetchmany(limit) if limit else result.fetchall()
            return TabularResult(columns=columns, rows=tuple(tuple(row) for row in rows))
        except DBAPIError as exc:
            first = str(exc.orig if exc.orig is not None else exc).strip().splitlines()[0]
            if "read-only" in first or "read only" in first:
                raise UsageError(
                    f"kaokore sql is read-only; the statement was refused ({first})"
                ) from exc
            raise UsageError(f"SQL error: {first}") from exc
        finally:
            transaction.rollback()


def sql(database: DatabaseLike, query: str, *, limit: int | None = None) -> TabularResult:
    """Run one read-only SQL statement and return its columns and rows.

    Writes of any kind (INSERT, UPDATE, DELETE, DROP, CREATE, ATTACH, PRAGMA assignments,
    stacked statements) raise :class:`UsageError` and leave the database unchanged. The
    documented views are listed in :data:`kaokore.query.views.VIEWS`.

    Example::

        >>> from kaokore.query import sql
        >>> sql("kaokore-data/kaokore.db",
        ...     "SELECT status, count(*) AS faces FROM faces_current GROUP BY status").rows
    """
    with using_database(database) as db:
        statement = _check_text(query, db.dialect)
        if db.dialect == "sqlite":
            return _run_sqlite(db, statement, limit)
        if db.dialect == "postgresql":
            return _run_postgresql(db, statement, limit)
        raise DatabaseError(f"kaokore sql supports SQLite and PostgreSQL, not {db.dialect}")
