"""The research database: sources, fetched documents, works, canvases, image services,
faces, their expert annotations, stored crops and releases.

Why the shape: a face is known first from a curation (a canvas region with labels) or from an
official ``urls.txt`` line (an image service region). Both meet on the face's stable key (the
normalised image service path plus the square it is cut from), so one face has one row however
many sources assert it. Annotations are never overwritten: a changed label closes the old row
(``retracted_at``) and opens a new one, so the history of who said what, and when, is kept.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "Annotation",
    "Base",
    "Blob",
    "Canvas",
    "CurrentLabel",
    "Document",
    "Face",
    "ImageService",
    "Release",
    "ReleaseMember",
    "Source",
    "UTCDateTime",
    "Work",
    "utcnow",
]


def utcnow() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no zone; PostgreSQL ``timestamptz`` does. This type makes both behave alike
    and refuses naive datetimes on the way in, which would otherwise be stored ambiguously.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: kaokore stores timezone-aware UTC only")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints stably."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Source(Base):
    """Where harvesting starts: a change feed, a curation, a URL list or an official folder."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``feed``, ``curation``, ``list`` or ``official``.
    kind: Mapped[str] = mapped_column(String(16))
    #: The URL (or absolute path of an official folder or list file) as the user gave it.
    url: Mapped[str] = mapped_column(Text, unique=True)
    label: Mapped[str | None] = mapped_column(Text)
    #: The per-source sync cursor: for a feed, the ``endTime`` of the newest activity seen.
    cursor: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_synced_at: Mapped[dt.datetime | None]

    documents: Mapped[list[Document]] = relationship(back_populates="source")


