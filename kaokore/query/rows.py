"""What the research queries return: typed rows with one flat ``as_dict`` each.

Why frozen dataclasses and not ORM objects: a notebook keeps rows after the session is
closed, pickles them, and turns them into a DataFrame; the CLI writes them as a table, CSV
or JSON. Every row type therefore has the same two faces: attributes for Python, and
``as_dict()`` with the column names the CLI and the docs use.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from kaokore.periods import FacePeriod
from kaokore.query.names import english_value

__all__ = [
    "FACE_COLUMNS",
    "FaceRow",
    "HistoryRow",
    "Label",
    "StatsResult",
    "StatsRow",
    "TabularResult",
]


#: The columns of :meth:`FaceRow.as_dict` (``kaokore query faces --format csv``), in order.
FACE_COLUMNS: tuple[str, ...] = (
    "face_id", "face_key", "work", "holder", "holder_en", "record_id", "gender", "gender_en",
    "status", "status_en", "orientation", "orientation_en", "tags", "period_raw", "period_from",
    "period_to", "agents", "work_key", "manifest_url", "canvas_uri", "image_service",
    "member_uri", "region", "square", "blob_sha256", "file_number",
)  # fmt: skip


@dataclass(frozen=True, kw_only=True, slots=True)
class Label:
    """One current label of a face: ``label = value``, who said it and where."""

    label: str
    value: str
    raw_value: str
    agent: str
    position: int
    document_id: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class FaceRow:
    """A face with its provenance and its current labels.

    ``work``/``holder``/``record_id`` come from the face's own labels (原典, 所蔵, the record id
    keys) and fall back to its work's row. ``region`` is in canvas coordinates (None when
    the face has no canvas); ``square`` is the crop in image pixels.
    """

    face_id: int
    key: str
    work: str | None
    holder: str | None
    record_id: str | None
    gender: str | None
    status: str | None
    orientation: str | None
    tags: tuple[str, ...]
    period: FacePeriod
    work_key: str | None
    manifest_url: str | None
    canvas_uri: str | None
    canvas_width: int | None
    canvas_height: int | None
    image_service: str | None
    image_width: int | None
    image_height: int | None
    member_uri: str | None
    region: tuple[int, int, int, int] | None
    square: tuple[int, int, int, int]
    blob_sha256: str | None
    blob_path: str | None
    file_number: int | None
    labels: tuple[Label, ...] = ()

    @property
    def gender_en(self) -> str | None:
        return english_value("性別", self.gender)

    @property
    def status_en(self) -> str | None:
        return english_value("身分", self.status)

    @property
    def orientation_en(self) -> str | None:
        return english_value("向き", self.orientation)

    @property
    def holder_en(self) -> str | None:
        return english_value("所蔵", self.holder)

    @property
    def period_from(self) -> int | None:
        return self.period.year_from

    @property
    def period_to(self) -> int | None:
        return self.period.year_to

    @property
    def agents(self) -> tuple[str, ...]:
        """The agents (human, machine) of the current labels, sorted."""
        return tuple(sorted({label.agent for label in self.labels}))

    def as_dict(self) -> dict[str, Any]:
        """One flat row: the columns of ``kaokore query faces --format csv|json``."""
        return {
            "face_id": self.face_id,
            "face_key": self.key,
            "work": self.work,
            "holder": self.holder,
            "holder_en": self.holder_en,
            "record_id": self.record_id,
            "gender": self.gender,
            "gender_en": self.gender_en,
            "status": self.status,
            "status_en": self.status_en,
            "orientation": self.orientation,
            "orientation_en": self.orientation_en,
            "tags": " | ".join(self.tags),
            "period_raw": " | ".join(self.period.raw),
            "period_from": self.period.year_from,
            "period_to": self.period.year_to,
            "agents": ",".join(self.agents),
            "work_key": self.work_key,
            "manifest_url": self.manifest_url,
            "canvas_uri": self.canvas_uri,
            "image_service": self.image_service,
            "member_uri": self.member_uri,
            "region": ",".join(map(str, self.region)) if self.region else None,
            "square": ",".join(map(str, self.square)),
            "blob_sha256": self.blob_sha256,
            "file_number": self.file_number,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class StatsRow:
    """One cell of a cross-tabulation: the values of the ``by`` columns and its faces."""

    values: tuple[str | None, ...]
    count: int
    share: float


@dataclass(frozen=True, kw_only=True, slots=True)
class StatsResult:
    """A cross-tabulation of faces by ``columns``; ``total`` faces matched the filters.

    A face with several values of a column (タグ, say) counts once under each, so shares of
    such columns add up to more than 1. A face with no value counts under None.
    """

    columns: tuple[str, ...]
    rows: tuple[StatsRow, ...]
    total: int
    english: dict[str, str] = field(default_factory=dict)

    def as_dicts(self) -> list[dict[str, Any]]:
        """Rows as flat dicts: each column, its English name where one exists, count, share."""
        out = []
        for row in self.rows:
            item: dict[str, Any] = {}
            for column, value in zip(self.columns, row.values, strict=True):
                item[column] = value
                key = self.english.get(column)
                if key is not None:
                    item[f"{column}_en"] = english_value(key, value)
            item["count"] = row.count
            item["share"] = round(row.share, 6)
            out.append(item)
        return out


@dataclass(frozen=True, kw_only=True, slots=True)
class HistoryRow:
    """One annotation a face ever had, and what the rule (:mod:`kaokore.db.truth`) made of it.

    ``state`` is ``current`` (a label readers see), ``retracted`` (its document withdrew it,
    or a newer version of its dataset changed it: ``ended_at`` and ``ended_by`` say when and
    which), ``restated`` (an older version's assertion that the newest version repeats) or
    ``outranked`` (another source's newer or human assertion of the label won, or the value
    was a repeat).
    """

    annotation_id: int
    label: str
    label_en: str | None
    value: str
    raw_value: str
    agent: str
    position: int
    document_url: str | None
    document_kind: str | None
    asserted_at: dt.datetime
    retracted_at: dt.datetime | None
    state: str = "current"
    ended_at: dt.datetime | None = None
    ended_by: str | None = None
    #: For a machine suggestion or a reviewer's decision: which model or reviewer, and how.
    provenance: str | None = None

    @property
    def current(self) -> bool:
        return self.state == "current"

    def as_dict(self) -> dict[str, Any]:
        return {
            "annotation_id": self.annotation_id,
            "label": self.label,
            "label_en": self.label_en,
            "value": self.value,
            "raw_value": self.raw_value,
            "agent": self.agent,
            "position": self.position,
            "document_url": self.document_url,
            "document_kind": self.document_kind,
            "asserted_at": self.asserted_at.isoformat(),
            "retracted_at": self.retracted_at.isoformat() if self.retracted_at else None,
            "state": self.state,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "ended_by": self.ended_by,
            "current": self.current,
            "provenance": self.provenance,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class TabularResult:
    """Columns and rows of a SQL or SPARQL query, in the order the query gave them.

    ``truncated``: the query had more rows than its ``max_rows`` bound; they were cut.
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    truncated: bool = False

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]
