"""Read the faces, their current labels and their provenance from the database.

Why one reader: every file of a release is written from the same :class:`SampleRow` tuple,
read in one transaction, so ``labels.csv``, ``faces.csv`` and the splits can never disagree
about a face. The reader also digests what it read (:attr:`BuildInput.state`): two builds from
equal states write equal bytes, which is how a rebuild of an existing version is recognised
as a no-op without comparing folders.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import fields
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from kaokore.box import Box
from kaokore.compiler.records import (
    AnnotationValue,
    BuildInput,
    OfficialSplit,
    PreviousMember,
    PreviousRelease,
    SampleRow,
)
from kaokore.compiler.reviewed import (
    DEFAULT_LABELS,
    EXPERT,
    LabelSource,
    ReviewSources,
    check_labels,
    read_review_sources,
)
from kaokore.db.current import claims_of
from kaokore.db.models import (
    Annotation,
    Blob,
    Canvas,
    CurrentLabel,
    Document,
    Face,
    ImageService,
    Release,
    ReleaseMember,
    Work,
)
from kaokore.db.models_review import Review, Suggestion
from kaokore.db.truth import current_labels
from kaokore.vocab import RECORD_ID_KEYS, category_key, class_index

__all__ = [
    "EPOCH",
    "official_release",
    "parse_key_square",
    "read_build_input",
    "version_key",
]

#: The build time of a database with no timestamps at all (never met in practice).
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

_KEY_SQUARE = re.compile(r"#(-?\d+),(-?\d+),(\d+),(\d+)$")


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Order versions naturally: ``1.10`` after ``1.9``, numbers before words."""
    parts = re.split(r"[.\-_+]", version)
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in parts)


def parse_key_square(key: str) -> Box | None:
    """The unclamped square a face key names (``{service}#{x},{y},{w},{h}``), if it parses."""
    match = _KEY_SQUARE.search(key)
    if match is None:
        return None
    x, y, w, h = (int(group) for group in match.groups())
    return Box(x=x, y=y, w=w, h=h)


def official_release(session: Session, version: str | None = None) -> Release | None:
    """The imported official version ``version``, or the most recent one when None."""
    query = select(Release).where(Release.kind == "official")
    if version is not None:
        return session.scalars(query.where(Release.version == version)).one_or_none()
    releases = list(session.scalars(query))
    return max(releases, key=lambda r: version_key(r.version), default=None)


def read_build_input(session: Session, *, version: str, labels: str = DEFAULT_LABELS) -> BuildInput:
    """Everything a build of ``version`` reads, with the digest of it.

    Deleted faces are not read (they leave the release, and show in the diff against the
    previous one); faces without a usable crop are read, so the build can list them as left
    out with their reason. ``labels`` is ``expert`` (reviewers' labels are not read) or
    ``expert+reviewed``; machine suggestions are never read (see :mod:`.reviewed`).
    """
    sources = read_review_sources(session)
    # The upstream record (tags, faces.csv meta columns) is the experts' view; the classes
    # follow the chosen label set. Both are the one rule over the sources each reads.
    expert = _current_annotations(session, _dropped(sources, DEFAULT_LABELS))
    chosen = check_labels(labels)
    classes = (
        expert
        if chosen == DEFAULT_LABELS
        else _current_annotations(session, _dropped(sources, chosen))
    )
    rows = tuple(_rows(session, expert, classes, sources))
    official = _official_split(session)
    previous = _previous_release(session, version)
    source_time = _source_time(session, labels)
    max_number = session.scalar(select(func.max(Face.file_number)))
    state = _digest(rows, official, previous, source_time)
    return BuildInput(
        rows=rows,
        state=state,
        source_time=source_time,
        max_file_number=-1 if max_number is None else int(max_number),
        official=official,
        previous=previous,
    )


# --- faces ------------------------------------------------------------------------------


#: A current annotation with what ordering and provenance need: (value, asserted at, id, doc).
_Found = tuple[AnnotationValue, dt.datetime, int, str | None]


def _dropped(sources: ReviewSources, labels: str) -> frozenset[int]:
    """Annotation ids a build does not read: suggestions always, reviewers' labels unless
    ``labels`` takes them."""
    dropped = set(sources.suggestions)
    if labels == DEFAULT_LABELS:
        dropped |= sources.reviews.keys()
    return frozenset(dropped)


