"""Open a release folder and read it: labels, split files, ``release.json``, checksum.

Why one reader: the torch and tf loaders, the GAN, the exporters and ``kaokore verify``
all read the same folder; when each had its own reader they disagreed on what a release is
and on what to say when it is not one. :class:`ReleaseFolder` reads only files (no torch,
no database, no network), so every stage may use it, and it pickles into DataLoader
workers. It also reads a folder laid out like the official download (``images_256/`` and
``labels.csv`` only), whose ``labels.csv`` set column is the official split.

Errors name the file, and the line and field where there is one: a folder that is not a
release raises :class:`~kaokore.errors.DatasetNotFoundError`; a release whose files are
malformed raises :class:`~kaokore.errors.ReleaseError`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from kaokore.errors import DatasetNotFoundError, ReleaseError
from kaokore.release.labels import LabelRow, LabelTable, parse_labels
from kaokore.release.layout import (
    IMAGE_DIR,
    LABELS_FILE,
    RELEASE_FILE,
    SETS,
    SPLITS_DIR,
    SUMS_FILE,
    split_path,
)

__all__ = ["ReleaseFolder", "json_text", "read_label_file", "read_lines", "version_of"]

_VERSION_SUFFIX: Final = re.compile(r"(\d+\.\d+(?:\.\d+)?)$")


def read_lines(path: Path) -> list[str]:
    """A UTF-8 text file's lines without line ends (LF or CRLF) or a byte order mark."""
    text = path.read_text(encoding="utf-8", errors="replace").removeprefix("\ufeff")
    return [line.removesuffix("\r") for line in text.splitlines(keepends=False)]


def read_label_file(root: Path, relative: str) -> LabelTable:
    """Parse ``root/relative`` (``labels.csv`` or ``splits/NAME.csv``); problems name the file."""
    return parse_labels(read_lines(root / relative), str(root / relative))


def json_text(path: Path, key: str) -> str | None:
    """The non-empty text at ``key`` of the JSON object in ``path``; None when there is none.

    For a file that only may say something (``release.json``'s version, a pack's checksum):
    an absent or unreadable file, or another type, is None rather than an error.
    """
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get(key)
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value else None


def version_of(root: Path) -> str | None:
    """The version a folder holds: ``release.json``'s, else a trailing ``X.Y`` of its name."""
    version = json_text(root / RELEASE_FILE, "version")
    if version is not None:
        return version
    match = _VERSION_SUFFIX.search(root.name)
    return match.group(1) if match else None


@dataclass(frozen=True, slots=True)
class ReleaseFolder:
    """A release folder (or an official download), checked to hold ``labels.csv`` and images.

    Make one with :meth:`open`; every read goes to the files, so a folder changed on disk is
    read as it is now.
    """

    root: Path

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> ReleaseFolder:
        """Check that ``path`` is a release; raise DatasetNotFoundError naming what is missing."""
        root = Path(os.path.expanduser(os.fspath(path)))
        if not root.is_dir():
            raise _not_found(root, "the folder does not exist")
        if not (root / LABELS_FILE).is_file():
            raise _not_found(root, f"{LABELS_FILE} is missing")
        if not (root / IMAGE_DIR).is_dir():
            raise _not_found(root, f"{IMAGE_DIR}/ is missing")
        return cls(root)

    @property
    def image_dir(self) -> Path:
        """The folder of face images."""
        return self.root / IMAGE_DIR

    def image_path(self, image: str) -> Path:
        """The path of image ``image`` (a file name from ``labels.csv``)."""
        return self.root / IMAGE_DIR / image

    @property
    def version(self) -> str | None:
        """See :func:`version_of`."""
        return version_of(self.root)

    def labels(self) -> tuple[LabelRow, ...]:
        """The rows of ``labels.csv`` in file order; ReleaseError names a malformed row."""
        return read_label_file(self.root, LABELS_FILE).check()

    def split_sets(self, name: str | None) -> dict[str, str] | None:
        """Image to set by ``splits/NAME.csv``; None when the ``labels.csv`` set column decides.

        That is for ``name=None``, and for ``official`` on a folder without ``splits/`` (the
        official download, whose set column *is* the official split). Raises
        DatasetNotFoundError naming the split files there are when ``name`` is absent.
        """
        if name is None:
            return None
        relative = split_path(name)
        if not (self.root / relative).is_file():
            folder = self.root / SPLITS_DIR
            if name == "official" and not folder.is_dir():
                return None
            present = sorted(p.stem for p in folder.glob("*.csv")) if folder.is_dir() else []
            raise DatasetNotFoundError(
                f"{self.root} has no {name!r} split ({relative} is missing); it has "
                f"{', '.join(repr(p) for p in present) or 'only the labels.csv set column'}."
            )
        rows = read_label_file(self.root, relative).check()
        return {row.image: row.set for row in rows}

    def rows(self, split: str | None = None) -> list[tuple[LabelRow, str]]:
        """Each labelled row with its set in ``split`` (None: labels.csv's), in file order.

        A row the split file does not list is left out.
        """
        sets = self.split_sets(split)
        chosen = []
        for row in self.labels():
            set_name = row.set if sets is None else sets.get(row.image)
            if set_name is not None:
                chosen.append((row, set_name))
        return chosen

    def in_set(self, set_name: str, split: str | None = None) -> list[LabelRow]:
        """The rows of ``set_name`` (``train``, ``dev``, ``test``, or ``all``) in file order."""
        if set_name != "all" and set_name not in SETS:
            raise ValueError(f"Unknown set {set_name!r}; valid values are {', '.join(SETS)}, all")
        return [row for row, chosen in self.rows(split) if set_name in ("all", chosen)]

    def manifest(self) -> dict[str, Any] | None:
        """``release.json`` as a dict, or None for a folder without one (an official download).

        Raises ReleaseError naming the file when it is not a JSON object.
        """
        path = self.root / RELEASE_FILE
        if not path.is_file():
            return None
        try:
            meta: Any = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ReleaseError(f"{path}: not valid JSON ({exc})") from None
        if not isinstance(meta, dict):
            raise ReleaseError(f"{path}: not a JSON object")
        return meta

    def checksum(self) -> str | None:
        """The release's checksum (sha256 of ``SHA256SUMS``), or None without that file."""
        sums = self.root / SUMS_FILE
        return hashlib.sha256(sums.read_bytes()).hexdigest() if sums.is_file() else None


def _not_found(root: Path, what: str) -> DatasetNotFoundError:
    return DatasetNotFoundError(
        f"No release at {root}: {what}. Run `kaokore build --version "
        f"{version_of(root) or 'VERSION'}` first, or point at a folder laid out like the "
        f"official download ({IMAGE_DIR}/ and {LABELS_FILE})."
    )
