"""Reading the official KaoKore files: one job, no database.

:func:`read_official` is a pure reader of an official folder (``urls.txt``,
``original_tags.txt``, ``labels.csv``, ``labels.metadata.{en,ja}.txt``). A malformed line (a
broken URL, a tag line without ``:``, a pair without ``=``, an unknown label, a label row
that names no number) becomes a :class:`Finding` with the file, the 1-based line and the
reason, and is left out; the rest is read. See :mod:`kaokore.ingest.official` for the whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from kaokore.box import Box
from kaokore.errors import ImportFileError, UsageError
from kaokore.ingest.identity import face_key, service_key, split_image_url
from kaokore.ingest.records import ImageRequest
from kaokore.release.labels import LabelRow, image_number, parse_labels
from kaokore.release.layout import (
    LABELS_FILE,
    LABELS_HEADER,
    METADATA_EN_FILE,
    METADATA_JA_FILE,
    OFFICIAL_FILES,
    TAGS_FILE,
    URLS_FILE,
    image_name,
)

__all__ = [
    "Finding",
    "FindingKind",
    "OfficialVersion",
    "TagLine",
    "TagPair",
    "UrlLine",
    "read_official",
    "version_of_folder",
]

_VERSION: Final = re.compile(r"^v?(\d+(?:\.\d+)*)$")

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
    region: Box | None = None
    service_key: str | None = None
    face_key: str | None = None

    @property
    def file_name(self) -> str:
        return image_name(self.number)

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
    urls = tuple(_url_lines(str(folder / URLS_FILE), texts[URLS_FILE], errors))
    tags = tuple(_tag_lines(str(folder / TAGS_FILE), texts[TAGS_FILE], errors))
    header, labels = _label_rows(str(folder / LABELS_FILE), texts[LABELS_FILE], errors)
    metadata_en = _metadata(str(folder / METADATA_EN_FILE), texts[METADATA_EN_FILE], errors)
    metadata_ja = _metadata(str(folder / METADATA_JA_FILE), texts[METADATA_JA_FILE], errors)
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
        number = image_number(name)
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
    """The rows of ``labels.csv`` by the shared rules; each row left out becomes a Finding."""
    table = parse_labels(lines, path)
    errors.extend(_malformed(path, p.line, p.reason, p.code) for p in table.problems)
    return table.header or LABELS_HEADER, table.rows


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
