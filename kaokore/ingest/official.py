"""The official KaoKore distribution (versions 1.0 to 1.3) as a source of faces and releases.

An official folder holds ``urls.txt`` (one Image API URL per face; line *i*, 0-based, is file
``%08d.jpg`` % *i*; blank lines keep their number), ``original_tags.txt``
(``NNNNNNNN.jpg:key=value;key=value;...``, keys may repeat), ``labels.csv``
(``image,gender,status,set``, in the official shuffled order) and the label names
(``labels.metadata.{en,ja}.txt``).

Split by job, each module one of them:

* :mod:`kaokore.ingest.official_files`: reading the files (:func:`read_official`, pure);
* :mod:`kaokore.ingest.official_defects`: finding the known defects (:func:`find_defects`);
* :mod:`kaokore.ingest.official_tags`: normalising tags into annotations and works;
* this module: importing a version into the database, through the one write path of
  :mod:`kaokore.db` (labels by :func:`kaokore.db.bulk.sync_labels`, the version's rank among
  the dataset's versions by :func:`kaokore.db.writer.new_dataset_version`).

In detail:

* :func:`read_official` is a pure reader. A malformed line (a broken URL, a tag line without
  ``:``, a pair without ``=``, an unknown label, a label row that names no number) becomes a
  :class:`Finding` with the file, the 1-based line and the reason, and is left out; the rest
  is read. :func:`find_defects` names the known defects of well-formed files (labels on blank
  url lines, negative regions, duplicated crops, record ids that disagree with the image
  path, ...). Both kinds are reported; neither stops an import.
* :func:`import_official` writes one version into the database in one transaction.
  Importing the same folder twice changes nothing. A face is identified by its face key
  (:func:`kaokore.ingest.identity.face_key`: the service path and the square, whatever the
  scheme, the host or the size suffix), so the same crop from two versions, or from a version
  and a curation, is one face. Rows are written in bulk with keys preloaded into dicts:
  importing 9,683 faces takes seconds.

What is stored, and why:

* ``Source(kind='official', url=<absolute folder>)`` and one ``Document(kind='official_file',
  url=<file:// URL of original_tags.txt>)`` per version, which asserts that version's tags:
  each version keeps its own assertions, and a changed file retracts only its own.
* ``Face.square_*`` is the region exactly as the URL gives it, negative coordinates kept: the
  image size is unknown here, and the face key is built from the same unclamped square. A
  later harvest that learns the image size may clamp ``square_*``; the key never changes.
* ``Release(kind='official', version=...)`` with one ``ReleaseMember`` per urls.txt line,
  blank lines included (``face_id`` null). Members are inserted labelled rows first, in the
  order of ``labels.csv``, then the other lines by number, so the autoincrement id keeps the
  official shuffled order of ``labels.csv`` and the file name keeps the numbering.
* ``Release.options_json`` holds what the schema has no column for (the typed record
  :class:`kaokore.db.release_layout.OfficialLayoutOptions` in its JSON form), for
  :func:`kaokore.compiler.official.official_layout` to rebuild the files byte for byte::

      {"folder": str, "document_url": str, "labels_header": "image,gender,status,set",
       "urls": {"count": lines of urls.txt,
                "origins": {stored origin: origin this version used},
                "size": most common size, "sizes": {origin: size where it differs},
                "tail": "0/default.jpg", "lines": {file name: full URL when not rebuilt}},
       "tags": {"lines": {file name: raw line when not rebuilt}, "missing": [file names]}}

  A ``lines`` entry is written only for a line whose text the rules would not rebuild (an
  ``http`` line among ``https`` ones, tags on a blank url line, a duplicated crop whose tags
  differ, a broken URL), so the JSON stays small. The schema has no per-member column for
  the requested size; a ``ReleaseMember.size`` would replace the per-origin size rule.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from kaokore.box import Box
from kaokore.db.bulk import sync_labels
from kaokore.db.current import OFFICIAL_DATASET
from kaokore.db.models import (
    Annotation,
    Document,
    Face,
    ImageService,
    Release,
    ReleaseMember,
    Source,
    Work,
    utcnow,
)
from kaokore.db.records import Assertion
from kaokore.db.session import Database
from kaokore.db.writer import new_dataset_version

__all__ = [
    "Finding",
    "OfficialImportReport",
    "OfficialVersion",
    "TagLine",
    "TagPair",
    "UrlLine",
    "assertions_of",
    "find_defects",
    "import_official",
    "import_official_version",
    "read_official",
    "record_of",
    "version_of_folder",
    "work_of",
]

from kaokore.db.release_layout import OfficialLayoutOptions, TagRules, UrlRules, split_origin
from kaokore.ingest.defects import record_file_findings
from kaokore.ingest.official_defects import find_defects
from kaokore.ingest.official_files import (
    Finding,
    OfficialVersion,
    TagLine,
    TagPair,
    UrlLine,
    read_official,
    version_of_folder,
)
from kaokore.ingest.official_tags import assertions_of, record_of, work_of
from kaokore.release.layout import OFFICIAL_FILES, SETS, TAGS_FILE, image_name

#: SQLite accepts 32,766 bound parameters; stay far below for IN lists.
_CHUNK: Final = 900

# --- importing -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OfficialImportReport:
    """What importing one official version found and changed."""

    version: str
    folder: Path
    #: Lines of urls.txt, blank ones included (the numbering).
    lines: int
    #: Lines that name a face (not blank, not broken).
    faces_with_urls: int
    #: Distinct faces among them (duplicated crops counted once).
    distinct_faces: int
    new_faces: int
    matched_faces: int
    labelled: int
    labelled_by_set: Mapping[str, int]
    #: ``{"gender": {0: n, 1: n}, "status": {0: n, ...}}`` over the labelled rows.
    labelled_by_label: Mapping[str, Mapping[int, int]]
    annotations_added: int
    annotations_retracted: int
    members: int
    #: Whether anything in the database changed.
    changed: bool
    errors: tuple[Finding, ...] = ()
    warnings: tuple[Finding, ...] = ()
    seconds: float = 0.0

    def warnings_of(self, code: str) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.warnings if finding.code == code)


def import_official(
    database: Database,
    folder: Path,
    *,
    version: str | None = None,
    now: dt.datetime | None = None,
) -> OfficialImportReport:
    """Read ``folder`` and import it in one transaction (see :func:`import_official_version`).

    The known defects of its files (:func:`find_defects`) are recorded in the same
    transaction, so ``kaokore db status --defects`` lists them however the import was run.
    """
    official = read_official(folder, version=version)
    with database.session() as session:
        report = import_official_version(session, official, now=now)
        record_file_findings(
            session,
            ((f.path, f.line, f.code, f.reason) for f in report.warnings),
            [str(report.folder / name) for name in OFFICIAL_FILES],
        )
        return report


def import_official_version(
    session: Session, official: OfficialVersion, *, now: dt.datetime | None = None
) -> OfficialImportReport:
    """Write ``official`` into the database through ``session``; idempotent.

    Records the source and the version's document, the image services, the works, one face
    per distinct face key (matched with what the database has), the tags as annotations of
    the version's document, and the release with one member per line.
    """
    started = dt.datetime.now(dt.UTC)
    now = now or utcnow()
    plan = _plan(official)
    source, document, created = _source_and_document(session, official, now)
    services = _ensure_services(session, plan.services)
    works = _ensure_works(session, plan.works)
    faces, new_faces, faces_changed = _ensure_faces(session, plan, services, works, now)
    added, retracted = _sync_tags(session, plan, faces, document, now)
    _touched, gone = new_dataset_version(
        session,
        document.id,
        dataset=OFFICIAL_DATASET,
        version=official.version,
        listed=faces.values(),
        now=now,
    )
    options = _release_options(official, plan, services, document).to_json()
    members = _member_rows(official, plan, faces)
    release_changed = _sync_release(session, official, members, options, now)
    changed = created or faces_changed or bool(added or retracted or gone) or release_changed
    if changed:
        source.last_synced_at = now
    session.flush()
    by_set = Counter(row.set for row in official.labels)
    return OfficialImportReport(
        version=official.version,
        folder=official.folder,
        lines=len(official.urls),
        faces_with_urls=official.faces_with_urls,
        distinct_faces=len(plan.faces),
        new_faces=new_faces,
        matched_faces=len(plan.faces) - new_faces,
        labelled=len(official.labels),
        labelled_by_set={split: by_set.get(split, 0) for split in SETS},
        labelled_by_label={
            "gender": dict(sorted(Counter(row.gender for row in official.labels).items())),
            "status": dict(sorted(Counter(row.status for row in official.labels).items())),
        },
        annotations_added=added,
        annotations_retracted=retracted,
        members=len(members),
        changed=changed,
        errors=official.errors,
        warnings=find_defects(official),
        seconds=(dt.datetime.now(dt.UTC) - started).total_seconds(),
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class _FacePlan:
    key: str
    service_key: str
    region: Box
    work_key: str | None
    assertions: tuple[Assertion, ...] | None


@dataclass(kw_only=True)
class _Plan:
    """What the version asks of the database, worked out before touching it."""

    #: Face key -> face, in order of first appearance.
    faces: dict[str, _FacePlan] = field(default_factory=dict)
    #: Service key -> the service URL first seen for it.
    services: dict[str, str] = field(default_factory=dict)
    #: Work key -> (holder, record id, title).
    works: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)
    #: File number -> face key (non-blank, unbroken lines).
    line_faces: dict[int, str] = field(default_factory=dict)
    #: Tag lines not rebuilt from a face's annotations, and url lines without tags.
    tag_overrides: dict[str, str] = field(default_factory=dict)
    missing_tags: list[str] = field(default_factory=list)


def _plan(official: OfficialVersion) -> _Plan:
    plan = _Plan()
    tags = official.tags_by_number()
    for line in official.urls:
        key, region, skey = line.face_key, line.region, line.service_key
        if key is None or region is None or skey is None or line.request is None:
            continue
        plan.line_faces[line.number] = key
        tag = tags.get(line.number)
        known = plan.faces.get(key)
        assertions = known.assertions if known is not None else _assertions_or_none(tag)
        _plan_tags(plan, line, tag, assertions)
        if known is not None:
            continue
        plan.services.setdefault(skey, line.request.service_url)
        work = work_of(tag) if tag is not None else None
        if work is not None:
            plan.works.setdefault(work[0], work[1:])
        plan.faces[key] = _FacePlan(
            key=key,
            service_key=skey,
            region=region,
            work_key=work[0] if work is not None else None,
            assertions=assertions,
        )
    for tag in official.tags:
        if tag.number not in plan.line_faces:
            plan.tag_overrides[image_name(tag.number)] = tag.text
    return plan


def _assertions_or_none(tag: TagLine | None) -> tuple[Assertion, ...] | None:
    return assertions_of(tag) if tag is not None else None


def _plan_tags(
    plan: _Plan, line: UrlLine, tag: TagLine | None, assertions: tuple[Assertion, ...] | None
) -> None:
    """Note the lines whose tags the compiler cannot rebuild from the face's annotations.

    ``assertions`` are those of the face's first line: a duplicated crop whose tags differ
    keeps its own text here.
    """
    if tag is None:
        plan.missing_tags.append(line.file_name)
        return
    if assertions is None or _render_tags(line.file_name, assertions) != tag.text:
        plan.tag_overrides[line.file_name] = tag.text


def _render_tags(file_name: str, assertions: Iterable[Assertion]) -> str:
    """A tag line as the compiler writes it: pairs sorted by key, then position."""
    ordered = sorted(assertions, key=lambda a: (a.label, a.position))
    return f"{file_name}:" + ";".join(f"{a.label}={a.raw_value}" for a in ordered)


def _source_and_document(
    session: Session, official: OfficialVersion, now: dt.datetime
) -> tuple[Source, Document, bool]:
    """The source (the folder) and the version's document; True when either is new or changed."""
    folder = str(official.folder)
    source = session.scalars(select(Source).where(Source.url == folder)).one_or_none()
    created = source is None
    if source is None:
        source = Source(kind="official", url=folder, label=f"KaoKore {official.version}")
        session.add(source)
        session.flush()
    url = (official.folder / TAGS_FILE).as_uri()
    digest = hashlib.sha256((official.folder / TAGS_FILE).read_bytes()).hexdigest()
    document = session.scalars(select(Document).where(Document.url == url)).one_or_none()
    if document is None:
        document = Document(url=url, kind="official_file", source_id=source.id, status="ok")
        session.add(document)
        created = True
    if document.content_sha256 != digest:
        document.content_sha256, document.fetched_at = digest, now
        created = True
    session.flush()
    return source, document, created


