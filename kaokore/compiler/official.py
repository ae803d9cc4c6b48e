"""Reproduce an imported official KaoKore version's files from the database.

``kaokore build --like-official 1.3`` compares published results on exactly the published
split: same faces, labels and sets, in the official numbering with its gaps. This module
rebuilds the five official files from what ``kaokore.ingest.official`` stored:

* ``labels.csv``: the labelled members of the official release, in member id order (the
  importer inserts them in the official shuffled order).
* ``urls.txt``: one line per number, blank where the official has a gap; each URL rebuilt
  from the face's image service (its stored ``base_url``), the face's square (from the face
  key, which is never clamped), and the version's URL rules in ``Release.options_json``
  (origin and size per host, and the rotation/quality/format tail), unless the importer
  recorded the line's full text as an exception.
* ``original_tags.txt``: one line per face line, the current annotations the version's own
  document asserts, sorted by key then position (the official order), unless recorded as an
  exception (tags on a blank url line, say).
* ``labels.metadata.{en,ja}.txt``: from :mod:`kaokore.vocab`, written by :mod:`.files`.

Every official file is LF-terminated with a final newline; so is every file written here.
If a later harvest moved an image service (a new ``base_url``), ``urls.txt`` follows the
service to its current address; faces, labels and sets are unaffected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from kaokore.compiler.files import metadata_en, metadata_ja
from kaokore.db.models import Annotation, Document, Face, ImageService, Release, ReleaseMember
from kaokore.db.release_layout import OfficialLayoutOptions, TagRules, UrlRules
from kaokore.errors import CompileError
from kaokore.release.layout import (
    LABELS_FILE,
    METADATA_EN_FILE,
    METADATA_JA_FILE,
    TAGS_FILE,
    URLS_FILE,
)

__all__ = ["OfficialLayout", "official_layout"]


@dataclass(frozen=True, kw_only=True)
class OfficialLayout:
    """An official version's files and its numbering.

    ``members`` lists every number of the version in order, ``(file name, face id)``, with
    None for a blank url line: a release builder writes each face's image under its name.
    """

    version: str
    files: Mapping[str, bytes]
    members: list[tuple[str, int | None]]
    #: File name -> sha256 of the official image stored for that line (by
    #: :mod:`kaokore.ingest.official_images`): copied as it is, never encoded again.
    images: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Member:
    file_name: str
    face_id: int | None
    split: str | None
    gender: int | None
    status: int | None
    face_key: str | None
    base_url: str | None
    checksum: str | None = None

    @property
    def number(self) -> int:
        return int(self.file_name.removesuffix(".jpg"))


def official_layout(session: Session, version: str) -> OfficialLayout:
    """The files of official ``version`` as imported; CompileError when it was not imported."""
    release = session.scalars(
        select(Release).where(Release.kind == "official", Release.version == version)
    ).one_or_none()
    if release is None:
        raise CompileError(
            f"No official KaoKore {version} in the database. "
            f"Run `kaokore ingest --official DIR` on the v{version} folder first."
        )
    options = OfficialLayoutOptions.from_json(release.options_json, release=f"official:{version}")
    members = _members(session, release)
    by_number = sorted(members, key=lambda member: member.number)
    tags = _tags(session, options.document_url)
    files = {
        LABELS_FILE: _labels_csv(members, options.labels_header),
        URLS_FILE: _urls_txt(by_number, options.urls),
        TAGS_FILE: _tags_txt(by_number, tags, options.tags),
        METADATA_EN_FILE: metadata_en(),
        METADATA_JA_FILE: metadata_ja(),
    }
    return OfficialLayout(
        version=version,
        files=files,
        members=[(member.file_name, member.face_id) for member in by_number],
        images={m.file_name: m.checksum for m in by_number if m.checksum is not None},
    )


def _members(session: Session, release: Release) -> list[_Member]:
    """The release's members in id order, with their face key and service base URL."""
    query = (
        select(
            ReleaseMember.file_name,
            ReleaseMember.face_id,
            ReleaseMember.split,
            ReleaseMember.gender,
            ReleaseMember.status,
            Face.key,
            ImageService.base_url,
            ReleaseMember.checksum,
        )
        .outerjoin(Face, Face.id == ReleaseMember.face_id)
        .outerjoin(ImageService, ImageService.id == Face.image_service_id)
        .where(ReleaseMember.release_id == release.id)
        .order_by(ReleaseMember.id)
    )
    return [
        _Member(
            file_name=name,
            face_id=face_id,
            split=split,
            gender=gender,
            status=status,
            face_key=key,
            base_url=base,
            checksum=checksum,
        )
        for name, face_id, split, gender, status, key, base, checksum in session.execute(query)
    ]


def _tags(session: Session, document_url: str | None) -> dict[int, list[tuple[str, int, str]]]:
    """Face id -> the (label, position, raw value) the version's document currently asserts."""
    if document_url is None:
        return {}
    query = (
        select(Annotation.face_id, Annotation.label, Annotation.position, Annotation.raw_value)
        .join(Document, Document.id == Annotation.document_id)
        .where(Document.url == document_url, Annotation.retracted_at.is_(None))
    )
    tags: dict[int, list[tuple[str, int, str]]] = {}
    for face_id, label, position, raw in session.execute(query):
        tags.setdefault(face_id, []).append((label, position, raw))
    return tags


def _text(lines: Iterable[str]) -> bytes:
    return "".join(f"{line}\n" for line in lines).encode("utf-8")


def _labels_csv(members: list[_Member], header: str) -> bytes:
    rows = (
        f"{m.file_name},{m.gender},{m.status},{m.split}"
        for m in members
        if m.split is not None and m.gender is not None and m.status is not None
    )
    return _text([header, *rows])


def _urls_txt(members: list[_Member], rules: UrlRules) -> bytes:
    lines = []
    for member in members:
        if rules.count is not None and member.number >= rules.count:
            break
        lines.append(rules.lines.get(member.file_name) or _url(member, rules))
    return _text(lines)


def _url(member: _Member, rules: UrlRules) -> str:
    """``{origin}{path}/{x,y,w,h}/{size}/{tail}``, or "" for a line without a face."""
    if member.face_key is None or member.base_url is None or "#" not in member.face_key:
        return ""
    return rules.url(member.base_url, member.face_key.rsplit("#", 1)[1])


def _tags_txt(
    members: list[_Member],
    tags: Mapping[int, list[tuple[str, int, str]]],
    rules: TagRules,
) -> bytes:
    exceptions = rules.lines
    missing = set(rules.missing)
    lines = []
    for member in members:
        if member.file_name in exceptions:
            lines.append(exceptions[member.file_name])
        elif member.face_id is not None and member.file_name not in missing:
            pairs = sorted(tags.get(member.face_id, []))
            lines.append(f"{member.file_name}:" + ";".join(f"{k}={v}" for k, _p, v in pairs))
    return _text(lines)
