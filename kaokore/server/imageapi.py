"""The IIIF Image API as pure functions: parse a request, check it against a level, size it.

No I/O here, so every rule (clipping, ``^`` upscaling, level-0 tiles, size limits) is tested
without a socket. The rules are deliberately *strict*: a harvester that passes against this
server does not lean on leniency that a real level-0 or strict 3.0 server would not grant.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Final

from kaokore.box import Box

__all__ = [
    "ImageApiError",
    "ImageRequest",
    "RenderPlan",
    "ServiceConfig",
    "TileSpec",
    "info_json",
    "parse_image_request",
    "plan_request",
]

IMAGE_CONTEXT: Final = {
    2: "http://iiif.io/api/image/2/context.json",
    3: "http://iiif.io/api/image/3/context.json",
}
PROTOCOL: Final = "http://iiif.io/api/image"

#: The features each compliance level guarantees (profiles in ../shared/fixtures/iiif-api/).
#: ``regionSquare`` is a 2.1 extra: we grant it at level 2 and say so in the profile.
FEATURES: Final[dict[int, dict[int, frozenset[str]]]] = {
    2: {
        0: frozenset(),
        1: frozenset({"regionByPx", "sizeByW", "sizeByH", "sizeByPct"}),
        2: frozenset(
            {
                "regionByPx",
                "regionByPct",
                "regionSquare",
                "sizeByW",
                "sizeByH",
                "sizeByPct",
                "sizeByWh",
                "sizeByConfinedWh",
            }
        ),
    },
    3: {
        0: frozenset(),
        1: frozenset({"regionByPx", "regionSquare", "sizeByW", "sizeByH", "sizeByWh"}),
        2: frozenset(
            {
                "regionByPx",
                "regionByPct",
                "regionSquare",
                "sizeByW",
                "sizeByH",
                "sizeByWh",
                "sizeByPct",
                "sizeByConfinedWh",
            }
        ),
    },
}

FORMATS: Final = {"jpg": "image/jpeg", "png": "image/png"}
QUALITIES: Final = ("default", "color", "gray")


class ImageApiError(Exception):
    """A request the service refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class TileSpec:
    """One entry of ``tiles`` in info.json."""

    width: int
    height: int
    scale_factors: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class ServiceConfig:
    """How one image service behaves: its level, limits and the API versions it answers.

    ``upscale`` grants sizes above the region (2.1 ``sizeAboveFull``, 3.0 ``sizeUpscaling``
    with ``^``); ``strict`` makes 3.0 refuse an upscale written without ``^`` and refuse
    the 2.1-only size ``full``, as a conformant 3.0 server does.
    """

    level: int = 2
    versions: frozenset[int] = frozenset({2, 3})
    max_width: int | None = None
    max_height: int | None = None
    max_area: int | None = None
    sizes: tuple[tuple[int, int], ...] | None = None
    tiles: tuple[TileSpec, ...] | None = None
    upscale: bool = True
    strict: bool = True

    def __post_init__(self) -> None:
        if self.level not in (0, 1, 2):
            raise ValueError(f"Unknown level {self.level!r}. Valid values are [0, 1, 2]")
        if not self.versions or not self.versions <= {2, 3}:
            raise ValueError(f"Unknown versions {sorted(self.versions)!r}. Valid values are [2, 3]")

    def limits(self) -> tuple[int | None, int | None, int | None]:
        """(maxWidth, maxHeight, maxArea); maxHeight defaults to maxWidth as the spec says."""
        max_height = self.max_height if self.max_height is not None else self.max_width
        return self.max_width, max_height, self.max_area

    def tile_specs(self) -> tuple[TileSpec, ...]:
        """The tiles offered: configured, else 512 px at scale factors 1, 2, 4, 8."""
        return self.tiles if self.tiles is not None else (TileSpec(512, 512, (1, 2, 4, 8)),)

    def size_list(self, width: int, height: int) -> tuple[tuple[int, int], ...]:
        """The sizes offered: configured, else the image reduced by each tile scale factor."""
        if self.sizes is not None:
            return self.sizes
        factors = sorted(
            {f for t in self.tile_specs() for f in t.scale_factors if f > 1}, reverse=True
        )
        sizes = [(math.ceil(width / f), math.ceil(height / f)) for f in factors]
        return tuple(s for s in sizes if _within_limits(s, self.limits()))


