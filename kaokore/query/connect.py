"""Accepting a database in the forms notebooks use: an open Database, a URL, or Settings.

Why: ``kaokore.query.faces("sqlite:///kaokore-data/kaokore.db", status="warrior")`` should
work in a notebook without boilerplate, and a database the caller opened must not be
closed behind its back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kaokore.config import Settings
from kaokore.db.session import Database, open_database

__all__ = ["DatabaseLike", "using_database"]

#: A database as the research API accepts it.
DatabaseLike = Database | Settings | str | Path


@contextmanager
def using_database(database: DatabaseLike) -> Iterator[Database]:
    """Yield an open database; close it afterwards only if it was opened here.

    A string is a SQLAlchemy URL (``sqlite:///file.db``) or the path of a SQLite file.
    A database that is missing is not created: there would be nothing to query.
    """
    if isinstance(database, Database):
        yield database
        return
    if isinstance(database, Settings):
        settings = database
    else:
        text = str(database)
        url = text if "://" in text else f"sqlite:///{Path(text).resolve()}"
        settings = Settings(db_url=url)
    opened = open_database(settings, create=False)
    try:
        yield opened
    finally:
        opened.close()