def _table(model: type[Any]) -> Table:
    """The Core table of a mapped class: bulk inserts skip the ORM's per-row bookkeeping."""
    return cast(Table, model.__table__)


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _ensure_services(session: Session, wanted: Mapping[str, str]) -> dict[str, tuple[int, str]]:
    """Service key -> (id, stored base_url); services new to the database are inserted."""
    keys = list(wanted)
    found: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(keys):
        query = select(ImageService.key, ImageService.id, ImageService.base_url)
        for key, id_, base in session.execute(query.where(ImageService.key.in_(chunk))):
            found[key] = (id_, base)
    missing = [{"key": key, "base_url": wanted[key]} for key in keys if key not in found]
    if missing:
        session.execute(insert(_table(ImageService)), missing)
        return _ensure_services(session, wanted)
    return found


def _ensure_works(
    session: Session, wanted: Mapping[str, tuple[str, str, str | None]]
) -> dict[str, int]:
    """Work key -> id; works new to the database are inserted (existing ones are kept as is)."""
    keys = list(wanted)
    found: dict[str, int] = {}
    for chunk in _chunks(keys):
        for key, id_ in session.execute(select(Work.key, Work.id).where(Work.key.in_(chunk))):
            found[key] = id_
    missing = [
        {"key": key, "holder": holder, "record_id": record, "label": title, "label_lang": "ja"}
        for key, (holder, record, title) in wanted.items()
        if key not in found
    ]
    if missing:
        session.execute(insert(_table(Work)), missing)
        return _ensure_works(session, wanted)
    return found


