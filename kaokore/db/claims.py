"""Claims that keep two ingests on one PostgreSQL database from doing the same work twice.

Why advisory locks: they live in the server, vanish when the session that took them ends
(a killed process releases everything it held), and need no table or cleanup. Unique keys
already guarantee that no row is duplicated; claims only spare the upstream host a second
request for a curation or a crop another ingest is fetching right now. On SQLite (one
writer, usually one process) every claim succeeds.
"""

from __future__ import annotations

import threading

from sqlalchemy import Connection, text

from kaokore.db.session import Database

__all__ = ["Claims"]


class Claims:
    """Session-level advisory locks on one dedicated connection, keyed by strings."""

    def __init__(self, database: Database) -> None:
        self._connection: Connection | None = None
        if database.dialect == "postgresql":
            self._connection = database.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            )
        self._lock = threading.Lock()
        self._held: set[str] = set()

    @property
    def exclusive(self) -> bool:
        """Whether claims exclude other sessions (PostgreSQL) or always succeed (SQLite)."""
        return self._connection is not None

    def claim(self, key: str) -> bool:
        """Take ``key`` unless another session holds it; True when this run may do the work."""
        if self._connection is None:
            return True
        with self._lock:
            if key in self._held:
                return False
            taken = bool(
                self._connection.execute(
                    text("SELECT pg_try_advisory_lock(hashtextextended(:key, 0))"), {"key": key}
                ).scalar()
            )
            if taken:
                self._held.add(key)
            return taken

    def release(self, key: str) -> None:
        if self._connection is None:
            return
        with self._lock:
            if key in self._held:
                self._held.discard(key)
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(hashtextextended(:key, 0))"), {"key": key}
                )

    def close(self) -> None:
        """Release every claim (closing the session would too)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
