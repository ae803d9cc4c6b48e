"""Opening the research database for the web process: read-only, always.

Why a function of its own: the app opens its database in one place, and that place uses
:func:`kaokore.db.open_readonly` (SQLite ``mode=ro`` with ``PRAGMA query_only=ON``;
PostgreSQL sessions with ``default_transaction_read_only=on``), so no request, however
crafted, can change anything. The schema must be at head; nothing is ever migrated or
created.
"""

from __future__ import annotations

from kaokore.config import Settings
from kaokore.db import Database, open_readonly

__all__ = ["open_read_only"]

#: Seconds any one statement of a page may run before the database stops it.
STATEMENT_TIMEOUT = 60.0


def open_read_only(settings: Settings) -> Database:
    """The database of ``settings``, checked at head and opened so that it cannot be written."""
    return open_readonly(settings, statement_timeout=STATEMENT_TIMEOUT)
