"""Opening the research database read-only, for a process that must never write.

Why not the ordinary :func:`kaokore.db.open_database`: that one may create or migrate, and
its SQLite connections switch on WAL (a write). The web process only reads, so a bug or a
crafted request cannot change anything: SQLite is opened ``mode=ro`` with ``PRAGMA
query_only=ON``; PostgreSQL sessions start with ``default_transaction_read_only=on``.
The schema is checked first (read-only too) and must be at head.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url

from kaokore.config import Settings
from kaokore.db.session import Database, open_database, sqlite_path
from kaokore.errors import DatabaseError

__all__ = ["open_read_only"]


def _query_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def open_read_only(settings: Settings) -> Database:
    """The database of ``settings``, checked at head and opened so that it cannot be written.

    A missing SQLite file is an error (there is nothing to show), not a new database.
    """
    url = settings.database_url
    path = sqlite_path(url)
    if path is not None and not Path(path).exists():
        raise DatabaseError(f"No database at {path}: run `kaokore ingest` or `kaokore demo` first")
    checked = open_database(settings, create=False)
    checked.close()
    if path is not None:
        resolved = Path(path).resolve()
        engine = create_engine(
            f"sqlite:///file:{quote(str(resolved))}?mode=ro&uri=true",
            connect_args={"timeout": 30, "check_same_thread": False},
        )
        event.listen(engine, "connect", _query_only)
    else:
        parsed = make_url(url)
        connect_args: dict[str, Any] = {}
        if parsed.get_backend_name() == "postgresql":
            connect_args["options"] = "-c default_transaction_read_only=on"
        engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    return Database(engine=engine, settings=settings)