def _rows(
    session: Session,
    annotations: dict[int, list[_Found]],
    classes: dict[int, list[_Found]],
    sources: ReviewSources,
) -> Iterable[SampleRow]:
    curation = aliased(Document)
    query = (
        select(Face, Work, Canvas, ImageService, Blob, curation.url)
        .outerjoin(Work, Face.work_id == Work.id)
        .outerjoin(Canvas, Face.canvas_id == Canvas.id)
        .outerjoin(ImageService, Face.image_service_id == ImageService.id)
        .outerjoin(Blob, Face.blob_sha256 == Blob.sha256)
        .outerjoin(curation, Face.curation_document_id == curation.id)
        .where(Face.deleted.is_(False))
        .order_by(Face.key)
    )
    for face, work, canvas, service, blob, curation_url in session.execute(query):
        found = annotations.get(face.id, [])
        labelled = classes.get(face.id, [])
        # The upstream record: a reviewer's label shows in gender/status and its source
        # columns, not among the tags (original_tags.txt, meta_*, annotations).
        values = _dedupe(value for value, _at, _row_id, _doc in found)
        first_doc = min(((row_id, doc) for _v, _at, row_id, doc in found if doc), default=None)
        yield SampleRow(
            face_id=face.id,
            key=face.key,
            file_number=face.file_number,
            holder=_first(values, ("所蔵",)) or (work.holder if work else None),
            record_id=_first(values, (*RECORD_ID_KEYS, "原典ID"))
            or (work.record_id if work else None),
            work_key=work.key if work else None,
            work_label=_first(values, ("原典",)) or (work.label if work else None),
            manifest_url=work.manifest_url if work else None,
            license=work.license if work else None,
            attribution=work.attribution if work else None,
            canvas_uri=canvas.uri if canvas else None,
            canvas_label=canvas.label if canvas else None,
            canvas_position=canvas.position if canvas else None,
            member_uri=face.member_uri,
            range_id=face.range_id,
            range_label=face.range_label,
            region=_region(face),
            square=Box(x=face.square_x, y=face.square_y, w=face.square_w, h=face.square_h),
            key_square=parse_key_square(face.key),
            service_url=service.base_url if service else None,
            service_key=service.key if service else None,
            api_version=service.api_version if service else None,
            level=service.level if service else None,
            source_document=curation_url or (first_doc[1] if first_doc else None),
            blob_sha256=blob.sha256 if blob else None,
            blob_path=blob.path if blob else None,
            blob_width=blob.width if blob else None,
            blob_height=blob.height if blob else None,
            crop_url=blob.request_url if blob else None,
            crop_status=face.crop_status,
            crop_error=face.crop_error,
            annotations=values,
            gender=_label(labelled, "gender"),
            status=_label(labelled, "status"),
            gender_source=_source(labelled, "gender", sources),
            status_source=_source(labelled, "status", sources),
        )


def _region(face: Face) -> Box | None:
    parts = (face.region_x, face.region_y, face.region_w, face.region_h)
    if any(part is None for part in parts):
        return None
    x, y, w, h = (int(part) for part in parts if part is not None)
    return Box(x=x, y=y, w=w, h=h)


def _dedupe(values: Iterable[AnnotationValue]) -> tuple[AnnotationValue, ...]:
    """The current labels in the official order (label, then value), whatever was harvested
    first; the one rule already kept one copy of each value."""
    unique = {(v.label, v.raw_value, v.agent, v.position): v for v in values}
    return tuple(sorted(unique.values(), key=lambda v: (v.label, v.raw_value, v.agent, v.position)))


def _first(values: tuple[AnnotationValue, ...], labels: tuple[str, ...]) -> str | None:
    """The first current non-empty human value of ``labels``, in (label, position) order."""
    for label in labels:
        for value in sorted(values, key=lambda v: v.position):
            if value.label == label and value.agent == "human" and value.value:
                return value.value
    return None


