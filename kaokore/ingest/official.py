"""The official KaoKore distribution (versions 1.0 to 1.3) as a source of faces and releases.

An official folder holds ``urls.txt`` (one Image API URL per face; line *i*, 0-based, is file
``%08d.jpg`` % *i*; blank lines keep their number), ``original_tags.txt``
(``NNNNNNNN.jpg:key=value;key=value;...``, keys may repeat), ``labels.csv``
(``image,gender,status,set``, in the official shuffled order) and the label names
(``labels.metadata.{en,ja}.txt``).

Two halves, as elsewhere in ``ingest/``:

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
* ``Release.options_json`` holds what the schema has no column for, for
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

import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

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
from kaokore.db.repository import Assertion, sync_annotations
from kaokore.db.session import Database
from kaokore.errors import ImportFileError, UsageError
from kaokore.ingest.curation import normalise_value
from kaokore.ingest.identity import face_key, service_key, split_image_url
from kaokore.ingest.records import ImageRequest, Region
from kaokore.vocab import GENDER_CLASSES, RECORD_ID_KEYS, STATUS_CLASSES, class_index

__all__ = [
    "LABELS_HEADER",
    "OFFICIAL_FILES",
    "SPLITS",
    "Finding",
    "LabelRow",
    "OfficialImportReport",
    "OfficialVersion",
    "TagLine",
    "TagPair",
    "UrlLine",
    "find_defects",
    "import_official",
    "import_official_version",
    "read_official",
    "version_of_folder",
]

URLS: Final = "urls.txt"
TAGS: Final = "original_tags.txt"
LABELS: Final = "labels.csv"
METADATA_EN: Final = "labels.metadata.en.txt"
METADATA_JA: Final = "labels.metadata.ja.txt"
#: The files an official folder must hold.
OFFICIAL_FILES: Final = (URLS, TAGS, LABELS, METADATA_EN, METADATA_JA)
LABELS_HEADER: Final = "image,gender,status,set"
#: The official splits, in the order reports list them.
SPLITS: Final = ("train", "dev", "test")

_FILE_NAME: Final = re.compile(r"^(\d+)\.jpg$")
_VERSION: Final = re.compile(r"^v?(\d+(?:\.\d+)*)$")
_HOLDER: Final = "所蔵"
_TITLE: Final = "原典"
#: The record id key of versions 1.0 to 1.2, before each holder got its own key.
_OLD_RECORD_KEY: Final = "原典ID"
_KEIO: Final = "慶應義塾大学"
#: SQLite accepts 32,766 bound parameters; stay far below for IN lists.
_CHUNK: Final = 900

FindingKind = Literal["malformed", "defect"]


# --- what the reader returns -------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Finding:
    """A malformed line (left out) or a known defect (imported anyway) of an official file.

    ``code`` names the kind for programs (``broken_url``, ``label_on_blank_line``, ...);
    ``str()`` gives the ``path:line: reason`` text of :class:`ImportFileError`.
    """

    path: str
    line: int | None
    reason: str
    code: str
    kind: FindingKind

    def __str__(self) -> str:
        return str(self.as_error())

    def as_error(self) -> ImportFileError:
        """The finding as the exception the CLI prints for a malformed line."""
        return ImportFileError(self.reason, path=self.path, line=self.line)


@dataclass(frozen=True, kw_only=True, slots=True)
class UrlLine:
    """A line of ``urls.txt``: file ``number`` (0-based), its text and the parsed request.

    ``request``, ``region``, ``service_key`` and ``face_key`` are None for a blank line (a
    gap in the numbering) and for a broken URL.
    """

    number: int
    text: str
    request: ImageRequest | None = None
    region: Region | None = None
    service_key: str | None = None
    face_key: str | None = None

    @property
    def file_name(self) -> str:
        return f"{self.number:08d}.jpg"

    @property
    def blank(self) -> bool:
        return not self.text.strip()


@dataclass(frozen=True, kw_only=True, slots=True)
class TagPair:
    """One ``key=value`` of a tag line; ``position`` counts earlier pairs with this key."""

    key: str
    raw_value: str
    position: int


@dataclass(frozen=True, kw_only=True, slots=True)
class TagLine:
    """A line of ``original_tags.txt``: the file it describes and its pairs, in file order."""

    number: int
    line: int
    text: str
    pairs: tuple[TagPair, ...]

    def first(self, key: str) -> str | None:
        """The first raw value of ``key``, or None."""
        return next((pair.raw_value for pair in self.pairs if pair.key == key), None)


@dataclass(frozen=True, kw_only=True, slots=True)
class LabelRow:
    """A row of ``labels.csv``: file number, class indices and the official set."""

    number: int
    line: int
    gender: int
    status: int
    split: str

    @property
    def file_name(self) -> str:
        return f"{self.number:08d}.jpg"


@dataclass(frozen=True, kw_only=True, slots=True)
class OfficialVersion:
    """Everything an official folder says, and the lines that could not be read."""

    version: str
    folder: Path
    urls: tuple[UrlLine, ...]
    tags: tuple[TagLine, ...]
    labels: tuple[LabelRow, ...]
    labels_header: str
    #: ``{category: ((index, class name), ...)}`` from ``labels.metadata.{en,ja}.txt``.
    metadata_en: Mapping[str, tuple[tuple[int, str], ...]]
    metadata_ja: Mapping[str, tuple[tuple[int, str], ...]]
    #: Malformed lines, each left out of the fields above.
    errors: tuple[Finding, ...]

    @property
    def faces_with_urls(self) -> int:
        """Lines that name a face (neither blank nor broken)."""
        return sum(1 for line in self.urls if line.face_key is not None)

    def tags_by_number(self) -> dict[int, TagLine]:
        return {tag.number: tag for tag in self.tags}

    def path(self, name: str) -> str:
        return str(self.folder / name)


# --- reading -------------------------------------------------------------------------------


def version_of_folder(folder: Path) -> str:
    """``v1.3`` -> ``1.3``; raise UsageError when the folder name is not a version."""
    match = _VERSION.match(folder.name)
    if match is None:
        raise UsageError(
            f"Cannot tell the KaoKore version from the folder name {folder.name!r}: "
            "name it like v1.3 or give the version explicitly."
        )
    return match.group(1)


def read_official(folder: Path, *, version: str | None = None) -> OfficialVersion:
    """Read an official KaoKore folder; malformed lines are reported in ``errors`` and skipped.

    Raises ImportFileError naming the file when one of :data:`OFFICIAL_FILES` is missing or
    is not UTF-8 text.
    """
    version = version if version is not None else version_of_folder(folder)
    folder = folder.resolve()
    texts = {name: _read_lines(folder / name) for name in OFFICIAL_FILES}
    errors: list[Finding] = []
    urls = tuple(_url_lines(str(folder / URLS), texts[URLS], errors))
    tags = tuple(_tag_lines(str(folder / TAGS), texts[TAGS], errors))
    header, labels = _label_rows(str(folder / LABELS), texts[LABELS], errors)
    metadata_en = _metadata(str(folder / METADATA_EN), texts[METADATA_EN], errors)
    metadata_ja = _metadata(str(folder / METADATA_JA), texts[METADATA_JA], errors)
    return OfficialVersion(
        version=version,
        folder=folder,
        urls=urls,
        tags=tags,
        labels=labels,
        labels_header=header,
        metadata_en=metadata_en,
        metadata_ja=metadata_ja,
        errors=tuple(errors),
    )


def _read_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 file, without line ends (LF or CRLF) or a byte order mark."""
    if not path.is_file():
        raise ImportFileError(
            f"missing: an official KaoKore folder holds {', '.join(OFFICIAL_FILES)}",
            path=str(path),
        )
    data = path.read_bytes()
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ImportFileError(f"not UTF-8 text ({exc.reason})", path=str(path), line=line) from exc
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def _malformed(path: str, line: int, reason: str, code: str) -> Finding:
    return Finding(path=path, line=line, reason=reason, code=code, kind="malformed")


