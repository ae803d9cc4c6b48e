"""Tables of the research layer: face embeddings and the normalised 制作年 values.

Why separate from :mod:`kaokore.db.models`: both tables are derived data that the research
queries (``kaokore.query``) own; nothing upstream asserts them, and they can be rebuilt at
any time. They are declared on the same ``Base`` so that ``alembic upgrade head`` (revision
0002) and ``Base.metadata`` stay identical; ``kaokore.db`` imports this module so that every
user of the metadata sees them.

``period_terms`` maps each distinct 制作年 value to its year range (see
:mod:`kaokore.periods`), so that the SQL views can show a face's period without Python.
It is filled by the migrations for the values already stored, and kept up to date
explicitly by :func:`kaokore.db.current.refresh_current_labels`, which every write of
labels calls (no engine-wide listener). A change to the era tables needs
:func:`kaokore.db.period_terms.refresh_period_terms` with ``recompute=True``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kaokore.db.models import Base, utcnow

__all__ = ["FaceEmbedding", "PeriodTerm"]


class FaceEmbedding(Base):
    """One face's vector under one model, for nearest-neighbour search (``kaokore similar``).

    ``vector`` holds ``dims`` little-endian float32 values, L2-normalised, so that cosine
    similarity is a dot product.
    """

    __tablename__ = "face_embeddings"

    id: Mapped[int] = mapped_column(primary_key=True)
    face_id: Mapped[int] = mapped_column(ForeignKey("faces.id", ondelete="CASCADE"))
    #: The embedding model: ``histogram-hog``, ``random-resnet18``, ``classifier:<run>`` ...
    model: Mapped[str] = mapped_column(String(128))
    dims: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    #: The crop the vector was computed from: a changed crop makes the vector stale.
    blob_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("face_id", "model"), Index(None, "model"))


class PeriodTerm(Base):
    """A distinct 制作年 value and the year range it means (None: unknown or unread).

    ``precise`` marks values that state years themselves (``from 1600``, ``1651``): when a
    face has several values they win over named periods (see :mod:`kaokore.periods`).
    ``kind`` is ``unmapped`` for a value no rule can read.
    """

    __tablename__ = "period_terms"

    value: Mapped[str] = mapped_column(Text, primary_key=True)
    year_from: Mapped[int | None] = mapped_column(Integer)
    year_to: Mapped[int | None] = mapped_column(Integer)
    precise: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(16))


#: The label whose values ``period_terms`` tracks.
PERIOD_LABEL = "制作年"