@dataclass(frozen=True)
class ImageRequest:
    """The four path parameters of an image request, as written (not yet interpreted)."""

    version: int
    region: str
    size: str
    rotation: str
    quality: str
    format: str


@dataclass(frozen=True)
class RenderPlan:
    """What to cut and how large to make it: the result of checking a request."""

    box: Box
    width: int
    height: int
    quality: str
    format: str

    @property
    def media_type(self) -> str:
        return FORMATS[self.format]


def parse_image_request(
    version: int, region: str, size: str, rotation: str, last: str
) -> ImageRequest:
    """Split ``quality.format`` and keep the rest verbatim; syntax is checked in planning."""
    quality, dot, fmt = last.rpartition(".")
    if not dot or not quality:
        raise ImageApiError(400, f"expected quality.format, got {last!r}")
    return ImageRequest(version, region, size, rotation, quality, fmt)


_INT = r"(\d+)"
_NUM = r"(\d+(?:\.\d*)?|\.\d+)"
_PX_RE: Final = re.compile(rf"^{_INT},{_INT},{_INT},{_INT}$")
_PCT_RE: Final = re.compile(rf"^pct:{_NUM},{_NUM},{_NUM},{_NUM}$")
_W_RE: Final = re.compile(rf"^{_INT},$")
_H_RE: Final = re.compile(rf"^,{_INT}$")
_WH_RE: Final = re.compile(rf"^{_INT},{_INT}$")
_CONFINED_RE: Final = re.compile(rf"^!{_INT},{_INT}$")
_SIZE_PCT_RE: Final = re.compile(rf"^pct:{_NUM}$")


