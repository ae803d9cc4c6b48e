"""What a source asks the database to hold, as typed records with no I/O and no ORM.

Why records: both ingest paths (a harvested curation, an official ``original_tags.txt``)
end in the same rows (works, canvases, image services, faces and one document's labels on
them). Each path only *describes* what its document states, with these frozen dataclasses;
:mod:`kaokore.db.bulk` alone decides how to write them (Core statements in bulk, history
kept, the read model refreshed), so the two paths cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Assertion",
    "CanvasRecord",
    "CropRecord",
    "DocumentLabels",
    "FaceRecord",
    "ServiceRecord",
    "WorkRecord",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class Assertion:
    """One ``label = value`` pair as a document states it, raw and normalised.

    The readers build these directly (a curation's metadata, an official file's line), so
    a face's labels reach the bulk writer without a copy. ``position`` counts earlier pairs
    with the same label on the same face (タグ and 制作年 repeat), so ``(label, position)``
    identifies a pair.
    """

    label: str
    raw_value: str
    value: str
    agent: str = "human"
    position: int = 0

    @property
    def identity(self) -> tuple[str, str, str, int]:
        return (self.label, self.raw_value, self.agent, self.position)


@dataclass(frozen=True, kw_only=True, slots=True)
class WorkRecord:
    """A work by its key; ``values`` are column values (None never overwrites a known one)."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class CanvasRecord:
    """A canvas by its URI, in the work ``work_key``."""

    uri: str
    work_key: str | None
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class ServiceRecord:
    """An image service by its key, on the canvas ``canvas_uri`` (when known)."""

    key: str
    base_url: str
    canvas_uri: str | None
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class FaceRecord:
    """A face by its key: where it is, and what the document asserts about it."""

    key: str
    service_key: str
    work_key: str | None
    canvas_uri: str | None
    #: Face columns to set (member_uri, region_*, square_*, range_id, range_label ...).
    values: dict[str, Any]
    assertions: tuple[Assertion, ...]


@dataclass(frozen=True, kw_only=True)
class DocumentLabels:
    """Everything one document (a curation) states, ready to apply in one transaction.

    ``complete`` says the document was read in full: faces it asserted before and no longer
    lists then lose its labels (and are flagged deleted when nothing else labels them).
    """

    document_id: int
    now: dt.datetime
    works: tuple[WorkRecord, ...] = ()
    canvases: tuple[CanvasRecord, ...] = ()
    services: tuple[ServiceRecord, ...] = ()
    faces: tuple[FaceRecord, ...] = ()
    complete: bool = True


@dataclass(frozen=True, kw_only=True, slots=True)
class CropRecord:
    """A face's crop, already in the blob store under ``path``: the face now points at it."""

    face_id: int
    sha256: str
    path: str
    width: int
    height: int
    bytes: int
    #: The request (or requests, space-separated, for stitched crops) the bytes came from.
    request_url: str