def _defect(path: str, line: int | None, reason: str, code: str) -> Finding:
    return Finding(path=path, line=line, reason=reason, code=code, kind="defect")


def _url_lines(path: str, lines: list[str], errors: list[Finding]) -> Iterator[UrlLine]:
    services: dict[str, str] = {}  # service URL -> key: a page has many faces
    for number, text in enumerate(lines):
        if not text.strip():
            yield UrlLine(number=number, text=text)
            continue
        try:
            request = split_image_url(text)
            region = request.region_box
            if region is None:
                raise ValueError(f"the region {request.region!r} is not x,y,w,h in pixels")
            key = face_key(request.service_url, region)
            skey = services.get(request.service_url) or service_key(request.service_url)
        except ValueError as exc:
            errors.append(_malformed(path, number + 1, f"broken URL: {exc}", "broken_url"))
            yield UrlLine(number=number, text=text)
            continue
        services[request.service_url] = skey
        yield UrlLine(
            number=number,
            text=text,
            request=request,
            region=region,
            service_key=skey,
            face_key=key,
        )


def _file_number(name: str) -> int | None:
    match = _FILE_NAME.match(name.strip())
    return int(match.group(1)) if match else None


def _tag_lines(path: str, lines: list[str], errors: list[Finding]) -> Iterator[TagLine]:
    seen: dict[int, int] = {}
    for index, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        name, colon, rest = text.partition(":")
        if not colon:
            errors.append(
                _malformed(path, index, "no ':' after the file name", "tag_without_colon")
            )
            continue
        number = _file_number(name)
        if number is None:
            reason = f"{name!r} is not a file name like 00000042.jpg"
            errors.append(_malformed(path, index, reason, "bad_file_name"))
            continue
        if number in seen:
            reason = f"{name} has tags on line {seen[number]} already; this line is left out"
            errors.append(_malformed(path, index, reason, "repeated_tag_line"))
            continue
        seen[number] = index
        pairs = tuple(_pairs(rest, path, index, errors))
        yield TagLine(number=number, line=index, text=text, pairs=pairs)