def _region(spec: str, width: int, height: int) -> tuple[Box, str | None]:
    """The clipped region and the feature it needs (None: always allowed)."""
    if spec == "full":
        return Box(x=0, y=0, w=width, h=height), None
    if spec == "square":
        side = min(width, height)
        return Box(x=(width - side) // 2, y=(height - side) // 2, w=side, h=side), "regionSquare"
    if m := _PX_RE.match(spec):
        x, y, w, h = (int(v) for v in m.groups())
        feature = "regionByPx"
    elif m := _PCT_RE.match(spec):
        px, py, pw, ph = (float(v) for v in m.groups())
        x, y = round(px * width / 100), round(py * height / 100)
        w, h = round(pw * width / 100), round(ph * height / 100)
        feature = "regionByPct"
    else:
        raise ImageApiError(400, f"invalid region {spec!r}")
    if w <= 0 or h <= 0:
        raise ImageApiError(400, f"region {spec!r} has zero width or height")
    if x >= width or y >= height:
        raise ImageApiError(400, f"region {spec!r} lies wholly outside the {width}x{height} image")
    # Servers clip a region that is partly outside the image (the spec says so).
    return Box(x=x, y=y, w=min(w, width - x), h=min(h, height - y)), feature


def _within_limits(
    size: tuple[int, int], limits: tuple[int | None, int | None, int | None]
) -> bool:
    max_w, max_h, max_area = limits
    w, h = size
    return (
        (max_w is None or w <= max_w)
        and (max_h is None or h <= max_h)
        and (max_area is None or w * h <= max_area)
    )


def _fit(
    w: int, h: int, limits: tuple[int | None, int | None, int | None], *, grow: bool = False
) -> tuple[int, int]:
    """Scale (w, h), keeping its aspect, to the largest size within the limits.

    Without ``grow`` the result is never larger than (w, h).
    """
    max_w, max_h, max_area = limits
    scale = math.inf if grow else 1.0
    if max_w is not None:
        scale = min(scale, max_w / w)
    if max_h is not None:
        scale = min(scale, max_h / h)
    if max_area is not None:
        scale = min(scale, math.sqrt(max_area / (w * h)))
    return max(1, math.floor(w * scale + 1e-9)), max(1, math.floor(h * scale + 1e-9))


def _size(
    spec: str, box: Box, version: int, config: ServiceConfig
) -> tuple[int, int, str | None, bool]:
    """(width, height, feature needed, upscaling asked for with ``^``)."""
    caret = False
    if version == 3 and spec.startswith("^"):
        caret, spec = True, spec[1:]
    rw, rh = box.w, box.h
    limits = config.limits()
    if spec == "full":
        if version == 3 and config.strict:
            raise ImageApiError(400, "size 'full' is not part of Image API 3.0: use 'max'")
        return rw, rh, None, caret
    if spec == "max":
        # ^max may grow the region up to the limits; without limits it is the region size.
        grow = caret and config.upscale and any(v is not None for v in limits)
        w, h = _fit(rw, rh, limits, grow=grow)
        return w, h, None, caret
    if m := _W_RE.match(spec):
        w = int(m.group(1))
        return w, max(1, round(rh * w / rw)), "sizeByW", caret
    if m := _H_RE.match(spec):
        h = int(m.group(1))
        return max(1, round(rw * h / rh)), h, "sizeByH", caret
    if m := _SIZE_PCT_RE.match(spec):
        pct = float(m.group(1))
        if pct <= 0:
            raise ImageApiError(400, f"size {spec!r} must be above zero")
        return max(1, round(rw * pct / 100)), max(1, round(rh * pct / 100)), "sizeByPct", caret
    if m := _WH_RE.match(spec):
        return int(m.group(1)), int(m.group(2)), "sizeByWh", caret
    if m := _CONFINED_RE.match(spec):
        cw, ch = int(m.group(1)), int(m.group(2))
        scale = min(cw / rw, ch / rh)
        if version == 3 and not caret:
            scale = min(scale, 1.0)  # 3.0: "not larger than the extracted region" without ^
        return (
            max(1, math.floor(rw * scale)),
            max(1, math.floor(rh * scale)),
            "sizeByConfinedWh",
            caret,
        )
    raise ImageApiError(400, f"invalid size {spec!r}")


def _is_tile(box: Box, w: int, h: int, width: int, height: int, config: ServiceConfig) -> bool:
    """Whether (box, size) is one of the tiles info.json offers (what level 0 serves)."""
    for tile in config.tile_specs():
        for factor in tile.scale_factors:
            step_w, step_h = tile.width * factor, tile.height * factor
            if box.x % step_w or box.y % step_h:
                continue
            if box.w != min(step_w, width - box.x) or box.h != min(step_h, height - box.y):
                continue
            if w == math.ceil(box.w / factor) and abs(h - math.ceil(box.h / factor)) <= 1:
                return True
    return False


def plan_request(
    request: ImageRequest, width: int, height: int, config: ServiceConfig
) -> RenderPlan:
    """Check ``request`` against the service and return what to render, or raise ImageApiError.

    Status codes: 400 for a malformed or refused request (unsupported feature at this level,
    upscale without ``^``, over the size limits), 501 for rotations and qualities that are
    valid IIIF but not implemented here.
    """
    version = request.version
    try:
        box, region_feature = _region(request.region, width, height)
        w, h, size_feature, caret = _size(request.size, box, version, config)
    except (OverflowError, ValueError) as exc:  # numbers too large for a float or an int
        raise ImageApiError(
            400, f"region {request.region[:40]!r} or size {request.size[:40]!r} is out of range"
        ) from exc
    if w <= 0 or h <= 0:
        raise ImageApiError(400, f"size {request.size!r} gives an empty image")

    if config.level == 0:
        listed = request.region == "full" and (
            request.size in ("full", "max") or (w, h) in config.size_list(width, height)
        )
        if not (listed or _is_tile(box, w, h, width, height, config)):
            raise ImageApiError(
                400,
                f"this is a level 0 service: only region 'full' at the listed sizes, or tiles; "
                f"not {request.region}/{request.size}",
            )
    else:
        features = FEATURES[version][config.level]
        for feature in (region_feature, size_feature):
            if feature is None or feature in features:
                continue
            if feature == "sizeByWh" and version == 2 and (w, h) in config.size_list(width, height):
                continue  # sizeByWhListed: a listed size is always allowed
            raise ImageApiError(
                400,
                f"{feature} is not supported by this level {config.level} service "
                f"({request.region}/{request.size})",
            )

    if w > box.w or h > box.h:
        if version == 3 and not caret and config.strict:
            raise ImageApiError(
                400,
                f"size {w}x{h} is larger than the region {box.w}x{box.h}: "
                "Image API 3.0 needs '^' to upscale",
            )
        if not config.upscale:
            raise ImageApiError(
                400, f"this service does not upscale ({w}x{h} > region {box.w}x{box.h})"
            )
    if not _within_limits((w, h), config.limits()):
        raise ImageApiError(400, f"size {w}x{h} is above the service limits {config.limits()}")

    rotation = request.rotation
    if rotation != "0":
        if re.fullmatch(r"!?\d+(\.\d+)?", rotation):
            raise ImageApiError(501, f"rotation {rotation!r} is not implemented (only 0)")
        raise ImageApiError(400, f"invalid rotation {rotation!r}")
    if request.quality not in QUALITIES:
        status = 501 if request.quality == "bitonal" else 400
        raise ImageApiError(status, f"quality {request.quality!r} is not supported")
    if config.level == 0 and request.quality != "default":
        raise ImageApiError(400, "a level 0 service serves quality 'default' only")
    if request.format not in FORMATS or (request.format == "png" and config.level < 2):
        raise ImageApiError(400, f"format {request.format!r} is not supported by this service")
    return RenderPlan(box, w, h, request.quality, request.format)


def info_json(
    *, version: int, service_id: str, width: int, height: int, config: ServiceConfig
) -> dict[str, Any]:
    """The info.json of a service, in the shape of the version asked for."""
    max_w, max_h, max_area = config.limits()
    sizes = [{"width": w, "height": h} for w, h in config.size_list(width, height)]
    tiles = [
        {"width": t.width, "height": t.height, "scaleFactors": list(t.scale_factors)}
        for t in config.tile_specs()
    ]
    formats = ["jpg", "png"] if config.level >= 2 else ["jpg"]
    qualities = ["default", "color", "gray"] if config.level >= 1 else ["default"]
    limits: dict[str, int] = {}
    if max_w is not None:
        limits["maxWidth"] = max_w
    if config.max_height is not None and max_h is not None:
        limits["maxHeight"] = max_h
    if max_area is not None:
        limits["maxArea"] = max_area
    if version == 2:
        supports = ["baseUriRedirect", "cors", "jsonldMediaType"] if config.level >= 1 else []
        if config.level >= 2:
            supports.append("regionSquare")
        if config.upscale and config.level >= 1:
            supports.append("sizeAboveFull")
        return {
            "@context": IMAGE_CONTEXT[2],
            "@id": service_id,
            "protocol": PROTOCOL,
            "width": width,
            "height": height,
            **limits,
            "profile": [
                f"http://iiif.io/api/image/2/level{config.level}.json",
                {"formats": formats, "qualities": qualities, "supports": supports},
            ],
            "sizes": sizes,
            "tiles": tiles,
        }
    info: dict[str, Any] = {
        "@context": IMAGE_CONTEXT[3],
        "id": service_id,
        "type": "ImageService3",
        "protocol": PROTOCOL,
        "profile": f"level{config.level}",
        "width": width,
        "height": height,
        **limits,
        "sizes": sizes,
        "tiles": tiles,
    }
    if config.level >= 1:
        info["extraQualities"] = ["color", "gray"]
        if config.upscale:
            info["extraFeatures"] = ["sizeUpscaling"]
    return info
