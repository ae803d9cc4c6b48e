"""Harvesting: read change feeds, curations, manifests and image services, and fetch face crops.

The public names, imported on first use (the parsers alone need neither httpx nor the
database):

* :func:`harvest` (``kaokore ingest SOURCE ...``, a coroutine) with :class:`HarvestOptions`
  and :class:`ClientSettings`, returning a :class:`HarvestReport`; :func:`fetch_crops_only`
  fetches the crops still missing.
* :func:`import_official` (``kaokore ingest --official DIR``) returning an
  :class:`OfficialImportReport`; :func:`read_official` reads a folder into an
  :class:`OfficialVersion` without storing it, :func:`find_defects` lists its known defects;
  :func:`store_official_images` stores a folder of official images as crops.
* The document parsers, each raising :class:`kaokore.errors.DocumentError` naming the URL
  and the field: :func:`parse_feed_page`, :func:`parse_curation`, :func:`parse_manifest`,
  :func:`parse_info`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kaokore.lazy import lazy_exports

if TYPE_CHECKING:
    from kaokore.ingest.client import ClientSettings
    from kaokore.ingest.curation import parse_curation
    from kaokore.ingest.feed import parse_feed_page
    from kaokore.ingest.harvester import HarvestOptions, fetch_crops_only, harvest
    from kaokore.ingest.imageservice import parse_info
    from kaokore.ingest.manifest import parse_manifest
    from kaokore.ingest.official import (
        OfficialImportReport,
        OfficialVersion,
        find_defects,
        import_official,
        read_official,
    )
    from kaokore.ingest.official_images import OfficialImagesReport, store_official_images
    from kaokore.ingest.report import HarvestReport

__all__ = [
    "ClientSettings",
    "HarvestOptions",
    "HarvestReport",
    "OfficialImagesReport",
    "OfficialImportReport",
    "OfficialVersion",
    "fetch_crops_only",
    "find_defects",
    "harvest",
    "import_official",
    "parse_curation",
    "parse_feed_page",
    "parse_info",
    "parse_manifest",
    "read_official",
    "store_official_images",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ClientSettings": "kaokore.ingest.client",
        "HarvestOptions": "kaokore.ingest.harvester",
        "HarvestReport": "kaokore.ingest.report",
        "OfficialImagesReport": "kaokore.ingest.official_images",
        "OfficialImportReport": "kaokore.ingest.official",
        "OfficialVersion": "kaokore.ingest.official",
        "fetch_crops_only": "kaokore.ingest.harvester",
        "find_defects": "kaokore.ingest.official",
        "harvest": "kaokore.ingest.harvester",
        "import_official": "kaokore.ingest.official",
        "parse_curation": "kaokore.ingest.curation",
        "parse_feed_page": "kaokore.ingest.feed",
        "parse_info": "kaokore.ingest.imageservice",
        "parse_manifest": "kaokore.ingest.manifest",
        "read_official": "kaokore.ingest.official",
        "store_official_images": "kaokore.ingest.official_images",
    },
)
