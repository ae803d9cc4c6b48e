"""A release folder: its layout (:mod:`.layout`), its label rows (:mod:`.labels`) and the one
reader every stage uses (:mod:`.reader`).

Why a package of its own, below every stage: the compiler writes a release, and the loaders,
the GAN, the exporters, ``kaokore verify`` and the official importer read one (an official
download has the same layout). Depending on nothing above :mod:`kaokore.errors` and
:mod:`kaokore.vocab`, it is importable where torch runs without the database extras.
"""

from __future__ import annotations

from kaokore.release.labels import LabelProblem, LabelRow, LabelTable, parse_labels
from kaokore.release.reader import ReleaseFolder, read_label_file, version_of

__all__ = [
    "LabelProblem",
    "LabelRow",
    "LabelTable",
    "ReleaseFolder",
    "parse_labels",
    "read_label_file",
    "version_of",
]