def _ensure_faces(
    session: Session,
    plan: _Plan,
    services: Mapping[str, tuple[int, str]],
    works: Mapping[str, int],
    now: dt.datetime,
) -> tuple[dict[str, int], int, bool]:
    """Face key -> id, how many faces were new, and whether any row changed.

    Existing faces keep what they have (a curation knows more); only a missing image service
    or work is filled in.
    """
    existing = _face_rows(session, list(plan.faces))
    fills = [
        {"id": id_, **fill}
        for key, (id_, service_id, work_id) in existing.items()
        if (fill := _missing_links(plan.faces[key], service_id, work_id, services, works))
    ]
    if fills:
        session.execute(update(Face), fills)
    new = [
        _new_face(face, services, works, now)
        for key, face in plan.faces.items()
        if key not in existing
    ]
    if new:
        session.execute(insert(_table(Face)), new)
        existing = _face_rows(session, list(plan.faces))
    return {key: row[0] for key, row in existing.items()}, len(new), bool(new or fills)


def _face_rows(session: Session, keys: list[str]) -> dict[str, tuple[int, int | None, int | None]]:
    rows: dict[str, tuple[int, int | None, int | None]] = {}
    query = select(Face.key, Face.id, Face.image_service_id, Face.work_id)
    for chunk in _chunks(keys):
        for key, id_, service_id, work_id in session.execute(query.where(Face.key.in_(chunk))):
            rows[key] = (id_, service_id, work_id)
    return rows


