"""``release.json`` and ``SHA256SUMS``: what a release is, what changed, and proof of its bytes.

Why the diff is keyed by face and not by file: a face keeps its file number from one built
release to the next, but a ``--like-official`` release uses the official numbering; keyed by
face, "added", "removed", "relabelled" and "moved to another set" mean the same in both.

Why ``SHA256SUMS`` in the ``sha256sum`` format: anybody can check a release with coreutils
(``cd kaokore-1.0 && sha256sum -c SHA256SUMS``) without kaokore, and its own sha256 is the
release's checksum recorded in the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from kaokore import __version__
from kaokore.compiler.records import LeftOut, PreviousRelease, ReleaseEntry
from kaokore.compiler.terms import ATTRIBUTION, DOI, LICENSE, LICENSE_URL, REDISTRIBUTION
from kaokore.release.layout import SETS, SPLIT_FILES, SUMS_FILE
from kaokore.vocab import GENDER_CLASSES, STATUS_CLASSES

__all__ = [
    "FORMAT",
    "ReleaseDiff",
    "counts",
    "diff",
    "file_sha256",
    "parse_sums",
    "release_json",
    "sha256sums",
]

#: The ``format`` of ``release.json``; bump it when a field changes meaning.
FORMAT: Final = "kaokore-release/1"


@dataclass(frozen=True, kw_only=True, slots=True)
class ReleaseDiff:
    """The faces added, removed, relabelled and moved since the previous built release."""

    previous: str
    added: tuple[dict[str, Any], ...]
    removed: tuple[dict[str, Any], ...]
    relabelled: tuple[dict[str, Any], ...]
    moved: tuple[dict[str, Any], ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "previous": self.previous,
            "added": list(self.added),
            "removed": list(self.removed),
            "relabelled": list(self.relabelled),
            "moved": list(self.moved),
        }


def _names(classes: tuple[tuple[str, str], ...], index: int | None) -> str | None:
    return None if index is None else classes[index][1]


def _label_counts(entries: Iterable[ReleaseEntry]) -> dict[str, dict[str, int]]:
    labelled = [e for e in entries if e.row.labelled]
    gender = Counter(_names(GENDER_CLASSES, e.row.gender) for e in labelled)
    status = Counter(_names(STATUS_CLASSES, e.row.status) for e in labelled)
    return {
        "gender": {en: gender.get(en, 0) for _ja, en in GENDER_CLASSES},
        "status": {en: status.get(en, 0) for _ja, en in STATUS_CLASSES},
    }


def counts(entries: Sequence[ReleaseEntry], left_out: Sequence[LeftOut]) -> dict[str, Any]:
    """Images, labelled rows, left-out faces, and counts per label in every set of every split."""
    labelled = [e for e in entries if e.row.labelled]
    per_split: dict[str, Any] = {}
    for name in SPLIT_FILES:
        covered = [e for e in labelled if name in e.sets]
        if not covered:
            continue
        per_split[name] = {}
        for set_name in SETS:
            members = [e for e in covered if e.sets[name] == set_name]
            per_split[name][set_name] = {"total": len(members), **_label_counts(members)}
    return {
        "images": len(entries),
        "faces": len({e.row.face_id for e in entries}),
        "labelled": len(labelled),
        "unlabelled": len(entries) - len(labelled),
        "left_out": len(left_out),
        **_label_counts(entries),
        "sets": per_split,
    }


def diff(
    entries: Sequence[ReleaseEntry], previous: PreviousRelease | None, *, split: str = "stable"
) -> ReleaseDiff | None:
    """What changed against ``previous`` (None for a first release)."""
    if previous is None:
        return None
    current: dict[int, ReleaseEntry] = {}
    for entry in sorted(entries, key=lambda e: e.image):
        current.setdefault(entry.row.face_id, entry)
    before = {m.face_id: m for m in previous.members if m.face_id is not None}

    def labels(gender: int | None, status: int | None) -> dict[str, int | None]:
        return {"gender": gender, "status": status}

    added = tuple(
        {"image": e.image, "face_key": e.row.key}
        for face_id, e in sorted(current.items(), key=lambda item: item[1].image)
        if face_id not in before
    )
    removed = tuple(
        {"image": m.image, "face_key": m.face_key}
        for m in previous.members
        if m.face_id is None or m.face_id not in current
    )
    relabelled = []
    moved = []
    for face_id, e in sorted(current.items(), key=lambda item: item[1].image):
        old = before.get(face_id)
        if old is None:
            continue
        if (old.gender, old.status) != (e.row.gender, e.row.status):
            relabelled.append(
                {
                    "image": e.image,
                    "face_key": e.row.key,
                    "before": labels(old.gender, old.status),
                    "after": labels(e.row.gender, e.row.status),
                }
            )
        new_set = e.sets.get(split) if e.row.labelled else None
        if old.split is not None and new_set is not None and old.split != new_set:
            moved.append(
                {"image": e.image, "face_key": e.row.key, "before": old.split, "after": new_set}
            )
    return ReleaseDiff(
        previous=previous.version,
        added=added,
        removed=removed,
        relabelled=tuple(relabelled),
        moved=tuple(moved),
    )


def release_json(
    *,
    version: str,
    built_at: dt.datetime,
    db_state: str,
    options: Mapping[str, Any],
    counts: Mapping[str, Any],
    splits: Mapping[str, Any],
    previous: PreviousRelease | None,
    changes: ReleaseDiff | None,
    left_out: Sequence[LeftOut],
) -> bytes:
    """``release.json``: a stable key order and no wall-clock time, so rebuilds are identical.

    ``built_at`` is the newest change in the data the release was built from (not the moment
    the build ran): two builds of one database state are the same release.
    """
    document = {
        "format": FORMAT,
        "name": "KaoKore",
        "version": version,
        "built_at": built_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "built_at_means": "the newest change in the database state the release was built from",
        "db_state": db_state,
        "generator": f"kaokore {__version__}",
        "options": dict(options),
        "counts": dict(counts),
        "splits": dict(splits),
        "previous": None
        if previous is None
        else {"version": previous.version, "checksum": previous.checksum},
        "diff": None if changes is None else changes.as_json(),
        "left_out": [
            {"face_key": item.face_key, "image": item.image, "reason": item.reason}
            for item in sorted(left_out, key=lambda item: (item.face_key, item.image or ""))
        ],
        "license": {"name": LICENSE, "url": LICENSE_URL},
        "attribution": ATTRIBUTION,
        "doi": DOI,
        "redistribution": REDISTRIBUTION,
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256sums(root: Path, known: Mapping[str, str] | None = None) -> bytes:
    """``SHA256SUMS`` for every file under ``root`` but itself, sorted by path.

    ``known`` maps relative paths to hashes already computed (the image stage returns them).
    """
    known = known or {}
    lines = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        if relative == SUMS_FILE:
            continue
        lines.append(f"{known.get(relative) or file_sha256(path)}  {relative}\n")
    return "".join(sorted(lines, key=lambda line: line[66:])).encode()


def parse_sums(text: str) -> tuple[dict[str, str], list[str]]:
    """Read a ``SHA256SUMS`` body: (path -> hash, problems with malformed lines)."""
    sums: dict[str, str] = {}
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            problems.append(f"{SUMS_FILE}:{number}: malformed line {line[:80]!r}")
            continue
        if name in sums:
            problems.append(f"{SUMS_FILE}:{number}: {name} listed twice")
        sums[name] = digest
    return sums, problems
