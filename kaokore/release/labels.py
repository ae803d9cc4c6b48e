"""Rows of ``labels.csv`` (and of every ``splits/NAME.csv``), read in one place.

Why one parser for three readers: the official importer keeps reading past a malformed row
(and records why), ``kaokore verify`` lists every problem of a folder, and the loaders stop
at the first. All three now apply the same rules through :func:`parse_labels`, which never
raises: it returns the rows it could read and a :class:`LabelProblem` (file, line, a stable
``code`` and the reason) for each row it left out. :meth:`LabelTable.check` turns the first
problem into the error a loader raises.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from kaokore.errors import ReleaseError
from kaokore.release.layout import LABEL_COLUMNS, LABELS_HEADER, SETS
from kaokore.vocab import GENDER_CLASSES, STATUS_CLASSES

__all__ = ["LabelProblem", "LabelRow", "LabelTable", "image_number", "parse_labels"]

_NUMBERED: Final = re.compile(r"^(\d+)\.jpg$")


def image_number(name: str) -> int | None:
    """The file number of an image name (``00000042.jpg`` is 42), or None if it is not one."""
    match = _NUMBERED.match(name.strip())
    return int(match.group(1)) if match else None


@dataclass(frozen=True, kw_only=True, slots=True)
class LabelRow:
    """One row of ``labels.csv``: the image, its class indices and its set.

    ``line`` is the row's 1-based line in the file (the header is line 1), for messages.
    """

    image: str
    gender: int
    status: int
    set: str
    line: int

    @property
    def number(self) -> int:
        """The file number (``00000042.jpg`` is 42)."""
        return int(self.image.split(".", 1)[0])

    def label(self, category: str) -> int:
        """The class index of ``category`` (``gender`` or ``status``)."""
        return self.gender if category == "gender" else self.status


@dataclass(frozen=True, kw_only=True, slots=True)
class LabelTable:
    """What :func:`parse_labels` read: the header as written, the rows and the problems."""

    header: str
    rows: tuple[LabelRow, ...]
    problems: tuple[LabelProblem, ...]

    def check(self) -> tuple[LabelRow, ...]:
        """The rows, or ReleaseError naming the file, line and field of the first problem.

        A header that holds the four columns in another order (or with more columns) is
        read by name and is not an error here.
        """
        for problem in self.problems:
            if problem.code != "header" or not _has_columns(self.header):
                raise ReleaseError(str(problem))
        return self.rows


@dataclass(frozen=True, kw_only=True, slots=True)
class LabelProblem:
    """A row (or the header) that was left out or read with a caveat, and why.

    ``code`` is stable: ``header`` (not the official header), ``label_fields`` (a wrong
    number of fields), ``bad_file_name``, ``label`` (a class index or set out of range) and
    ``repeated_label`` (an image listed before).
    """

    file: str
    line: int
    code: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


def _has_columns(header: str) -> bool:
    return set(LABEL_COLUMNS) <= {part.strip() for part in header.split(",")}


def _choices(classes: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{index} ({en})" for index, (_ja, en) in enumerate(classes))


def _row_problems(image: str, gender: str, status: str, set_name: str) -> list[tuple[str, str]]:
    """(reason, code) for each field of a row that is out of range (so every one is named)."""
    if image_number(image) is None:
        return [(f"{image!r} is not a file name like 00000042.jpg", "bad_file_name")]
    found = []
    for name, value, classes in (
        ("gender", gender, GENDER_CLASSES),
        ("status", status, STATUS_CLASSES),
    ):
        if value not in {str(index) for index in range(len(classes))}:
            found.append(
                (f"{image}: unknown {name} {value!r} (expected {_choices(classes)})", "label")
            )
    if set_name not in SETS:
        found.append(
            (f"{image}: unknown set {set_name!r} (expected one of {', '.join(SETS)})", "label")
        )
    return found


def parse_labels(lines: Sequence[str], file: str) -> LabelTable:
    """Read the lines of a ``labels.csv``-format file (without line ends); never raises.

    Columns are found by name when the header names all four (in any order), else read in
    the official order. Blank lines are skipped; a row that cannot be read is left out with
    a problem, and so is a repeat of an image listed before.
    """
    if not lines:
        problem = LabelProblem(
            file=file, line=1, code="header", reason=f"empty: expected the header {LABELS_HEADER}"
        )
        return LabelTable(header="", rows=(), problems=(problem,))
    header = lines[0].removeprefix("\ufeff")
    names = [part.strip() for part in header.split(",")]
    problems: list[LabelProblem] = []
    if header.strip() != LABELS_HEADER:
        how = "read by name" if _has_columns(header) else "read in that order"
        reason = f"header {header!r} is not {LABELS_HEADER!r}; columns {how}"
        problems.append(LabelProblem(file=file, line=1, code="header", reason=reason))
    order = LABEL_COLUMNS if not _has_columns(header) else names
    index = {column: order.index(column) for column in LABEL_COLUMNS}
    width = len(order)
    rows: list[LabelRow] = []
    seen: dict[str, LabelRow] = {}
    for line, text in enumerate(lines[1:], start=2):
        if not text.strip():
            continue
        fields = [part.strip() for part in next(csv.reader([text]))]
        if len(fields) != width:
            reason = f"{len(fields)} fields, expected {width} ({','.join(order)})"
            problems.append(LabelProblem(file=file, line=line, code="label_fields", reason=reason))
            continue
        image, gender, status, set_name = (fields[index[column]] for column in LABEL_COLUMNS)
        found = _row_problems(image, gender, status, set_name)
        problems.extend(
            LabelProblem(file=file, line=line, code=code, reason=reason) for reason, code in found
        )
        if found:
            continue
        before = seen.get(image)
        if before is not None:
            where = "" if before.set == set_name else f", in {before.set} (here in {set_name})"
            reason = f"{image} is listed on line {before.line} already{where}"
            problems.append(
                LabelProblem(file=file, line=line, code="repeated_label", reason=reason)
            )
            continue
        row = LabelRow(image=image, gender=int(gender), status=int(status), set=set_name, line=line)
        seen[image] = row
        rows.append(row)
    return LabelTable(header=header, rows=tuple(rows), problems=tuple(problems))
