"""Stable keys for images, faces and works, and the parts of an Image API URL.

A face must keep its identity when its host changes what it serves: http becomes https,
``dl.ndl.go.jp`` becomes ``www.dl.ndl.go.jp``, and Kyoto's RMDA moved
``/iiif/RB00013604/x.ptif`` to ``/iiif/3/RB00013604%2Fx.ptif``. So a service key keeps only
the decoded path, less the API version segment after ``iiif``; a face key adds the square
region in image pixels. Keys are for identity only: requests always use the URLs as given,
identifiers still encoded.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import unquote, urlsplit

from kaokore.box import Box
from kaokore.ingest.records import ImageRequest

__all__ = ["face_key", "normalise_manifest_url", "service_key", "split_image_url"]

_INT: Final = r"-?\d+"
_DEC: Final = r"\d+(?:\.\d+)?"
_REGION: Final = re.compile(
    rf"^(?:full|square|pct:{_DEC},{_DEC},{_DEC},{_DEC}|{_INT},{_INT},\d+,\d+)$"
)
_SIZE: Final = re.compile(rf"^\^?(?:full|max|\d+,|,\d+|!?\d+,\d+|pct:{_DEC})$")
_ROTATION: Final = re.compile(rf"^!?{_DEC}$")
_QUALITY_FORMAT: Final = re.compile(r"^(\w+)\.(\w+)$")
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


def _split_http(url: str) -> tuple[str, str, str, str]:
    """(scheme, host[:port] lowercased, path, query) of an absolute http(s) URL."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"{url!r} is not an absolute http(s) URL")
    host = parts.hostname.lower()
    port = parts.port
    if port is not None and port != _DEFAULT_PORTS[parts.scheme.lower()]:
        host = f"{host}:{port}"
    return parts.scheme.lower(), host, parts.path, parts.query


def service_key(service_url: str) -> str:
    """The identity of an image service, stable across scheme, host and API-path moves.

    Scheme and host are dropped, the path is percent-decoded (``%2F`` becomes ``/``),
    ``/info.json``, a trailing ``/`` and repeated slashes are removed, and a segment that is
    exactly ``2`` or ``3`` right after a segment ``iiif`` is dropped.
    """
    _scheme, _host, path, _query = _split_http(service_url)
    path = unquote(path).removesuffix("/info.json")
    kept: list[str] = []
    for segment in path.split("/"):
        if not segment:
            continue
        if segment in ("2", "3") and kept and kept[-1] == "iiif":
            continue
        kept.append(segment)
    if not kept:
        raise ValueError(f"{service_url!r} names no image: its path is empty")
    return "/" + "/".join(kept)


def face_key(service_url: str, square: Box) -> str:
    """The identity of a face: its image service key and its square in image pixels."""
    return f"{service_key(service_url)}#{square.x},{square.y},{square.w},{square.h}"


def split_image_url(url: str) -> ImageRequest:
    """Split an Image API request URL into the service URL and the request parameters.

    ``{service}/{region}/{size}/{rotation}/{quality}.{format}``, as in the official
    ``urls.txt``. The service URL keeps the scheme and the path encoding as given (the host
    is lowercased). Raises ValueError saying which part is broken.
    """
    scheme, host, path, query = _split_http(url)
    if query:
        raise ValueError(f"{url!r}: an Image API request has no query string")
    segments = path.split("/")
    if len(segments) < 6 or not any(segments[1:-4]):
        raise ValueError(
            f"{url!r} is not {{service}}/{{region}}/{{size}}/{{rotation}}/{{quality}}.{{format}}"
        )
    region, size, rotation, quality_format = segments[-4:]
    _check(_REGION, region, url, "region", "full, square, pct:x,y,w,h or x,y,w,h")
    _check(_SIZE, size, url, "size", "full, max, w, ,h, w,h, !w,h or pct:n (^ allowed)")
    _check(_ROTATION, rotation, url, "rotation", "a number of degrees, ! allowed")
    match = _QUALITY_FORMAT.match(quality_format)
    if match is None:
        raise ValueError(f"{url!r}: {quality_format!r} is not {{quality}}.{{format}}")
    if region.count(",") == 3 and not region.startswith("pct:"):
        width, height = (int(part) for part in region.split(",")[2:])
        if width < 1 or height < 1:
            raise ValueError(f"{url!r}: the region {region!r} is empty")
    return ImageRequest(
        service_url=f"{scheme}://{host}{'/'.join(segments[:-4])}",
        region=region,
        size=size,
        rotation=rotation,
        quality=match.group(1),
        format=match.group(2),
    )


def _check(pattern: re.Pattern[str], value: str, url: str, name: str, expected: str) -> None:
    if pattern.match(value) is None:
        raise ValueError(f"{url!r}: the {name} {value!r} is not {expected}")


def normalise_manifest_url(url: str) -> str:
    """The identity of a manifest (a work): no scheme, host lowercased, path as given.

    A default port and the fragment are dropped; a query string is kept, since some hosts
    name the manifest in it.
    """
    _scheme, host, path, query = _split_http(url)
    return f"{host}{path}" + (f"?{query}" if query else "")
