"""Read a KaoKore folder: a release made by ``kaokore build`` or the official download.

Both share the official layout (``ROOT/images_256/NNNNNNNN.jpg`` and ``ROOT/labels.csv`` with
``image,gender,status,set``). A release adds ``splits/*.csv`` (``image,set``), ``release.json``
and ``SHA256SUMS``. This module only reads files: no torch, so it is cheap to import and test,
and the tf.data loader or an exporter can share it.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from kaokore.errors import DatasetNotFoundError, ReleaseError
from kaokore.vocab import GENDER_CLASSES, STATUS_CLASSES

__all__ = [
    "CATEGORIES",
    "IMAGE_DIR",
    "LABELS_FILE",
    "SPLITS",
    "SPLIT_FILES",
    "LabelRow",
    "class_names",
    "fingerprint",
    "read_labels",
    "read_split_file",
    "release_version",
    "select",
]

IMAGE_DIR: Final = "images_256"
LABELS_FILE: Final = "labels.csv"
SPLITS: Final[tuple[str, ...]] = ("train", "dev", "test")
CATEGORIES: Final[tuple[str, ...]] = ("gender", "status")
#: The split files a release may carry under ``splits/``.
SPLIT_FILES: Final[tuple[str, ...]] = ("official", "stable", "by-work", "by-page")

_LABEL_COLUMNS: Final = ("image", "gender", "status", "set")


@dataclass(frozen=True, slots=True)
class LabelRow:
    """One row of ``labels.csv``; ``line`` is its 1-based line number, for error messages."""

    image: str
    gender: str
    status: str
    set: str
    line: int

    def label(self, category: str) -> str:
        """The raw label of ``category`` (``gender`` or ``status``), as written in the file."""
        return self.gender if category == "gender" else self.status


def class_names(category: str) -> list[str]:
    """English class names in index order (``male``, ``female`` or the four statuses)."""
    classes = GENDER_CLASSES if category == "gender" else STATUS_CLASSES
    return [english for _japanese, english in classes]


def release_version(root: Path) -> str | None:
    """The version a folder holds: ``release.json``'s, else a trailing ``X.Y`` of its name."""
    meta = root / "release.json"
    if meta.is_file():
        try:
            version = json.loads(meta.read_text(encoding="utf-8")).get("version")
        except (OSError, ValueError, AttributeError):
            version = None
        if isinstance(version, str) and version:
            return version
    match = re.search(r"(\d+\.\d+(?:\.\d+)?)$", root.name)
    return match.group(1) if match else None


def _not_found(root: Path, what: str) -> DatasetNotFoundError:
    return DatasetNotFoundError(
        f"No KaoKore release at {root}: {what}. Run `kaokore build --version "
        f"{release_version(root) or 'VERSION'}` first, or point at a folder made by the official "
        "download script (images_256/ and labels.csv)."
    )


def read_labels(root: Path) -> list[LabelRow]:
    """Read ``root/labels.csv``; raise DatasetNotFoundError if there is no such folder or file."""
    if not root.is_dir():
        raise _not_found(root, "the folder does not exist")
    path = root / LABELS_FILE
    if not path.is_file():
        raise _not_found(root, f"{LABELS_FILE} is missing")
    if not (root / IMAGE_DIR).is_dir():
        raise _not_found(root, f"{IMAGE_DIR}/ is missing")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        missing = [column for column in _LABEL_COLUMNS if column not in header]
        if missing:
            raise ReleaseError(f"{path}: the header lacks the column(s) {', '.join(missing)}")
        index = {column: header.index(column) for column in _LABEL_COLUMNS}
        rows: list[LabelRow] = []
        for line, record in enumerate(reader, start=2):
            if not record:
                continue
            if len(record) < len(header):
                raise ReleaseError(f"{path}:{line}: expected {len(header)} fields")
            image, gender, status, assigned = (record[index[c]] for c in _LABEL_COLUMNS)
            rows.append(LabelRow(image, gender, status, assigned, line))
    return rows


def read_split_file(root: Path, name: str) -> dict[str, str] | None:
    """Map image to set from ``splits/NAME.csv``.

    Returns None for ``official`` on a folder without ``splits/`` (the official download), whose
    ``labels.csv`` set column *is* the official split. Raises DatasetNotFoundError naming the
    split files that exist when the requested one is absent.
    """
    folder = root / "splits"
    path = folder / f"{name}.csv"
    if not path.is_file():
        if name == "official" and not folder.is_dir():
            return None
        present = sorted(p.stem for p in folder.glob("*.csv")) if folder.is_dir() else []
        raise DatasetNotFoundError(
            f"{root} has no {name!r} split ({path} is missing); it has "
            f"{', '.join(repr(p) for p in present) or 'only the labels.csv set column'}."
        )
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"image", "set"} <= set(reader.fieldnames):
            raise ReleaseError(f"{path}: expected the columns image,set")
        return {row["image"]: row["set"] for row in reader}


def select(
    root: Path,
    rows: Sequence[LabelRow],
    *,
    split: str,
    category: str,
    split_file: str | None,
) -> list[tuple[str, int]]:
    """The (image, label) pairs of ``split`` in labels.csv order, with labels checked.

    A label that is not an integer class index of ``category`` raises ReleaseError naming the
    image and the line, so a broken folder fails before any training starts.
    """
    assignment = read_split_file(root, split_file) if split_file is not None else None
    num_classes = len(class_names(category))
    chosen: list[tuple[str, int]] = []
    for row in rows:
        row_set = row.set if assignment is None else assignment.get(row.image)
        if row_set != split:
            continue
        raw = row.label(category)
        try:
            label = int(raw)
        except ValueError:
            label = -1
        if not 0 <= label < num_classes:
            raise ReleaseError(
                f"{root / LABELS_FILE}:{row.line}: image {row.image} has {category} {raw!r}, "
                f"outside the class indices 0..{num_classes - 1}"
            )
        chosen.append((row.image, label))
    return chosen


def fingerprint(root: Path, images: Iterable[str]) -> str:
    """A key that changes when the images a split reads change, for the decoded-array cache.

    A release is identified by its ``SHA256SUMS`` (plus each file's size, which catches a
    truncated copy); an official download, which has no checksums, by ``labels.csv`` and each
    listed image's size and modification time.
    """
    digest = hashlib.sha256()
    sums = root / "SHA256SUMS"
    has_sums = sums.is_file()
    digest.update((sums if has_sums else root / LABELS_FILE).read_bytes())
    for name in images:
        try:
            stat = os.stat(root / IMAGE_DIR / name)
        except FileNotFoundError:
            digest.update(f"{name}:missing\n".encode())
            continue
        stamp = "" if has_sums else f":{stat.st_mtime_ns}"
        digest.update(f"{name}:{stat.st_size}{stamp}\n".encode())
    return digest.hexdigest()