def _pairs(rest: str, path: str, line: int, errors: list[Finding]) -> Iterator[TagPair]:
    if not rest:
        return
    counts: dict[str, int] = {}
    for item in rest.split(";"):
        key, equals, value = item.partition("=")
        if not equals:
            reason = f"the pair {item!r} has no '='; it is left out"
            errors.append(_malformed(path, line, reason, "pair_without_equals"))
            continue
        position = counts.get(key, 0)
        counts[key] = position + 1
        yield TagPair(key=key, raw_value=value, position=position)


def _label_rows(
    path: str, lines: list[str], errors: list[Finding]
) -> tuple[str, tuple[LabelRow, ...]]:
    if not lines:
        errors.append(_malformed(path, 1, f"empty: expected the header {LABELS_HEADER}", "header"))
        return LABELS_HEADER, ()
    header = lines[0]
    if header.strip() != LABELS_HEADER:
        reason = f"header {header!r} is not {LABELS_HEADER!r}; columns read in that order"
        errors.append(_malformed(path, 1, reason, "header"))
    rows: list[LabelRow] = []
    seen: dict[int, int] = {}
    for index, text in enumerate(lines[1:], start=2):
        if not text.strip():
            continue
        row = _label_row(text, path, index, errors)
        if row is None:
            continue
        if row.number in seen:
            reason = f"{row.file_name} is labelled on line {seen[row.number]} already"
            errors.append(_malformed(path, index, reason, "repeated_label"))
            continue
        seen[row.number] = index
        rows.append(row)
    return header, tuple(rows)


def _label_row(text: str, path: str, line: int, errors: list[Finding]) -> LabelRow | None:
    fields = [part.strip() for part in text.split(",")]
    if len(fields) != 4:
        reason = f"{len(fields)} fields, expected 4 ({LABELS_HEADER})"
        errors.append(_malformed(path, line, reason, "label_fields"))
        return None
    name, gender, status, split = fields
    number = _file_number(name)
    problem = None
    if number is None:
        problem = (f"{name!r} is not a file name like 00000042.jpg", "bad_file_name")
    elif gender not in _indices(GENDER_CLASSES):
        problem = (f"unknown gender {gender!r} (expected {_choices(GENDER_CLASSES)})", "label")
    elif status not in _indices(STATUS_CLASSES):
        problem = (f"unknown status {status!r} (expected {_choices(STATUS_CLASSES)})", "label")
    elif split not in SPLITS:
        problem = (f"unknown set {split!r} (expected one of {', '.join(SPLITS)})", "label")
    if problem is not None or number is None:
        reason, code = problem or ("no file number", "bad_file_name")
        errors.append(_malformed(path, line, reason, code))
        return None
    return LabelRow(number=number, line=line, gender=int(gender), status=int(status), split=split)


