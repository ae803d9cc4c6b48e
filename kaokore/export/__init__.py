"""Exports of a release to the formats training stacks read: ImageFolder, Parquet, WebDataset.

Each export checks the release with ``verify_release`` first and refuses a failing one,
never writes into a non-empty folder, and carries ``README.md`` and ``export.json`` naming
the release version, the checksum of its ``SHA256SUMS``, the licence and the attribution.

- :func:`export_imagefolder` (``kaokore export imagefolder``): ``SET/CLASS/FILE.jpg``.
- :func:`export_parquet` (``kaokore export parquet``): ``SET.parquet`` with image bytes.
- :func:`export_webdataset` (``kaokore export webdataset``): ``SET-NNNNNN.tar`` shards.

Names are imported on first use, so ``import kaokore.export`` stays cheap for the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kaokore.lazy import lazy_exports

if TYPE_CHECKING:
    from kaokore.export.common import CheckedRelease, ExportSummary, open_release
    from kaokore.export.imagefolder import export_imagefolder
    from kaokore.export.parquet import export_parquet
    from kaokore.export.webdataset import export_webdataset

__all__ = [
    "CheckedRelease",
    "ExportSummary",
    "export_imagefolder",
    "export_parquet",
    "export_webdataset",
    "open_release",
]

_HOMES = {
    "CheckedRelease": "common",
    "ExportSummary": "common",
    "open_release": "common",
    "export_imagefolder": "imagefolder",
    "export_parquet": "parquet",
    "export_webdataset": "webdataset",
}


__getattr__, __dir__ = lazy_exports(
    __name__, {name: f"kaokore.export.{home}" for name, home in _HOMES.items()}
)
