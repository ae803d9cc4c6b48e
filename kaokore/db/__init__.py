"""Storage: the research database (SQLAlchemy models, sessions, migrations) and the blob store."""

from kaokore.db.blobs import BlobStore
from kaokore.db.models import (
    Annotation,
    Base,
    Blob,
    Canvas,
    Document,
    Face,
    ImageService,
    Release,
    ReleaseMember,
    Source,
    Work,
    utcnow,
)
from kaokore.db.session import Database, make_engine, open_database, open_readonly

# The research tables (embeddings, period terms) and the review tables share ``Base``:
# import them so that the metadata every caller and every migration sees is complete.
from kaokore.db import models_research  # noqa: E402,F401  isort: skip
from kaokore.db import models_defects  # noqa: E402,F401  isort: skip
from kaokore.db import models_review  # noqa: E402,F401  isort: skip

__all__ = [
    "Annotation",
    "Base",
    "Blob",
    "BlobStore",
    "Canvas",
    "Database",
    "Document",
    "Face",
    "ImageService",
    "Release",
    "ReleaseMember",
    "Source",
    "Work",
    "make_engine",
    "open_database",
    "open_readonly",
    "utcnow",
]
