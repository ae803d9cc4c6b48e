"""Compiling releases: turn the database into versioned, verifiable KaoKore dataset folders.

``build_release`` (``kaokore build``) writes ``kaokore-VERSION/``: the images, the official
files, the provenance, the splits, ``release.json``, ``SHA256SUMS``, a data sheet and a contact
sheet. ``verify_release`` (``kaokore verify``) checks such a folder and names every problem.

The names below are imported on first use, so that an image worker process (which imports
:mod:`kaokore.compiler.images`) does not pay for the database and Parquet libraries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kaokore.lazy import lazy_exports

if TYPE_CHECKING:
    from kaokore.compiler.build import ReleaseSummary, build_release, release_folder
    from kaokore.compiler.records import LeftOut, ReleaseEntry, SampleRow
    from kaokore.compiler.verify import VerifyReport, verify_release

__all__ = [
    "LeftOut",
    "ReleaseEntry",
    "ReleaseSummary",
    "SampleRow",
    "VerifyReport",
    "build_release",
    "release_folder",
    "verify_release",
]

_HOMES = {
    "ReleaseSummary": "build",
    "build_release": "build",
    "release_folder": "build",
    "LeftOut": "records",
    "ReleaseEntry": "records",
    "SampleRow": "records",
    "VerifyReport": "verify",
    "verify_release": "verify",
}


__getattr__, __dir__ = lazy_exports(
    __name__, {name: f"kaokore.compiler.{home}" for name, home in _HOMES.items()}
)
