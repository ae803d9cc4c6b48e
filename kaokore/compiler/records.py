"""The typed records passed between the stages of a build.

Why a module of its own: the reader (:mod:`.select`), the image stage, the split rules and the
file writers all speak about the same few things (a face as the database knows it, a face as
the release holds it, a face left out). Keeping them here, frozen and keyword-only, means no
stage reaches into another's internals or into the ORM.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from kaokore.box import Box
from kaokore.compiler.reviewed import LabelSource

__all__ = [
    "AnnotationValue",
    "LeftOut",
    "OfficialSplit",
    "PreviousMember",
    "PreviousRelease",
    "ReleaseEntry",
    "SampleRow",
    "BuildInput",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class AnnotationValue:
    """One current ``label = value`` assertion about a face."""

    label: str
    value: str
    raw_value: str
    agent: str
    position: int


@dataclass(frozen=True, kw_only=True, slots=True)
class SampleRow:
    """One face as the database knows it, with everything a release says about it.

    ``gender`` and ``status`` are the release class indices, or None when the face gets no
    ``labels.csv`` row (性別 not 男/女, or 身分 not one of the four KaoKore classes).
    """

    face_id: int
    key: str
    file_number: int | None
    holder: str | None
    record_id: str | None
    work_key: str | None
    work_label: str | None
    manifest_url: str | None
    license: str | None
    attribution: str | None
    canvas_uri: str | None
    canvas_label: str | None
    canvas_position: int | None
    member_uri: str | None
    range_id: str | None
    range_label: str | None
    region: Box | None
    square: Box
    key_square: Box | None
    service_url: str | None
    service_key: str | None
    api_version: str | None
    level: int | None
    source_document: str | None
    blob_sha256: str | None
    blob_path: str | None
    blob_width: int | None
    blob_height: int | None
    crop_url: str | None
    crop_status: str
    crop_error: str | None
    annotations: tuple[AnnotationValue, ...]
    gender: int | None
    status: int | None
    #: Where ``gender`` and ``status`` came from (None when the face has no such label).
    gender_source: LabelSource | None = None
    status_source: LabelSource | None = None

    @property
    def labelled(self) -> bool:
        """Whether the face gets a ``labels.csv`` row."""
        return self.gender is not None and self.status is not None


@dataclass(frozen=True, kw_only=True, slots=True)
class OfficialSplit:
    """The sets of the most recent imported official version, by face id."""

    version: str
    sets: Mapping[int, str]


@dataclass(frozen=True, kw_only=True, slots=True)
class PreviousMember:
    """A face's place in the previous built release, for the diff."""

    face_id: int | None
    face_key: str | None
    image: str
    split: str | None
    gender: int | None
    status: int | None


@dataclass(frozen=True, kw_only=True, slots=True)
class PreviousRelease:
    """The built release this one is compared against (the highest lower version)."""

    version: str
    checksum: str | None
    members: tuple[PreviousMember, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class BuildInput:
    """What a build reads from the database, read in one transaction.

    ``state`` digests everything here that reaches the release files, except the file
    numbers (which the first build assigns): equal states build equal releases.
    ``source_time`` is the newest change in that data; it is the release's build time.
    """

    rows: tuple[SampleRow, ...]
    state: str
    source_time: dt.datetime
    max_file_number: int
    official: OfficialSplit | None
    previous: PreviousRelease | None


@dataclass(frozen=True, kw_only=True, slots=True)
class LeftOut:
    """A face the release does not hold, and why."""

    face_key: str
    reason: str
    image: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ReleaseEntry:
    """One image of the release: the face, its file, its URL and its set in each split."""

    image: str
    row: SampleRow
    image_sha256: str
    url: str
    sets: Mapping[str, str] = field(default_factory=dict)

    @property
    def number(self) -> int:
        """The file number (``00000012.jpg`` is 12)."""
        return int(self.image.split(".", 1)[0])