def _chosen(found: list[_Found], category: str) -> tuple[AnnotationValue, int] | None:
    """The current human value of 性別 or 身分 (by the one rule), with its annotation id."""
    key = category_key(category)
    candidates = [(v, row_id) for v, _at, row_id, _doc in found if v.label == key]
    candidates = [c for c in candidates if c[0].agent == "human"]
    if not candidates:
        return None
    return min(candidates, key=lambda c: c[0].position)


def _label(found: list[_Found], category: str) -> int | None:
    """The class index of the current 性別 or 身分 (see :mod:`kaokore.db.truth`).

    Per label one source wins (human before machine, then the newest assertion): the
    experts' latest word, or, with ``--labels expert+reviewed``, a reviewer's later one. A
    label only a machine states gives no class: ``labels.csv`` holds human labels.
    """
    chosen = _chosen(found, category)
    return None if chosen is None else class_index(category, chosen[0].value)


def _source(found: list[_Found], category: str, sources: ReviewSources) -> LabelSource | None:
    """Where the label :func:`_label` picked came from (None when there is no label)."""
    chosen = _chosen(found, category)
    if chosen is None or class_index(category, chosen[0].value) is None:
        return None
    return sources.reviews.get(chosen[1], EXPERT)


def _current_annotations(session: Session, dropped: frozenset[int]) -> dict[int, list[_Found]]:
    """Every face's current labels by the one rule, over the sources the build reads.

    ``current_labels`` holds the rule's answer over every source; for the few faces with an
    annotation the build leaves out (a suggestion, or a reviewer's label in an expert-only
    build) the same rule is applied again without it (:func:`kaokore.db.truth.current_labels`).
    """
    query = (
        select(
            CurrentLabel.face_id,
            CurrentLabel.label,
            CurrentLabel.value,
            CurrentLabel.raw_value,
            CurrentLabel.agent,
            CurrentLabel.position,
            CurrentLabel.asserted_at,
            CurrentLabel.annotation_id,
            Document.url,
        )
        .join(Face, CurrentLabel.face_id == Face.id)
        .outerjoin(Document, CurrentLabel.document_id == Document.id)
        .where(Face.deleted.is_(False))
        .order_by(CurrentLabel.face_id, CurrentLabel.label, CurrentLabel.position)
    )
    found: dict[int, list[_Found]] = defaultdict(list)
    for face_id, label, value, raw, agent, position, at, row_id, doc_url in session.execute(query):
        found[face_id].append(
            (
                AnnotationValue(
                    label=label, value=value, raw_value=raw, agent=agent, position=position
                ),
                at,
                row_id,
                doc_url,
            )
        )
    if not dropped:
        return found
    ids = sorted(dropped)
    affected: set[int] = set()
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        affected.update(session.scalars(select(Annotation.face_id).where(Annotation.id.in_(chunk))))
    urls = {doc_id: url for doc_id, url in session.execute(select(Document.id, Document.url))}
    claims = claims_of(session.connection(), sorted(affected))
    for face_id, face_claims in claims.items():
        if face_id not in found and not face_claims:
            continue
        kept = [claim for claim in face_claims if claim.annotation_id not in dropped]
        found[face_id] = [
            (
                AnnotationValue(
                    label=current.label,
                    value=current.claim.value,
                    raw_value=current.claim.raw_value,
                    agent=current.claim.agent,
                    position=current.position,
                ),
                current.claim.asserted_at,
                current.claim.annotation_id,
                urls.get(current.claim.document_id) if current.claim.document_id else None,
            )
            for current in current_labels(kept)
        ]
    return found


# --- releases -----------------------------------------------------------------------------


def _official_split(session: Session) -> OfficialSplit | None:
    release = official_release(session)
    if release is None:
        return None
    sets: dict[int, str] = {}
    query = (
        select(ReleaseMember.face_id, ReleaseMember.split)
        .where(
            ReleaseMember.release_id == release.id,
            ReleaseMember.face_id.is_not(None),
            ReleaseMember.split.is_not(None),
        )
        .order_by(ReleaseMember.file_name)
    )
    for face_id, split in session.execute(query):
        if face_id is not None and split is not None:
            sets.setdefault(face_id, split)
    return OfficialSplit(version=release.version, sets=sets)


