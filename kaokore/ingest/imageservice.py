"""IIIF Image API ``info.json`` (2.1 and 3.0): what one image service allows.

The crop planner needs the compliance level (level 0 serves only listed sizes and tiles, so
crops are cut locally), the size limits (``maxWidth``/``maxHeight``/``maxArea``, which 2.1
puts in the profile's description object and 3.0 at the top level) and the listed sizes and
tiles. The level comes from ``profile``: in 2.1 a URI such as
``http://iiif.io/api/image/2/level1.json`` or an array whose first item is that URI; in 3.0
the string ``level0``/``level1``/``level2``.

Compliance profile documents (``.../image/2/level1.json`` itself) and Image API 1.x
services are not info.json documents kaokore can use: both are DocumentErrors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from kaokore.errors import DocumentError
from kaokore.ingest.jsonld import (
    as_dict,
    as_int,
    as_list,
    as_str,
    context_urls,
    join,
    node_types,
    require_object,
)
from kaokore.ingest.records import ApiVersion, ImageServiceInfo, Tile

__all__ = ["parse_info"]

_LEVEL: Final = re.compile(r"level([0-2])(?:\.json)?$")
_LIMITS: Final = ("maxWidth", "maxHeight", "maxArea")


def parse_info(doc: Mapping[str, Any], url: str) -> ImageServiceInfo:
    """Read an Image API 2.1 or 3.0 ``info.json`` fetched from ``url``.

    Raises DocumentError naming ``url`` and the field for a compliance profile document,
    an Image API 1.x service, or a missing or malformed id, size, size list or tile list.
    """
    doc = require_object(doc, url)
    _reject_profile_document(doc, url)
    version = _api_version(doc, url)
    id_key = "@id" if version == "2" else "id"
    base = as_str(doc.get(id_key, doc.get("id", doc.get("@id"))), url, f"/{id_key}")
    level, descriptions = _profile(doc.get("profile"), version, url)
    limits = {key: _limit(doc, descriptions, key, url) for key in _LIMITS}
    max_width, max_height = limits["maxWidth"], limits["maxHeight"]
    if max_width is not None and max_height is None:
        max_height = max_width  # both specifications: maxHeight defaults to maxWidth
    return ImageServiceInfo(
        base_url=base.strip().removesuffix("/info.json").rstrip("/"),
        api_version=version,
        level=level,
        width=as_int(doc.get("width"), url, "/width"),
        height=as_int(doc.get("height"), url, "/height"),
        max_width=max_width,
        max_height=max_height,
        max_area=limits["maxArea"],
        sizes=tuple(_sizes(doc.get("sizes"), url)),
        tiles=tuple(_tiles(doc.get("tiles"), url)),
        extra_features=_features(doc, descriptions),
    )


def _reject_profile_document(doc: Mapping[str, Any], url: str) -> None:
    types = node_types(doc)
    if any(name.endswith("ImageProfile") for name in types):
        field = "/@type" if "@type" in doc else "/type"
        raise DocumentError(
            "is an Image API compliance profile document, not an image's info.json",
            url=url,
            field=field,
        )


def _api_version(doc: Mapping[str, Any], url: str) -> ApiVersion:
    """2 or 3, from the context, else the type, else the id key."""
    contexts = " ".join(context_urls(doc))
    types = node_types(doc)
    if "iiif.io/api/image/3" in contexts or "ImageService3" in types:
        return "3"
    if "iiif.io/api/image/2" in contexts or "ImageService2" in types:
        return "2"
    if "image-api/1" in contexts or "iiif.io/api/image/1" in contexts:
        raise DocumentError(
            "is an Image API 1.x service; kaokore reads 2.1 and 3.0", url=url, field="/@context"
        )
    if "id" in doc and "@id" not in doc:
        return "3"
    if "@id" in doc:
        return "2"
    raise DocumentError("is not an Image API info.json", url=url, field="/@context")


def _profile(profile: object, version: ApiVersion, url: str) -> tuple[int, list[dict[str, Any]]]:
    """The compliance level and (2.1) the profile's description objects.

    A missing or unrecognised profile is taken as level 0, the most cautious reading: the
    crop is then cut locally from listed sizes or tiles, which every level serves.
    """
    values = profile if isinstance(profile, list) else [profile]
    descriptions = [value for value in values if isinstance(value, dict)]
    names = [value for value in values if isinstance(value, str)]
    if profile is not None and not isinstance(profile, str | list):
        raise DocumentError("expected a profile URI, name or array", url=url, field="/profile")
    for name in names[:1]:
        match = _LEVEL.search(name.strip())
        if match:
            return int(match.group(1)), descriptions
    return 0, descriptions


def _limit(
    doc: Mapping[str, Any], descriptions: list[dict[str, Any]], key: str, url: str
) -> int | None:
    if doc.get(key) is not None:
        return as_int(doc[key], url, f"/{key}")
    for index, description in enumerate(descriptions):
        if description.get(key) is not None:
            return as_int(description[key], url, f"/profile/{index + 1}/{key}")
    return None


def _sizes(value: object, url: str) -> Iterable[tuple[int, int]]:
    if value is None:
        return
    for index, item in enumerate(as_list(value, url, "/sizes")):
        field = join("/sizes", index)
        size = as_dict(item, url, field)
        yield (
            as_int(size.get("width"), url, join(field, "width")),
            as_int(size.get("height"), url, join(field, "height")),
        )


def _tiles(value: object, url: str) -> Iterable[Tile]:
    if value is None:
        return
    for index, item in enumerate(as_list(value, url, "/tiles")):
        field = join("/tiles", index)
        tile = as_dict(item, url, field)
        width = as_int(tile.get("width"), url, join(field, "width"))
        height = (
            width
            if tile.get("height") is None
            else as_int(tile["height"], url, join(field, "height"))
        )
        factors_field = join(field, "scaleFactors")
        factors = as_list(tile.get("scaleFactors"), url, factors_field)
        yield Tile(
            width=width,
            height=height,
            scale_factors=tuple(
                as_int(factor, url, join(factors_field, position))
                for position, factor in enumerate(factors)
            ),
        )


def _features(doc: Mapping[str, Any], descriptions: list[dict[str, Any]]) -> tuple[str, ...]:
    """3.0 ``extraFeatures`` and 2.1 profile ``supports``, in order, without repeats."""
    found: list[str] = []
    sources = [doc.get("extraFeatures")] + [item.get("supports") for item in descriptions]
    for source in sources:
        for item in source if isinstance(source, list) else []:
            if isinstance(item, str) and item not in found:
                found.append(item)
    return tuple(found)