def _indices(classes: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    return tuple(str(index) for index in range(len(classes)))


def _choices(classes: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{index} ({en})" for index, (_ja, en) in enumerate(classes))


def _metadata(
    path: str, lines: list[str], errors: list[Finding]
) -> dict[str, tuple[tuple[int, str], ...]]:
    """Read ``name\\tname / count\\tcount / blank / name / \\tindex\\tclass ...`` blocks."""
    categories: dict[str, list[tuple[int, str]]] = {}
    current: list[tuple[int, str]] | None = None
    for index, text in enumerate(lines, start=1):
        if index <= 2 or not text.strip():
            current = None if not text.strip() else current
            continue
        if not text.startswith("\t"):
            current = categories.setdefault(text.strip(), [])
            continue
        parts = text.strip().split("\t")
        if current is None or len(parts) != 2 or not parts[0].isdigit():
            errors.append(_malformed(path, index, f"{text!r} is not '\\tindex\\tname'", "metadata"))
            continue
        current.append((int(parts[0]), parts[1]))
    return {name: tuple(classes) for name, classes in categories.items()}


# --- known defects -------------------------------------------------------------------------


def find_defects(official: OfficialVersion) -> tuple[Finding, ...]:
    """The known defects of well-formed official files; each is imported anyway.

    Labels and tags on blank url lines, negative or non-square regions, duplicated crops,
    record ids absent from the image path, empty ``=`` pairs, url lines without tags, labels
    that disagree with the tags, and label names that differ from :mod:`kaokore.vocab`.
    """
    findings: list[Finding] = []
    findings += _url_defects(official)
    findings += _tag_defects(official)
    findings += _label_defects(official)
    findings += _metadata_defects(official)
    return tuple(findings)


def _url_defects(official: OfficialVersion) -> Iterator[Finding]:
    path = official.path(URLS)
    first: dict[str, UrlLine] = {}
    tags = official.tags_by_number()
    for line in official.urls:
        region, key = line.region, line.face_key
        if region is None or key is None:
            continue
        where = line.number + 1
        if region.x < 0 or region.y < 0:
            reason = f"negative region {region.iiif} (the crop reaches outside the image)"
            yield _defect(path, where, reason, "negative_region")
        if region.w != region.h:
            yield _defect(path, where, f"region {region.iiif} is not square", "non_square_region")
        if key in first:
            earlier = first[key]
            reason = f"duplicated crop: the face of {earlier.file_name} (line {earlier.number + 1})"
            if _tag_text(tags.get(earlier.number)) != _tag_text(tags.get(line.number)):
                reason += f"; its tags differ, {earlier.file_name}'s are the face's"
            yield _defect(path, where, reason, "duplicate_crop")
        else:
            first[key] = line
        if line.number not in tags:
            yield _defect(path, where, f"{line.file_name} has no line in {TAGS}", "missing_tags")


def _tag_text(tag: TagLine | None) -> str | None:
    """The pairs of a tag line without its file name, to compare two lines' tags."""
    return tag.text.partition(":")[2] if tag is not None else None


def _tag_defects(official: OfficialVersion) -> Iterator[Finding]:
    path = official.path(TAGS)
    urls = official.urls
    for tag in official.tags:
        url = urls[tag.number] if tag.number < len(urls) else None
        if url is None or url.blank:
            where = "is blank" if url is not None else f"is past the end ({len(urls)} lines)"
            reason = f"tags for {tag.number:08d}.jpg, whose line in {URLS} {where}"
            yield _defect(path, tag.line, reason, "tags_on_blank_line")
        if any(pair.key == "" for pair in tag.pairs):
            reason = "an empty pair '=' (no key, no value) is skipped; the face is kept"
            yield _defect(path, tag.line, reason, "empty_key")
        if url is not None and url.service_key is not None:
            mismatch = _record_mismatch(tag, url.service_key)
            if mismatch is not None:
                yield _defect(path, tag.line, mismatch, "record_id_mismatch")


def _record_mismatch(tag: TagLine, skey: str) -> str | None:
    """Why the record id is not in the image path, or None when it is (or is absent)."""
    record = record_of(tag)
    if record is None:
        return None
    key, value = record
    token = value.rsplit("/", 1)[-1]
    if token in skey.split("/"):
        return None
    return f"record id {key}={value} is not in the image path {skey}"


def _label_defects(official: OfficialVersion) -> Iterator[Finding]:
    path = official.path(LABELS)
    urls = official.urls
    tags = official.tags_by_number()
    labelled = {row.number for row in official.labels}
    for row in official.labels:
        url = urls[row.number] if row.number < len(urls) else None
        if url is None or url.blank:
            where = "is blank" if url is not None else f"is past the end ({len(urls)} lines)"
            reason = f"label for {row.file_name}, whose line in {URLS} {where}"
            yield _defect(path, row.line, reason, "label_on_blank_line")
        tag = tags.get(row.number)
        if tag is not None and _tag_classes(tag) != (row.gender, row.status):
            reason = (
                f"label {row.gender},{row.status} of {row.file_name} disagrees with its tags "
                f"性別={tag.first('性別')} 身分={tag.first('身分')}"
            )
            yield _defect(path, row.line, reason, "label_disagrees_with_tags")
    for tag in official.tags:
        if tag.number not in labelled and None not in _tag_classes(tag):
            reason = f"{tag.number:08d}.jpg qualifies for a label by its tags but has no row"
            yield _defect(official.path(TAGS), tag.line, reason, "label_missing")


def _tag_classes(tag: TagLine) -> tuple[int | None, int | None]:
    gender = tag.first("性別")
    status = tag.first("身分")
    return (
        class_index("gender", gender.strip()) if gender is not None else None,
        class_index("status", status.strip()) if status is not None else None,
    )


def _metadata_defects(official: OfficialVersion) -> Iterator[Finding]:
    for name, got, lang in (
        (METADATA_EN, official.metadata_en, 1),
        (METADATA_JA, official.metadata_ja, 0),
    ):
        expected = {
            category: tuple((index, names[lang]) for index, names in enumerate(classes))
            for category, classes in _vocab_categories(lang).items()
        }
        if dict(got) != expected:
            reason = f"label names {dict(got)} differ from kaokore's {expected}"
            yield _defect(official.path(name), None, reason, "metadata_differs")


def _vocab_categories(lang: int) -> dict[str, tuple[tuple[str, str], ...]]:
    names = (("性別", "gender"), ("身分", "status"))
    classes = (GENDER_CLASSES, STATUS_CLASSES)
    return {name[lang]: group for name, group in zip(names, classes, strict=True)}


# --- normalising tags ----------------------------------------------------------------------


def record_of(tag: TagLine) -> tuple[str, str] | None:
    """The (key, normalised value) of the record id: the holder's own key, else ``原典ID``."""
    for key in (*RECORD_ID_KEYS, _OLD_RECORD_KEY):
        raw = tag.first(key)
        if raw is not None and raw.strip():
            return key, _normalise(key, raw, tag)
    return None


def _normalise(key: str, raw: str, tag: TagLine) -> str:
    """The comparable value, as curations have it; a Keio ``原典ID`` is a call number too."""
    if key == _OLD_RECORD_KEY and (tag.first(_HOLDER) or "").strip() == _KEIO:
        return raw.strip().replace("@", "-")
    return normalise_value(key, raw)


def assertions_of(tag: TagLine) -> tuple[Assertion, ...]:
    """The tag line as annotations: every pair, raw and normalised, in file order.

    A bare ``=`` (no key) is skipped, as a curation's metadata entry with an empty label
    is: one outcome per face whichever door it came in by (the ``empty_key`` defect).
    """
    return tuple(
        Assertion(
            label=pair.key,
            raw_value=pair.raw_value,
            value=_normalise(pair.key, pair.raw_value, tag),
            position=pair.position,
        )
        for pair in tag.pairs
        if pair.key.strip()
    )


def work_of(tag: TagLine) -> tuple[str, str, str, str | None] | None:
    """(key, holder, record id, title) of the work a tag line names, or None without both.

    The key is ``record:{holder}:{record id}``, as :func:`kaokore.ingest.store.work_key`
    makes it, so an official face and a curation face meet on one work.
    """
    holder = normalise_value(_HOLDER, tag.first(_HOLDER) or "")
    record = record_of(tag)
    if not holder or record is None:
        return None
    title = normalise_value(_TITLE, tag.first(_TITLE) or "") or None
    return f"record:{holder}:{record[1]}", holder, record[1], title


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
    """Read ``folder`` and import it in one transaction (see :func:`import_official_version`)."""
    official = read_official(folder, version=version)
    with database.session() as session:
        return import_official_version(session, official, now=now)


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
    options = _release_options(official, plan, services, document)
    members = _member_rows(official, plan, faces)
    release_changed = _sync_release(session, official, members, options, now)
    changed = created or faces_changed or bool(added or retracted) or release_changed
    if changed:
        source.last_synced_at = now
    session.flush()
    by_set = Counter(row.split for row in official.labels)
    return OfficialImportReport(
        version=official.version,
        folder=official.folder,
        lines=len(official.urls),
        faces_with_urls=official.faces_with_urls,
        distinct_faces=len(plan.faces),
        new_faces=new_faces,
        matched_faces=len(plan.faces) - new_faces,
        labelled=len(official.labels),
        labelled_by_set={split: by_set.get(split, 0) for split in SPLITS},
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
    region: Region
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
            plan.tag_overrides[f"{tag.number:08d}.jpg"] = tag.text
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
    url = (official.folder / TAGS).as_uri()
    digest = hashlib.sha256((official.folder / TAGS).read_bytes()).hexdigest()
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

    Faces without current annotations from this document (the usual case: a first import)
    get theirs in one bulk insert; faces whose tags changed go through
    :func:`sync_annotations`, which retracts and adds by the shared rules; unchanged faces
    cost nothing. Faces the document no longer lists lose its annotations.
    """
    current = _current_annotations(session, document)
    wanted = {
        faces[key]: face.assertions
        for key, face in plan.faces.items()
        if face.assertions is not None
    }
    rows: list[dict[str, Any]] = []
    changed: list[tuple[int, tuple[Assertion, ...]]] = []
    for face_id, assertions in wanted.items():
        have = current.get(face_id)
        if have is None:
            rows += [_annotation_row(face_id, a, document, now) for a in assertions]
        elif have != {a.identity for a in assertions}:
            changed.append((face_id, assertions))
    changed += [(face_id, ()) for face_id in current if face_id not in wanted]
    if rows:
        session.execute(insert(_table(Annotation)), rows)
    added, retracted = len(rows), 0
    for face_id, assertions in changed:
        face = session.get(Face, face_id)
        if face is None:
            continue
        outcome = sync_annotations(session, face, assertions, document=document, now=now)
        added, retracted = added + outcome.added, retracted + outcome.retracted
    return added, retracted


def _current_annotations(
    session: Session, document: Document
) -> dict[int, set[tuple[str, str, str, int]]]:
    query = select(
        Annotation.face_id,
        Annotation.label,
        Annotation.raw_value,
        Annotation.agent,
        Annotation.position,
    ).where(Annotation.document_id == document.id, Annotation.retracted_at.is_(None))
    current: dict[int, set[tuple[str, str, str, int]]] = {}
    for face_id, label, raw, agent, position in session.execute(query):
        current.setdefault(face_id, set()).add((label, raw, agent, position))
    return current


def _annotation_row(
    face_id: int, assertion: Assertion, document: Document, now: dt.datetime
) -> dict[str, Any]:
    return {
        "face_id": face_id,
        "label": assertion.label,
        "raw_value": assertion.raw_value,
        "value": assertion.value,
        "agent": assertion.agent,
        "position": assertion.position,
        "document_id": document.id,
        "asserted_at": now,
    }


def _release_options(
    official: OfficialVersion,
    plan: _Plan,
    services: Mapping[str, tuple[int, str]],
    document: Document,
) -> dict[str, Any]:
    """What the compiler needs beyond the rows to rebuild the files byte for byte."""
    return {
        "folder": str(official.folder),
        "document_url": document.url,
        "labels_header": official.labels_header,
        "urls": _url_options(official, plan, services),
        "tags": {"lines": dict(sorted(plan.tag_overrides.items())), "missing": plan.missing_tags},
    }


def _url_options(
    official: OfficialVersion, plan: _Plan, services: Mapping[str, tuple[int, str]]
) -> dict[str, Any]:
    """The version's URL rules (origin per stored origin, size per origin) and exceptions.

    The most common choice is the rule; a line the rules do not rebuild keeps its full URL.
    """
    lines = [
        (line, request, _split_origin(services[plan.faces[key].service_key][1]))
        for line in official.urls
        if (key := plan.line_faces.get(line.number)) is not None
        and (request := line.request) is not None
    ]
    origin_votes: dict[str, Counter[str]] = {}
    size_votes: dict[str, Counter[str]] = {}
    tails: Counter[str] = Counter()
    for _line, request, (stored_origin, _path) in lines:
        origin = _split_origin(request.service_url)[0]
        origin_votes.setdefault(stored_origin, Counter())[origin] += 1
        size_votes.setdefault(origin, Counter())[request.size] += 1
        tails[_tail(request)] += 1
    all_sizes = sum(size_votes.values(), Counter[str]())
    size = all_sizes.most_common(1)[0][0] if all_sizes else "256,256"
    rules: dict[str, Any] = {
        "origins": {
            stored: votes.most_common(1)[0][0]
            for stored, votes in sorted(origin_votes.items())
            if votes.most_common(1)[0][0] != stored
        },
        "size": size,
        "sizes": {
            origin: votes.most_common(1)[0][0]
            for origin, votes in sorted(size_votes.items())
            if votes.most_common(1)[0][0] != size
        },
        "tail": tails.most_common(1)[0][0] if tails else "0/default.jpg",
        "count": len(official.urls),
    }
    rebuilt = {
        line.number: _rebuild_url(rules, origin, path, plan.faces[plan.line_faces[line.number]])
        for line, _request, (origin, path) in lines
    }
    rules["lines"] = {
        line.file_name: line.text
        for line in official.urls
        if rebuilt.get(line.number, "") != line.text
    }
    return rules


def _split_origin(url: str) -> tuple[str, str]:
    """``https://host/a/b`` -> (``https://host``, ``/a/b``)."""
    scheme, _sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme}://{host}", slash + path


def _tail(request: ImageRequest) -> str:
    return f"{request.rotation}/{request.quality}.{request.format}"


def _rebuild_url(rules: Mapping[str, Any], stored_origin: str, path: str, face: _FacePlan) -> str:
    """The URL the compiler will write for ``face`` (kept in step with the compiler's rule)."""
    origin = rules["origins"].get(stored_origin, stored_origin)
    size = rules["sizes"].get(origin, rules["size"])
    return f"{origin}{path}/{face.region.iiif}/{size}/{rules['tail']}"


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
        (row.file_name, face_of(row.number), row.split, row.gender, row.status)
        for row in official.labels
    ]
    labelled = {row.number for row in official.labels}
    numbers = {line.number for line in official.urls} | {tag.number for tag in official.tags}
    rows += [
        (f"{number:08d}.jpg", face_of(number), None, None, None)
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
    by_set = Counter(row.split for row in official.labels)
    return {
        "lines": len(official.urls),
        "faces_with_urls": official.faces_with_urls,
        "labelled": len(official.labels),
        "labelled_by_set": {split: by_set.get(split, 0) for split in SPLITS},
        "gender": _by_class(row.gender for row in official.labels),
        "status": _by_class(row.status for row in official.labels),
    }


def _by_class(indices: Iterable[int]) -> dict[str, int]:
    return {str(index): count for index, count in sorted(Counter(indices).items())}