def _missing_links(
    face: _FacePlan,
    service_id: int | None,
    work_id: int | None,
    services: Mapping[str, tuple[int, str]],
    works: Mapping[str, int],
) -> dict[str, int]:
    fill: dict[str, int] = {}
    if service_id is None:
        fill["image_service_id"] = services[face.service_key][0]
    if work_id is None and face.work_key is not None:
        fill["work_id"] = works[face.work_key]
    return fill


def _new_face(
    face: _FacePlan,
    services: Mapping[str, tuple[int, str]],
    works: Mapping[str, int],
    now: dt.datetime,
) -> dict[str, Any]:
    return {
        "key": face.key,
        "image_service_id": services[face.service_key][0],
        "work_id": works[face.work_key] if face.work_key is not None else None,
        "square_x": face.region.x,
        "square_y": face.region.y,
        "square_w": face.region.w,
        "square_h": face.region.h,
        "crop_status": "pending",
        "deleted": False,
        "first_seen": now,
        "last_seen": now,
    }


def _sync_tags(
    session: Session,
    plan: _Plan,
    faces: Mapping[str, int],
    document: Document,
    now: dt.datetime,
) -> tuple[int, int]:
    """Make the document's current annotations equal the version's tags; (added, retracted).

    Through the one write path (:func:`kaokore.db.bulk.sync_labels`): unchanged tags cost
    nothing, changed ones are retracted and added, and faces the document no longer lists
    lose its annotations.
    """
    session.flush()
    connection = session.connection()
    wanted: dict[int, tuple[Assertion, ...]] = {
        faces[key]: face.assertions
        for key, face in plan.faces.items()
        if face.assertions is not None
    }
    listed = set(
        connection.scalars(
            select(Annotation.face_id)
            .where(Annotation.document_id == document.id, Annotation.retracted_at.is_(None))
            .distinct()
        )
    )
    wanted.update({face_id: () for face_id in listed - set(wanted)})
    added, retracted, _changed = sync_labels(connection, document.id, wanted, now)
    return added, retracted


