"""Tables of the research layer: face embeddings and the normalised 制作年 values.

Why separate from :mod:`kaokore.db.models`: both tables are derived data that the research
queries (``kaokore.query``) own; nothing upstream asserts them, and they can be rebuilt at
any time. They are declared on the same ``Base`` so that ``alembic upgrade head`` (revision
0002) and ``Base.metadata`` stay identical; ``kaokore.db`` imports this module so that every
user of the metadata sees them.

``period_terms`` maps each distinct 制作年 value to its year range (see
:mod:`kaokore.periods`), so that the SQL views can show a face's period without Python.
It is filled by the migration for the values already stored and kept up to date on every
insert into ``annotations`` through SQLAlchemy, ORM or bulk (an engine event below). A
writer that bypasses SQLAlchemy, or a change to the era tables, needs
:func:`kaokore.db.period_terms.refresh_period_terms`.
"""

from __future__ import annotations

import datetime as dt
import weakref
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.dml import Insert

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

#: Engines known to have ``period_terms`` (only positive answers are kept).
_HAS_TABLE: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def _has_period_terms(connection: Connection) -> bool:
    """Whether the database has the table; a schema made without it is left alone."""
    engine = connection.engine
    if _HAS_TABLE.get(engine):
        return True
    present = inspect(connection).has_table(PeriodTerm.__tablename__)
    if present:
        _HAS_TABLE[engine] = True
    return present


def _inserted_period_values(statement: Insert, multiparams: Any, params: Any) -> set[str]:
    rows: list[Any] = []
    if isinstance(multiparams, (list, tuple)):
        for item in multiparams:
            rows.extend(item if isinstance(item, (list, tuple)) else [item])
    if isinstance(params, dict):
        rows.append(params)
    values = set()
    for row in rows:
        if isinstance(row, dict) and row.get("label") == PERIOD_LABEL:
            value = row.get("value")
            if isinstance(value, str):
                values.add(value)
    if not rows:  # insert(...).values(...) with the values inline
        compiled = statement.compile().params
        if compiled.get("label") == PERIOD_LABEL and isinstance(compiled.get("value"), str):
            values.add(compiled["value"])
    return values


@event.listens_for(Engine, "after_execute")
def _remember_period_values(
    connection: Connection,
    statement: Any,
    multiparams: Any,
    params: Any,
    _execution_options: Any,
    _result: Any,
) -> None:
    """Store the range of each 制作年 value the first time any writer inserts it.

    Listening on statement execution (not on ORM objects) catches both ORM flushes and the
    bulk ``insert(annotations)`` of the official importer.
    """
    if not isinstance(statement, Insert) or getattr(statement.table, "name", None) != "annotations":
        return
    values = _inserted_period_values(statement, multiparams, params)
    if not values or not _has_period_terms(connection):
        return
    from kaokore.db.period_terms import ensure_period_terms

    ensure_period_terms(connection, values)
