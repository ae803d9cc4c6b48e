"""kaokore: the KaoKore face collection as a research database and as versioned ML releases.

Each stage is a package with its own public names (:mod:`kaokore.db`, :mod:`kaokore.ingest`,
:mod:`kaokore.compiler`, :mod:`kaokore.release`, :mod:`kaokore.query`, :mod:`kaokore.export`,
:mod:`kaokore.learn`, :mod:`kaokore.server`, :mod:`kaokore.mirror`); the entry point of each is
also here, imported on first use so that ``import kaokore`` stays cheap (docs/python.md shows
them in use)::

    import kaokore
    db = kaokore.open_database(kaokore.Settings(home="kaokore-demo"))
    kaokore.faces(db, where=kaokore.query.FaceFilter(status="warrior"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kaokore.lazy import lazy_exports

if TYPE_CHECKING:
    from kaokore.compiler import build_release, verify_release
    from kaokore.config import Settings
    from kaokore.db import Database, open_database
    from kaokore.errors import KaokoreError
    from kaokore.ingest import harvest, import_official
    from kaokore.query.diff import diff
    from kaokore.query.faces import faces, history, stats

__version__ = "0.1.0"

__all__ = [
    "Database",
    "KaokoreError",
    "Settings",
    "__version__",
    "build_release",
    "diff",
    "faces",
    "harvest",
    "history",
    "import_official",
    "open_database",
    "stats",
    "verify_release",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Database": "kaokore.db",
        "KaokoreError": "kaokore.errors",
        "Settings": "kaokore.config",
        "build_release": "kaokore.compiler",
        "diff": "kaokore.query",
        "faces": "kaokore.query",
        "harvest": "kaokore.ingest",
        "history": "kaokore.query",
        "import_official": "kaokore.ingest",
        "open_database": "kaokore.db",
        "stats": "kaokore.query",
        "verify_release": "kaokore.compiler",
    },
)
