"""The defects table: what was wrong upstream, where, and what became of the face.

Why a table: a harvester of a public platform takes in everything it can and records the
rest precisely. A defect is not a failure (nothing a later run can get): it is a warning
that stays true for as long as the document says the same thing, so it is kept with the
document it belongs to, replaced whenever that document is read again, and listed by
``kaokore db status --defects``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kaokore.db.models import Base, utcnow

__all__ = ["DocumentDefect"]


class DocumentDefect(Base):
    """One defect of one document: a member, a metadata entry, a selection, a file line.

    ``document_url`` is the document (a curation URL, an info.json URL, the ``file://``
    URL of an official file); ``pointer`` the JSON pointer (``/selections/0/members/3``) or
    ``line N``; ``code`` the kind (``empty_label``, ``region_partly_outside``, ...);
    ``outcome`` ``kept`` (the face was kept, with the repair ``reason`` names) or
    ``left_out``; ``stage`` the part of kaokore that met it (``curation``, ``crop``,
    ``official``).
    """

    __tablename__ = "defects"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_url: Mapped[str] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(String(16))
    pointer: Mapped[str] = mapped_column(Text)
    code: Mapped[str] = mapped_column(String(48))
    reason: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))
    #: The member id (``canvas#xywh=...``) or the face key, when the defect is a face's.
    subject: Mapped[str | None] = mapped_column(Text)
    first_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index(None, "document_url", "stage"), Index(None, "code"))