def _previous_release(session: Session, version: str) -> PreviousRelease | None:
    """The built release with the highest version below ``version``.

    Chosen by version, not by build date, so rebuilding 1.0 after 1.1 exists compares with
    what 1.0 compared with the first time (and gives the same bytes). Releases made with
    ``--like-official`` use another numbering and are not part of the chain.
    """
    own = version_key(version)
    candidates = [
        release
        for release in session.scalars(select(Release).where(Release.kind == "built"))
        if version_key(release.version) < own
        and not (release.options_json or {}).get("like_official")
    ]
    if not candidates:
        return None
    release = max(candidates, key=lambda r: version_key(r.version))
    query = (
        select(ReleaseMember, Face.key)
        .outerjoin(Face, ReleaseMember.face_id == Face.id)
        .where(ReleaseMember.release_id == release.id)
        .order_by(ReleaseMember.file_name)
    )
    members = tuple(
        PreviousMember(
            face_id=member.face_id,
            face_key=face_key,
            image=member.file_name,
            split=member.split,
            gender=member.gender,
            status=member.status,
        )
        for member, face_key in session.execute(query)
    )
    return PreviousRelease(version=release.version, checksum=release.checksum, members=members)


# --- state --------------------------------------------------------------------------------


def _source_time(session: Session, labels: str = DEFAULT_LABELS) -> dt.datetime:
    """The newest change to the faces, their annotations and their stored crops.

    ``last_seen`` is left out on purpose: a re-harvest that finds nothing new touches it,
    and must not turn an unchanged database into a "changed" one. So are the annotations a
    build with ``labels`` does not read (suggestions; reviews in an expert-only build): a
    suggestion or a review leaves an expert-only release unchanged, to the byte.
    """
    unread = [exists().where(Suggestion.annotation_id == Annotation.id)]
    if labels == DEFAULT_LABELS:
        unread.append(exists().where(Review.annotation_id == Annotation.id))
    read = ~or_(*unread)
    moments = [
        session.scalar(select(func.max(Face.first_seen))),
        session.scalar(select(func.max(Face.deleted_at))),
        session.scalar(select(func.max(Annotation.asserted_at)).where(read)),
        session.scalar(select(func.max(Annotation.retracted_at)).where(read)),
        session.scalar(select(func.max(Blob.created_at))),
    ]
    known = [_aware(moment) for moment in moments if moment is not None]
    return max(known, default=EPOCH).replace(microsecond=0)


def _aware(moment: dt.datetime) -> dt.datetime:
    # Aggregates bypass the UTCDateTime decorator on SQLite and come back naive (UTC).
    if isinstance(moment, str):  # pragma: no cover - some SQLite builds return text
        moment = dt.datetime.fromisoformat(moment)
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _canonical(value: Any) -> Any:
    """A JSON-ready copy of a record: dataclasses as field lists (faster than ``asdict``)."""
    if isinstance(value, Box):
        return [value.x, value.y, value.w, value.h]
    if isinstance(value, AnnotationValue):
        return [value.label, value.value, value.raw_value, value.agent, value.position]
    if isinstance(value, LabelSource):
        return [value.kind, value.reviewer, value.decision, value.suggestion]
    if isinstance(value, tuple):
        return [_canonical(item) for item in value]
    return value


_DIGEST_FIELDS = tuple(f.name for f in fields(SampleRow) if f.name != "file_number")


def _digest(
    rows: tuple[SampleRow, ...],
    official: OfficialSplit | None,
    previous: PreviousRelease | None,
    source_time: dt.datetime,
) -> str:
    """sha256 of everything read but the file numbers (see :class:`BuildInput`)."""
    digest = hashlib.sha256()

    def feed(obj: Any) -> None:
        digest.update(json.dumps(obj, ensure_ascii=False, sort_keys=True).encode())
        digest.update(b"\n")

    feed({"source_time": source_time.isoformat(), "fields": _DIGEST_FIELDS})
    for row in rows:
        feed([_canonical(getattr(row, name)) for name in _DIGEST_FIELDS])
    if official is not None:
        feed({"official": official.version, "sets": sorted(official.sets.items())})
    if previous is not None:
        feed({"previous": previous.version, "checksum": previous.checksum})
    return digest.hexdigest()
