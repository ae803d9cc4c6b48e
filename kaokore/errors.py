"""The exceptions kaokore raises, as one tree.

Every error a user can cause or meet derives from :class:`KaokoreError`; the CLI turns
each into a single ``Error: ...`` line and the exit code carried by the class. Programmer
mistakes stay ``ValueError``/``TypeError``.

::

    KaokoreError                      exit 1 unless stated
    ├── UsageError                    exit 2: a bad option, argument or combination
    ├── DatabaseError                 exit 2: the database cannot be used as it is
    │   ├── NotAKaokoreDatabase       the file or schema is not a kaokore database
    │   └── DatabaseBehindHead        migrations are pending: run `kaokore db upgrade`
    ├── HarvestError                  a document or crop could not be harvested
    │   ├── FetchError                (url, status) the HTTP exchange failed
    │   └── DocumentError             (url, field) a document is malformed or of an unknown shape
    ├── ImportFileError               (path, line) a line of an official file is malformed
    ├── StoreError                    the blob store or the database refused a write
    ├── CompileError                  a release cannot be built
    │   └── ReleaseExistsError        the version exists with other content
    ├── ReleaseError                  a release folder is missing, incomplete or corrupt
    └── DatasetNotFoundError          a loader found no release where it was pointed
"""

from __future__ import annotations

__all__ = [
    "CompileError",
    "DatabaseBehindHead",
    "DatabaseError",
    "DatasetNotFoundError",
    "DocumentError",
    "FetchError",
    "HarvestError",
    "ImportFileError",
    "KaokoreError",
    "NotAKaokoreDatabase",
    "ReleaseError",
    "ReleaseExistsError",
    "StoreError",
    "UsageError",
]


class KaokoreError(Exception):
    """Base of every error a user can meet; ``exit_code`` is what the CLI exits with."""

    exit_code: int = 1


class UsageError(KaokoreError):
    """An option, argument or combination of them that cannot work."""

    exit_code = 2


class DatabaseError(KaokoreError):
    """The database cannot be opened or used as it is; nothing was changed."""

    exit_code = 2


class NotAKaokoreDatabase(DatabaseError):
    """The file is not a database, or a database that kaokore did not create."""


class DatabaseBehindHead(DatabaseError):
    """The database schema is older than this version of kaokore."""


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


class StoreError(KaokoreError):
    """The blob store or the database refused a write."""


class CompileError(KaokoreError):
    """A release cannot be built from the database as it is."""


class ReleaseExistsError(CompileError):
    """The release version exists already with different content; releases are immutable."""

    exit_code = 2


class ReleaseError(KaokoreError):
    """A release folder is missing files, or its files do not match their checksums."""


class DatasetNotFoundError(KaokoreError):
    """A loader was pointed at a folder that holds no release."""