def _release_options(
    official: OfficialVersion,
    plan: _Plan,
    services: Mapping[str, tuple[int, str]],
    document: Document,
) -> OfficialLayoutOptions:
    """What the compiler needs beyond the rows to rebuild the files byte for byte."""
    return OfficialLayoutOptions(
        folder=str(official.folder),
        document_url=document.url,
        labels_header=official.labels_header,
        urls=_url_rules(official, plan, services),
        tags=TagRules(
            lines=dict(sorted(plan.tag_overrides.items())), missing=tuple(plan.missing_tags)
        ),
    )


def _url_rules(
    official: OfficialVersion, plan: _Plan, services: Mapping[str, tuple[int, str]]
) -> UrlRules:
    """The version's URL rules (origin per stored origin, size per origin) and exceptions.

    The most common choice is the rule; a line the rules do not rebuild keeps its full URL.
    """
    lines = [
        (line, request, services[plan.faces[key].service_key][1])
        for line in official.urls
        if (key := plan.line_faces.get(line.number)) is not None
        and (request := line.request) is not None
    ]
    origin_votes: dict[str, Counter[str]] = {}
    size_votes: dict[str, Counter[str]] = {}
    tails: Counter[str] = Counter()
    for _line, request, base_url in lines:
        origin = split_origin(request.service_url)[0]
        origin_votes.setdefault(split_origin(base_url)[0], Counter())[origin] += 1
        size_votes.setdefault(origin, Counter())[request.size] += 1
        tails[f"{request.rotation}/{request.quality}.{request.format}"] += 1
    all_sizes = sum(size_votes.values(), Counter[str]())
    size = all_sizes.most_common(1)[0][0] if all_sizes else "256,256"
    rules = UrlRules(
        count=len(official.urls),
        origins={
            stored: votes.most_common(1)[0][0]
            for stored, votes in sorted(origin_votes.items())
            if votes.most_common(1)[0][0] != stored
        },
        size=size,
        sizes={
            origin: votes.most_common(1)[0][0]
            for origin, votes in sorted(size_votes.items())
            if votes.most_common(1)[0][0] != size
        },
        tail=tails.most_common(1)[0][0] if tails else "0/default.jpg",
    )
    rebuilt = {
        line.number: rules.url(base_url, plan.faces[plan.line_faces[line.number]].region.iiif)
        for line, _request, base_url in lines
    }
    exceptions = {
        line.file_name: line.text
        for line in official.urls
        if rebuilt.get(line.number, "") != line.text
    }
    return dataclasses.replace(rules, lines=exceptions)


