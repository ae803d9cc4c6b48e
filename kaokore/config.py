"""Settings shared by every command, and the named defaults of the whole system.

Other tools and scripts rely on these exact names: ``KAOKORE_DB`` (a SQLAlchemy URL) and
``KAOKORE_HOME`` (the folder holding the default SQLite database, the blob store of crops,
the caches and the releases).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from kaokore import __version__

__all__ = [
    "DATABASE_FILE",
    "DB_ENV",
    "DEFAULT_FEED_URL",
    "DEFAULT_HOME",
    "DEFAULT_HOST_CONCURRENCY",
    "DEFAULT_HOST_RATE",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_IMAGE_PIXELS",
    "DEFAULT_MAX_REDIRECTS",
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "HOME_ENV",
    "USER_AGENT",
    "Settings",
]

DB_ENV: Final = "KAOKORE_DB"
HOME_ENV: Final = "KAOKORE_HOME"
DEFAULT_HOME: Final = Path("kaokore-data")
DATABASE_FILE: Final = "kaokore.db"

#: Where a bare ``kaokore ingest`` starts on a new database: CODH's face collection feed.
DEFAULT_FEED_URL: Final = "https://mp.ex.nii.ac.jp/api/face/as/collection.json"

USER_AGENT: Final = f"kaokore/{__version__} (research harvester of the KaoKore face collection)"
#: Requests in flight at once to one host: polite for a public, often slow, server.
DEFAULT_HOST_CONCURRENCY: Final = 4
#: Requests started per second to one host.
DEFAULT_HOST_RATE: Final = 8.0
DEFAULT_TIMEOUT: Final = 30.0
DEFAULT_RETRIES: Final = 5
DEFAULT_MAX_REDIRECTS: Final = 5
#: Largest response body accepted (JSON documents and images alike).
DEFAULT_MAX_BYTES: Final = 32 * 1024 * 1024
#: Largest decoded image accepted, against decompression bombs.
DEFAULT_MAX_IMAGE_PIXELS: Final = 64_000_000


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Where kaokore keeps its state: the database URL and the home folder."""

    home: Path = field(default=DEFAULT_HOME)
    db_url: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "home", Path(self.home))

    @classmethod
    def from_env(cls, *, home: Path | str | None = None, db_url: str | None = None) -> Settings:
        """Settings from explicit values, else the environment, else the defaults."""
        resolved_home = Path(home or os.environ.get(HOME_ENV) or DEFAULT_HOME)
        return cls(home=resolved_home, db_url=db_url or os.environ.get(DB_ENV) or None)

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL: ``--db``/``KAOKORE_DB`` or the SQLite file in the home folder."""
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(self.home / DATABASE_FILE).resolve()}"

    @property
    def blob_dir(self) -> Path:
        """The content-addressed store of face crops."""
        return self.home / "blobs"

    @property
    def cache_dir(self) -> Path:
        """Caches that can be deleted at any time (decoded arrays, embeddings)."""
        return self.home / "cache"

    @property
    def release_dir(self) -> Path:
        """Where ``kaokore build`` writes releases unless ``--out`` says otherwise."""
        return self.home / "releases"
