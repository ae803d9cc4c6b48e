"""Accepting a database in the forms notebooks use: an open Database, a URL, or Settings.

Why: ``kaokore.query.faces("sqlite:///kaokore-data/kaokore.db", limit=10)`` should
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
def using_database(database: DatabaseLike, *, read_only: bool = False) -> Iterator[Database]:
    """Yield an open database; close it afterwards only if it was opened here.

    A string is a SQLAlchemy URL (``sqlite:///file.db``) or the path of a SQLite file.
    A database that is missing is not created: there would be nothing to query.
    ``read_only=True`` guarantees a read-only opening (see
    :func:`kaokore.db.open_readonly`): a writable :class:`Database` given by the caller is
    not used, a read-only twin of it is opened for the duration.
    """
    if isinstance(database, Database):
        if database.read_only or not read_only:
            yield database
            return
        settings = Settings(
            home=database.settings.home,
            db_url=database.engine.url.render_as_string(hide_password=False),
        )
    elif isinstance(database, Settings):
        settings = database
    else:
        text = str(database)
        url = text if "://" in text else f"sqlite:///{Path(text).resolve()}"
        settings = Settings(db_url=url)
    opened = open_database(settings, create=False, read_only=read_only)
    try:
        yield opened
    finally:
        opened.close()