_Member = tuple[str, int | None, str | None, int | None, int | None]


def _member_rows(official: OfficialVersion, plan: _Plan, faces: Mapping[str, int]) -> list[_Member]:
    """(file name, face id, set, gender, status) in insert order.

    Labelled rows first, in ``labels.csv`` order (the official shuffle, kept by the
    autoincrement id), then every other number of urls.txt or of the tags, by number.
    """

    def face_of(number: int) -> int | None:
        key = plan.line_faces.get(number)
        return faces[key] if key is not None else None

    rows: list[_Member] = [
        (row.image, face_of(row.number), row.set, row.gender, row.status) for row in official.labels
    ]
    labelled = {row.number for row in official.labels}
    numbers = {line.number for line in official.urls} | {tag.number for tag in official.tags}
    rows += [
        (image_name(number), face_of(number), None, None, None)
        for number in sorted(numbers - labelled)
    ]
    return rows


def _sync_release(
    session: Session,
    official: OfficialVersion,
    members: Sequence[_Member],
    options: dict[str, Any],
    now: dt.datetime,
) -> bool:
    """Make the official release and its members equal ``members``; True when it changed.

    Members of an official release have no history of their own: when any differs, all are
    replaced, so the id order stays the ``labels.csv`` order.
    """
    release = session.scalars(
        select(Release).where(Release.kind == "official", Release.version == official.version)
    ).one_or_none()
    counts = _counts(official)
    if release is None:
        release = Release(kind="official", version=official.version, built_at=now)
        session.add(release)
    changed = release.id is None
    if release.options_json != options or release.counts_json != counts:
        release.options_json, release.counts_json = options, counts
        release.path = str(official.folder)
        changed = True
    session.flush()
    query = (
        select(
            ReleaseMember.file_name,
            ReleaseMember.face_id,
            ReleaseMember.split,
            ReleaseMember.gender,
            ReleaseMember.status,
        )
        .where(ReleaseMember.release_id == release.id)
        .order_by(ReleaseMember.id)
    )
    have = [tuple(row) for row in session.execute(query)]
    if have == list(members):
        return changed
    session.execute(delete(ReleaseMember).where(ReleaseMember.release_id == release.id))
    session.execute(
        insert(_table(ReleaseMember)),
        [
            {
                "release_id": release.id,
                "file_name": name,
                "face_id": face_id,
                "split": split,
                "gender": gender,
                "status": status,
            }
            for name, face_id, split, gender, status in members
        ],
    )
    return True


def _counts(official: OfficialVersion) -> dict[str, Any]:
    """The version's counts as JSON (string keys), for ``kaokore releases`` and the like."""
    by_set = Counter(row.set for row in official.labels)
    return {
        "lines": len(official.urls),
        "faces_with_urls": official.faces_with_urls,
        "labelled": len(official.labels),
        "labelled_by_set": {split: by_set.get(split, 0) for split in SETS},
        "gender": _by_class(row.gender for row in official.labels),
        "status": _by_class(row.status for row in official.labels),
    }


def _by_class(indices: Iterable[int]) -> dict[str, int]:
    return {str(index): count for index, count in sorted(Counter(indices).items())}