class Document(Base):
    """One fetched (or failed) document, with what is needed for a conditional re-fetch."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    #: ``feed``, ``feed_page``, ``curation``, ``manifest``, ``info``, ``official_file``.
    kind: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    #: sha256 of the body last stored; an unchanged hash means nothing to re-parse.
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    #: ``ok``, ``failed`` or ``deleted`` (removed upstream, per the change feed or a 404/410).
    status: Mapped[str] = mapped_column(String(16), default="ok")
    http_status: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    fetched_at: Mapped[dt.datetime | None]
    #: The body of the last good fetch, kept for JSON documents so a 304 can be re-parsed.
    body: Mapped[str | None] = mapped_column(Text)
    #: The dataset this document is one version of (``kaokore-official`` for the official
    #: ``original_tags.txt`` files), and which version; null for a curation, which is its
    #: own source and changes in place.
    dataset: Mapped[str | None] = mapped_column(String(64))
    dataset_version: Mapped[str | None] = mapped_column(String(64))
    #: The newer version of the same dataset that supersedes this one (see
    #: :mod:`kaokore.db.truth`): its assertions are kept as history but are not current.
    #: (A plain id: SQLite cannot add a foreign key to an existing table in place.)
    superseded_by_id: Mapped[int | None] = mapped_column(Integer)

    source: Mapped[Source | None] = relationship(back_populates="documents")

    __table_args__ = (Index(None, "kind", "status"),)


class Work(Base):
    """A book or scroll: one IIIF manifest, or, for official imports, one holder record."""

    __tablename__ = "works"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable identity: the normalised manifest URL, or ``record:{holder}:{record id}``.
    key: Mapped[str] = mapped_column(Text, unique=True)
    manifest_url: Mapped[str | None] = mapped_column(Text)
    iiif_version: Mapped[str | None] = mapped_column(String(8))
    #: The title (原典), and the language it was given in.
    label: Mapped[str | None] = mapped_column(Text)
    label_lang: Mapped[str | None] = mapped_column(String(16))
    holder: Mapped[str | None] = mapped_column(Text)
    record_id: Mapped[str | None] = mapped_column(Text)
    license: Mapped[str | None] = mapped_column(Text)
    attribution: Mapped[str | None] = mapped_column(Text)
    #: The manifest's metadata pairs, flattened: ``[{"label", "value", "lang"}]``.
    metadata_json: Mapped[list[Any] | None]
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))

    canvases: Mapped[list[Canvas]] = relationship(back_populates="work")

    __table_args__ = (Index(None, "holder"), Index(None, "label"), Index(None, "record_id"))


class Canvas(Base):
    """A page or scroll section: a canvas of a manifest, in canvas coordinates."""

    __tablename__ = "canvases"

    id: Mapped[int] = mapped_column(primary_key=True)
    uri: Mapped[str] = mapped_column(Text, unique=True)
    work_id: Mapped[int | None] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"))
    label: Mapped[str | None] = mapped_column(Text)
    width: Mapped[int | None]
    height: Mapped[int | None]
    #: 0-based order of the canvas in its manifest.
    position: Mapped[int | None]

    work: Mapped[Work | None] = relationship(back_populates="canvases")
    image_services: Mapped[list[ImageService]] = relationship(back_populates="canvas")

    __table_args__ = (Index(None, "work_id", "position"),)


class ImageService(Base):
    """A IIIF Image API service: where crops are cut from, with what it allows."""

    __tablename__ = "image_services"

    id: Mapped[int] = mapped_column(primary_key=True)
    base_url: Mapped[str] = mapped_column(Text, unique=True)
    #: Scheme- and host-free normalised identifier path; survives http->https and host moves.
    key: Mapped[str] = mapped_column(Text, unique=True)
    canvas_id: Mapped[int | None] = mapped_column(ForeignKey("canvases.id", ondelete="SET NULL"))
    #: ``2`` (2.0/2.1) or ``3``, from the manifest or info.json.
    api_version: Mapped[str | None] = mapped_column(String(8))
    level: Mapped[int | None]
    width: Mapped[int | None]
    height: Mapped[int | None]
    max_width: Mapped[int | None]
    max_height: Mapped[int | None]
    max_area: Mapped[int | None] = mapped_column(BigInteger)
    sizes_json: Mapped[list[Any] | None]
    tiles_json: Mapped[list[Any] | None]
    info_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL")
    )

    canvas: Mapped[Canvas | None] = relationship(back_populates="image_services")


class Blob(Base):
    """A stored crop: bytes in the content-addressed store, keyed by their sha256."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: Path relative to the blob store: ``ab/cd/abcd...jpg``.
    path: Mapped[str] = mapped_column(Text)
    media_type: Mapped[str] = mapped_column(String(64))
    width: Mapped[int]
    height: Mapped[int]
    bytes: Mapped[int] = mapped_column(BigInteger)
    #: The request (or requests, for stitched level-0 crops) the bytes came from.
    request_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Face(Base):
    """One face: a square region of one image, with its provenance and its crop."""

    __tablename__ = "faces"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``{service key}#{x},{y},{w},{h}`` of the unclamped centred square in image pixels.
    key: Mapped[str] = mapped_column(Text, unique=True)
    canvas_id: Mapped[int | None] = mapped_column(ForeignKey("canvases.id", ondelete="SET NULL"))
    image_service_id: Mapped[int | None] = mapped_column(
        ForeignKey("image_services.id", ondelete="SET NULL")
    )
    work_id: Mapped[int | None] = mapped_column(ForeignKey("works.id", ondelete="SET NULL"))
    #: The member id as the curation gave it (``canvas#xywh=...``), when it came from one.
    member_uri: Mapped[str | None] = mapped_column(Text)
    #: The region in canvas coordinates (``#xywh=``), when known.
    region_x: Mapped[int | None]
    region_y: Mapped[int | None]
    region_w: Mapped[int | None]
    region_h: Mapped[int | None]
    #: What the crop is cut from, in image pixels: the centred square, cut at the image's
    #: edge where it reaches past it (then not square: the crop stage resizes the cut to
    #: the square output, as the Image API does for such a region).
    square_x: Mapped[int]
    square_y: Mapped[int]
    square_w: Mapped[int]
    square_h: Mapped[int]
    #: The curation document and the range (selection) the face came from.
    curation_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL")
    )
    range_id: Mapped[str | None] = mapped_column(Text)
    range_label: Mapped[str | None] = mapped_column(Text)
    #: The release file number (``%08d.jpg``), assigned once by the first build that includes it.
    file_number: Mapped[int | None] = mapped_column(unique=True)
    blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    #: ``pending``, ``ok`` or ``failed``; the reason of a failure in ``crop_error``.
    crop_status: Mapped[str] = mapped_column(String(16), default="pending")
    crop_error: Mapped[str | None] = mapped_column(Text)
    first_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[dt.datetime | None]

    annotations: Mapped[list[Annotation]] = relationship(
        back_populates="face", order_by="Annotation.id"
    )
    canvas: Mapped[Canvas | None] = relationship()
    image_service: Mapped[ImageService | None] = relationship()
    work: Mapped[Work | None] = relationship()
    blob: Mapped[Blob | None] = relationship()

    __table_args__ = (
        Index(None, "work_id"),
        Index(None, "canvas_id"),
        Index(None, "deleted"),
        Index(None, "crop_status"),
    )


