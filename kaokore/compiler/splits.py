"""The splits of a release: stable, grouped by work, grouped by page, and the official one.

Why hashes and not a random draw: the official releases redraw their split at every version,
so about a third of the faces change set and results across versions are not comparable.
Here a face's set is a pure function of its stable key and the seed: ``u = sha256(seed, key)``
read as a number in [0, 1), then ``u < 0.8`` is train, ``u < 0.9`` dev, else test. A face in
test in 1.0 is in test in every later version, and new faces join each set with the same
probabilities. Because ``u`` does not depend on the label, every class (stratum) is split in
the same 80/10/10 proportions in expectation; the release reports the realised proportions
per class.

The official split leaks: every test face shares its work, and most share their page, with
training faces. The grouped splits hash the group instead of the face (the work key for
``by-work``; the canvas, or the image service when there is no canvas, for ``by-page``), so no
work (or page) is shared between sets. Their proportions are those of groups, not of faces.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Final

from kaokore.compiler.records import OfficialSplit, SampleRow

__all__ = [
    "DEFAULT_SEED",
    "THRESHOLDS",
    "assign",
    "by_page_group",
    "by_work_group",
    "compute_sets",
    "set_of",
    "unit_interval",
]

#: The seed of the default split; change it and every face may change set.
DEFAULT_SEED: Final = 0
#: Upper bounds of ``u`` for train and dev; the rest is test (80/10/10, as officially).
THRESHOLDS: Final[tuple[float, float]] = (0.8, 0.9)


def unit_interval(seed: int, text: str) -> float:
    """A number in [0, 1) that depends only on ``seed`` and ``text`` (sha256, 64 bits)."""
    digest = hashlib.sha256(f"kaokore-split:{seed}:{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(u: float) -> str:
    """The set of a draw ``u`` in [0, 1)."""
    if u < THRESHOLDS[0]:
        return "train"
    if u < THRESHOLDS[1]:
        return "dev"
    return "test"


def by_work_group(row: SampleRow) -> str:
    """The work a face belongs to: its work key, else its holder's record id, else its image.

    Official imports without a manifest have works keyed by record id, so this rarely falls
    back to the image service (one image is then its own group).
    """
    if row.work_key:
        return f"work:{row.work_key}"
    if row.record_id:
        return f"record:{row.holder or ''}:{row.record_id}"
    return f"service:{row.service_key or row.key.split('#', 1)[0]}"


def by_page_group(row: SampleRow) -> str:
    """The page a face is on: its canvas, else its image service (one image is one page)."""
    if row.canvas_uri:
        return f"canvas:{row.canvas_uri}"
    return f"service:{row.service_key or row.key.split('#', 1)[0]}"


def set_of(seed: int, row: SampleRow, group: Callable[[SampleRow], str] | None = None) -> str:
    """The set of a face: hashed on its key, or on its group when ``group`` is given."""
    return assign(unit_interval(seed, row.key if group is None else group(row)))


def compute_sets(row: SampleRow, *, seed: int, official: OfficialSplit | None) -> dict[str, str]:
    """The face's set in every split that covers it (``official`` only when it has one)."""
    sets = {
        "stable": set_of(seed, row),
        "by-work": set_of(seed, row, by_work_group),
        "by-page": set_of(seed, row, by_page_group),
    }
    if official is not None and row.face_id in official.sets:
        sets["official"] = official.sets[row.face_id]
    return sets
