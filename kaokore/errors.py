"""The exceptions kaokore raises, as one tree.

Every error a user can cause or meet derives from :class:`KaokoreError`; the CLI turns
each into a single ``Error: ...`` line and the exit code carried by the class. Programmer
mistakes stay ``ValueError``/``TypeError``.

::

    KaokoreError                      exit 1 unless stated
    ├── UsageError                    exit 2: a bad option, argument or combination
    │   ├── ArgumentError             (argument, value) a library argument's value cannot work
    │   │   └── UnknownValueError     a filter value that no face, work or release has
    │   └── QueryLimitError           a query ran past its time or memory bound
    ├── DatabaseError                 exit 2: the database cannot be used as it is
    │   ├── NotAKaokoreDatabase       the file or schema is not a kaokore database
    │   ├── DatabaseBehindHead        migrations are pending: run `kaokore db upgrade`
    │   └── ReadOnlyDatabase          a writing command met a database it cannot write
    ├── HarvestError                  a document or crop could not be harvested
    │   ├── FetchError                (url, status) the HTTP exchange failed
    │   └── DocumentError             (url, field) a document is malformed or of an unknown shape
    ├── ImportFileError               (path, line) a line of an official file is malformed
    ├── DiskFullError                 exit 2: no space left; nothing stored was lost
    ├── CompileError                  a release cannot be built
    │   └── ReleaseExistsError        the version exists with other content
    ├── ReleaseError                  a release folder is missing, incomplete or corrupt
    └── DatasetNotFoundError          a loader found no release where it was pointed
"""

from __future__ import annotations

import errno

__all__ = [
    "ArgumentError",
    "CompileError",
    "DatabaseBehindHead",
    "DatabaseError",
    "DatasetNotFoundError",
    "DiskFullError",
    "DocumentError",
    "FetchError",
    "HarvestError",
    "ImportFileError",
    "KaokoreError",
    "NotAKaokoreDatabase",
    "QueryLimitError",
    "ReadOnlyDatabase",
    "ReleaseError",
    "ReleaseExistsError",
    "UnknownValueError",
    "UsageError",
    "flag_name",
    "operational_error",
]


class KaokoreError(Exception):
    """Base of every error a user can meet; ``exit_code`` is what the CLI exits with."""

    exit_code: int = 1


class UsageError(KaokoreError):
    """An option, argument or combination of them that cannot work."""

    exit_code = 2


class ArgumentError(UsageError):
    """An argument of a library function has a value that cannot work.

    Why the argument is kept apart from the words: the library speaks of its keyword
    (``agent 'robot': use human or machine``), the CLI of its flag (``--agent 'robot' ...``);
    the CLI rewords the message with :meth:`worded` in one place (``kaokore.commands.common``).
    """

    def __init__(self, argument: str, value: object, reason: str) -> None:
        self.argument = argument
        self.value = value
        self.reason = reason
        super().__init__(self.worded(argument))

    def worded(self, name: str) -> str:
        """The message with the argument called ``name`` (a flag, a URL parameter)."""
        shown = repr(self.value) if isinstance(self.value, str) else str(self.value)
        return f"{name} {shown}: {self.reason}"


def flag_name(argument: str) -> str:
    """How a command line spells the library argument ``argument``: ``record_id`` ->
    ``--record-id``. Both CLIs (kaokore's and ``python -m kaokore.learn``) use it, so a
    library error names the same flag in either."""
    return "--" + argument.replace("_", "-")


class UnknownValueError(ArgumentError):
    """A filter value that exists nowhere (no face, work or release has it): a typo, most
    likely, so an error with suggestions rather than an empty result."""


class QueryLimitError(UsageError):
    """A query ran past its time (``--timeout``) or memory bound and was stopped."""


class DatabaseError(KaokoreError):
    """The database cannot be opened or used as it is; nothing was changed."""

    exit_code = 2


class NotAKaokoreDatabase(DatabaseError):
    """The file is not a database, or a database that kaokore did not create."""


class DatabaseBehindHead(DatabaseError):
    """The database schema is older than this version of kaokore."""


class ReadOnlyDatabase(DatabaseError):
    """A command that writes met a database file (or server) it may not write."""


class HarvestError(KaokoreError):
    """A document or a crop could not be harvested; it is recorded and retried next run."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class FetchError(HarvestError):
    """The HTTP exchange for ``url`` failed (``status`` is None for transport errors)."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message, url=url)
        self.status = status


class DocumentError(HarvestError):
    """A fetched document is malformed, or has a shape kaokore does not know.

    ``field`` is a JSON-pointer-like path to the offending member (``/selections/0/within``).
    """

    def __init__(self, message: str, *, url: str | None = None, field: str | None = None) -> None:
        where = f"{url or '<document>'}" + (f" at {field}" if field else "")
        super().__init__(f"{where}: {message}", url=url)
        self.field = field
        self.reason = message


class ImportFileError(KaokoreError):
    """A line of an official KaoKore file cannot be read."""

    def __init__(self, message: str, *, path: str, line: int | None = None) -> None:
        where = path if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line
        self.reason = message


class DiskFullError(KaokoreError):
    """The disk (or the database's size limit) is full: the write was rolled back."""

    exit_code = 2


class CompileError(KaokoreError):
    """A release cannot be built from the database as it is."""


class ReleaseExistsError(CompileError):
    """The release version exists already with different content; releases are immutable."""

    exit_code = 2


class ReleaseError(KaokoreError):
    """A release folder is missing files, or its files do not match their checksums."""


class DatasetNotFoundError(KaokoreError):
    """A loader was pointed at a folder that holds no release."""


_DISK_FULL_TEXT = ("database or disk is full", "no space left on device", "could not extend file")
_READ_ONLY_TEXT = ("attempt to write a readonly database", "read-only file system")


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def operational_error(exc: BaseException) -> KaokoreError | None:
    """The one-line error for an operational failure anywhere in ``exc``'s chain, or None.

    Why here and not in each command: a full disk or a read-only file can surface from any
    write (the database, the blob store, a release folder), wrapped by SQLAlchemy or not;
    every command should say the same thing about it and what to do next.
    """
    for item in _chain(exc):
        if isinstance(item, KaokoreError):
            return item
        text = str(item).lower()
        if (isinstance(item, OSError) and item.errno == errno.ENOSPC) or any(
            marker in text for marker in _DISK_FULL_TEXT
        ):
            first = str(item).strip().splitlines()[0] if str(item).strip() else "ENOSPC"
            return DiskFullError(
                f"The disk is full ({first}). The write in progress was rolled back and "
                "nothing stored before it was lost; free some space and run the command "
                "again: it resumes where it stopped"
            )
        if (isinstance(item, OSError) and item.errno == errno.EROFS) or any(
            marker in text for marker in _READ_ONLY_TEXT
        ):
            return ReadOnlyDatabase(
                "The database (or its folder) is read-only, and this command writes to it. "
                "Read-only commands (kaokore query, sql, sparql, export rdf, db status) still "
                "work; to write, run as a user who may write the file and its folder"
            )
    return None