class Annotation(Base):
    """One expert (or machine) assertion about a face: ``label = value``.

    Current when ``retracted_at`` is null. Repeatable labels (タグ, 制作年) have several
    current rows, ordered by ``position``.
    """

    __tablename__ = "annotations"

    id: Mapped[int] = mapped_column(primary_key=True)
    face_id: Mapped[int] = mapped_column(ForeignKey("faces.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(Text)
    raw_value: Mapped[str] = mapped_column(Text)
    #: The value with stray whitespace removed (and ``@`` restored to ``-`` in Keio call numbers).
    value: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: ``human`` or ``machine``.
    agent: Mapped[str] = mapped_column(String(16), default="human")
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))
    asserted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    retracted_at: Mapped[dt.datetime | None]

    face: Mapped[Face] = relationship(back_populates="annotations")
    document: Mapped[Document | None] = relationship()

    __table_args__ = (
        Index(None, "face_id", "label"),
        Index(None, "label", "value"),
        Index(None, "retracted_at"),
    )


class CurrentLabel(Base):
    """A face's label as :mod:`kaokore.db.truth` decides it: the one read model.

    Derived from ``annotations`` (and the documents' supersession) by
    :func:`kaokore.db.current.refresh_current_labels`, which the write path calls for
    every face it touches; every reader (queries, views, releases, exports) reads here.
    ``position`` numbers the values of one label 0, 1, ... after duplicates are dropped.
    """

    __tablename__ = "current_labels"

    face_id: Mapped[int] = mapped_column(
        ForeignKey("faces.id", ondelete="CASCADE"), primary_key=True
    )
    label: Mapped[str] = mapped_column(Text, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    raw_value: Mapped[str] = mapped_column(Text)
    agent: Mapped[str] = mapped_column(String(16))
    #: The annotation that won (its document, time and agent are the label's provenance).
    annotation_id: Mapped[int] = mapped_column(ForeignKey("annotations.id", ondelete="CASCADE"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))
    asserted_at: Mapped[dt.datetime]

    __table_args__ = (Index(None, "label", "value"), Index(None, "annotation_id"))


class Release(Base):
    """A version: built by ``kaokore build`` (``kind='built'``) or an imported official one."""

    __tablename__ = "releases"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    #: ``built`` or ``official``.
    kind: Mapped[str] = mapped_column(String(16), default="built")
    built_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    path: Mapped[str | None] = mapped_column(Text)
    #: Digest of the database state the release was compiled from.
    db_state: Mapped[str | None] = mapped_column(String(64))
    options_json: Mapped[dict[str, Any] | None]
    counts_json: Mapped[dict[str, Any] | None]
    #: sha256 of the release's ``SHA256SUMS`` file.
    checksum: Mapped[str | None] = mapped_column(String(64))

    members: Mapped[list[ReleaseMember]] = relationship(
        back_populates="release", cascade="all, delete-orphan"
    )

    __table_args__ = (UniqueConstraint("kind", "version"),)


class ReleaseMember(Base):
    """A face's place in a release: its file name, split and labels there."""

    __tablename__ = "release_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"))
    #: Null for an official line that names no face (a blank ``urls.txt`` line).
    face_id: Mapped[int | None] = mapped_column(ForeignKey("faces.id", ondelete="SET NULL"))
    file_name: Mapped[str] = mapped_column(String(64))
    #: ``train``, ``dev``, ``test``, or null for a face outside ``labels.csv``.
    split: Mapped[str | None] = mapped_column(String(16))
    gender: Mapped[int | None]
    status: Mapped[int | None]
    checksum: Mapped[str | None] = mapped_column(String(64))

    release: Mapped[Release] = relationship(back_populates="members")
    face: Mapped[Face | None] = relationship()

    __table_args__ = (
        UniqueConstraint("release_id", "file_name"),
        Index(None, "face_id"),
    )
