"""From a curation's region to a face crop: coordinates, squares and Image API requests.

The steps, all pure:

1. :func:`scale_to_image`: ``#xywh=`` is in canvas coordinates; the image can be larger or
   smaller than the canvas (the official KaoKore URLs skip this step).
2. :func:`centred_square`: the face as a square around the region, unclamped (this is what
   the face key uses, as the official crops did, negative coordinates included).
3. :func:`intersect`: the part of the square inside the image, which is what is cut.
4. :func:`plan_crop`: the requests the service's version and level allow, and how to turn
   the fetched images into the crop; :func:`execute_plan` does that with Pillow.

Requests never ask for a size above the region (a strict 3.0 server refuses it without
``^``) and respect ``maxWidth``/``maxHeight``/``maxArea``; level 0 gets only listed sizes or
tiles, and the crop is cut locally.

A square that reaches past the image's edge (real KaoKore regions do: ``-19,1240,195,195``)
is cut at the edge, as the Image API specifies for such a region (never padded, never
refused), and the part inside is resized to the square output: exactly what the official
``{region}/256,256/`` requests gave, so the crop looks like the official image of the face.
:func:`clamp_square` (shifting the square inside) is kept for callers that want it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from PIL import Image

from kaokore.box import Box
from kaokore.ingest.records import CropPlan, ImageServiceInfo, Tile, TileRequest

__all__ = [
    "DEFAULT_CROP_SIZE",
    "centred_square",
    "clamp_square",
    "execute_plan",
    "intersect",
    "plan_crop",
    "scale_to_image",
]

#: The side of a KaoKore face image.
DEFAULT_CROP_SIZE = 256


def _round_div(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up, exactly (integers only)."""
    return (2 * numerator + denominator) // (2 * denominator)


def _positive(**sizes: int) -> None:
    for name, value in sizes.items():
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")


def scale_to_image(region: Box, canvas_w: int, canvas_h: int, image_w: int, image_h: int) -> Box:
    """Map a canvas region to image pixels: scale by image/canvas per axis and round.

    The corners are scaled and rounded (half up), so equal sizes give the region back
    unchanged; the result is at least 1x1.
    """
    _positive(canvas_w=canvas_w, canvas_h=canvas_h, image_w=image_w, image_h=image_h)
    x0 = _round_div(region.x * image_w, canvas_w)
    y0 = _round_div(region.y * image_h, canvas_h)
    x1 = _round_div((region.x + region.w) * image_w, canvas_w)
    y1 = _round_div((region.y + region.h) * image_h, canvas_h)
    return Box(x=x0, y=y0, w=max(1, x1 - x0), h=max(1, y1 - y0))


def centred_square(region: Box) -> Box:
    """The square of side ``max(w, h)`` centred on the region; NOT clamped to the image."""
    side = max(region.w, region.h)
    return Box(
        x=region.x - (side - region.w) // 2,
        y=region.y - (side - region.h) // 2,
        w=side,
        h=side,
    )


def clamp_square(square: Box, image_w: int, image_h: int) -> Box:
    """Keep a square inside the image: shift it, and shrink it (about its centre) only if
    its side exceeds the image's shorter side."""
    _positive(image_w=image_w, image_h=image_h)
    side = _square_side(square)
    x, y = square.x, square.y
    limit = min(image_w, image_h)
    if side > limit:
        x += (side - limit) // 2
        y += (side - limit) // 2
        side = limit
    x = min(max(x, 0), image_w - side)
    y = min(max(y, 0), image_h - side)
    return Box(x=x, y=y, w=side, h=side)


def _square_side(square: Box) -> int:
    if square.w != square.h or square.w < 1:
        raise ValueError(f"expected a square, got {square.iiif} (see centred_square)")
    return square.w


def intersect(region: Box, image_w: int, image_h: int) -> Box | None:
    """The part of ``region`` inside a ``image_w`` x ``image_h`` image, or None."""
    x0, y0 = max(region.x, 0), max(region.y, 0)
    x1, y1 = min(region.x + region.w, image_w), min(region.y + region.h, image_h)
    if x1 <= x0 or y1 <= y0:
        return None
    return Box(x=x0, y=y0, w=x1 - x0, h=y1 - y0)


# --- planning -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class _Candidate:
    """A way to get the crop, with its effective resolution and cost in fetched pixels."""

    plan: CropPlan
    effective: float
    cost: int


def plan_crop(info: ImageServiceInfo, square: Box, target: int = DEFAULT_CROP_SIZE) -> CropPlan:
    """Plan the requests that give ``square`` (image pixels) as a ``target`` px crop.

    ``square`` may already be a rectangle cut at the edge (a stored face's cut). It is first
    cut at the image's edge (see the module doc): the part inside, a rectangle where the
    square reached past the edge, is what the plan gives, resized to ``target`` squared.

    Level 1 and 2 (2.1 and 3.0): one request for that part at its own size (``max`` on 3.0,
    ``full`` on 2.1) or, where that exceeds a size limit, at the largest ``{w},`` the limits
    allow. Level 0: the cheapest of the listed sizes (or the full
    image) and the tile grids that still resolve the square at ``target`` px or more (else
    the sharpest), cut locally. Raises ValueError for a square wholly outside the image or
    when the service allows no request at all.
    """
    _positive(target=target, width=square.w, height=square.h)
    inside = intersect(square, info.width, info.height)
    if inside is None:
        raise ValueError(
            f"the square {square.iiif} lies outside the {info.width}x{info.height} image"
        )
    square, side = inside, max(inside.w, inside.h)
    if info.level >= 1:
        return _region_plan(info, square, inside, target)
    candidates = [
        *_size_candidates(info, square, side, target),
        *_tile_candidates(info, square, inside, side, target),
    ]
    if not candidates:
        raise ValueError(
            f"{info.base_url} (level 0) lists no sizes or tiles and its full image exceeds "
            "its size limits: no request can give the crop"
        )
    return _choose(candidates, target).plan


def _choose(candidates: list[_Candidate], target: int) -> _Candidate:
    sharp = [item for item in candidates if item.effective >= target]
    if sharp:
        return min(sharp, key=lambda item: (item.cost, -item.effective))
    return min(candidates, key=lambda item: (-item.effective, item.cost))


def _region_plan(info: ImageServiceInfo, square: Box, inside: Box, target: int) -> CropPlan:
    width, height = _fit_limits(inside.w, inside.h, info)
    if (width, height) == (inside.w, inside.h):
        size = "max" if info.api_version == "3" else "full"
    else:
        size = f"{width},"
    request = TileRequest(
        url=f"{info.base_url}/{inside.iiif}/{size}/0/default.jpg",
        paste_x=0,
        paste_y=0,
        width=width,
        height=height,
        scale=inside.w / width,
    )
    crop = None
    if inside != square:
        crop = _scaled_box(square, inside.x, inside.y, width, inside.w, height, inside.h)
    return CropPlan(
        requests=(request,), mosaic_size=(width, height), local_crop=crop, output_size=target
    )


def _scaled_box(
    box: Box, origin_x: int, origin_y: int, num_x: int, den_x: int, num_y: int, den_y: int
) -> Box:
    """``box`` relative to an origin, scaled by ``num/den`` per axis, corners rounded."""
    x0 = _round_div((box.x - origin_x) * num_x, den_x)
    y0 = _round_div((box.y - origin_y) * num_y, den_y)
    x1 = _round_div((box.x + box.w - origin_x) * num_x, den_x)
    y1 = _round_div((box.y + box.h - origin_y) * num_y, den_y)
    return Box(x=x0, y=y0, w=max(1, x1 - x0), h=max(1, y1 - y0))


def _fit_limits(width: int, height: int, info: ImageServiceInfo) -> tuple[int, int]:
    """The largest ``w,``-scaled size of a ``width`` x ``height`` region within the limits."""
    if _within_limits(width, height, info):
        return width, height
    factor = 1.0
    if info.max_width is not None:
        factor = min(factor, info.max_width / width)
    if info.max_height is not None:
        factor = min(factor, info.max_height / height)
    if info.max_area is not None:
        factor = min(factor, math.sqrt(info.max_area / (width * height)))
    scaled = max(1, math.floor(width * factor))
    while scaled > 1 and not _within_limits(scaled, _scaled_height(width, height, scaled), info):
        scaled -= 1
    return scaled, _scaled_height(width, height, scaled)


def _scaled_height(width: int, height: int, scaled_width: int) -> int:
    return max(1, _round_div(height * scaled_width, width))


def _within_limits(width: int, height: int, info: ImageServiceInfo) -> bool:
    return (
        (info.max_width is None or width <= info.max_width)
        and (info.max_height is None or height <= info.max_height)
        and (info.max_area is None or width * height <= info.max_area)
    )


def _size_candidates(
    info: ImageServiceInfo, square: Box, side: int, target: int
) -> Iterable[_Candidate]:
    """The whole image at each listed size, and at full size where the limits allow."""
    sizes = {(width, height): f"{width},{height}" for width, height in info.sizes}
    full_size = _fit_limits(info.width, info.height, info)
    if info.api_version == "3":
        sizes[full_size] = "max"  # 3.0 max honours the limits itself
    elif full_size == (info.width, info.height):
        sizes[full_size] = "full"
    for (width, height), size in sizes.items():
        request = TileRequest(
            url=f"{info.base_url}/full/{size}/0/default.jpg",
            paste_x=0,
            paste_y=0,
            width=width,
            height=height,
            scale=info.width / width,
        )
        crop = _scaled_box(square, 0, 0, width, info.width, height, info.height)
        plan = CropPlan(
            requests=(request,), mosaic_size=(width, height), local_crop=crop, output_size=target
        )
        yield _Candidate(plan=plan, effective=side * width / info.width, cost=width * height)


def _tile_candidates(
    info: ImageServiceInfo, square: Box, inside: Box, side: int, target: int
) -> Iterable[_Candidate]:
    for tile in info.tiles:
        for factor in tile.scale_factors:
            plan = _tile_plan(info, tile, factor, square, inside, target)
            cost = sum(request.width * request.height for request in plan.requests)
            yield _Candidate(plan=plan, effective=side / factor, cost=cost)


def _tile_plan(
    info: ImageServiceInfo, tile: Tile, factor: int, square: Box, inside: Box, target: int
) -> CropPlan:
    """The grid tiles at ``factor`` covering ``inside``, pasted into one mosaic."""
    span_x, span_y = tile.width * factor, tile.height * factor
    columns = range(inside.x // span_x, (inside.x + inside.w - 1) // span_x + 1)
    rows = range(inside.y // span_y, (inside.y + inside.h - 1) // span_y + 1)
    requests = tuple(
        _tile_request(info, tile, factor, column, row, columns.start, rows.start)
        for row in rows
        for column in columns
    )
    mosaic_w = max(request.paste_x + request.width for request in requests)
    mosaic_h = max(request.paste_y + request.height for request in requests)
    origin_x, origin_y = columns.start * span_x, rows.start * span_y
    crop = _scaled_box(square, origin_x, origin_y, 1, factor, 1, factor)
    return CropPlan(
        requests=requests, mosaic_size=(mosaic_w, mosaic_h), local_crop=crop, output_size=target
    )


def _tile_request(
    info: ImageServiceInfo, tile: Tile, factor: int, column: int, row: int, col0: int, row0: int
) -> TileRequest:
    """One tile in the canonical form of the API version (2.1 ``w,``, 3.0 ``w,h``)."""
    x, y = column * tile.width * factor, row * tile.height * factor
    region_w = min(tile.width * factor, info.width - x)
    region_h = min(tile.height * factor, info.height - y)
    width, height = math.ceil(region_w / factor), math.ceil(region_h / factor)
    full = (x, y, region_w, region_h) == (0, 0, info.width, info.height)
    region = "full" if full else f"{x},{y},{region_w},{region_h}"
    if info.api_version == "3":
        size = "max" if full and factor == 1 else f"{width},{height}"
    else:
        size = "full" if full and factor == 1 else f"{width},"
    return TileRequest(
        url=f"{info.base_url}/{region}/{size}/0/default.jpg",
        paste_x=(column - col0) * tile.width,
        paste_y=(row - row0) * tile.height,
        width=width,
        height=height,
        scale=float(factor),
    )


# --- execution ----------------------------------------------------------------------------


def execute_plan(plan: CropPlan, images: Sequence[Image.Image]) -> Image.Image:
    """Turn the fetched images of a plan (in request order) into the RGB face crop.

    Each image is converted to RGB, resized to the size its request expects if the server
    answered another (rounding differs between servers), pasted into the mosaic; then the
    local crop is cut (black beyond the mosaic) and resized to ``output_size`` squared.
    """
    if len(images) != len(plan.requests):
        raise ValueError(f"the plan has {len(plan.requests)} requests but {len(images)} images")
    mosaic = Image.new("RGB", plan.mosaic_size)
    for request, image in zip(plan.requests, images, strict=True):
        piece = image.convert("RGB")
        if piece.size != (request.width, request.height):
            piece = piece.resize((request.width, request.height), Image.Resampling.LANCZOS)
        mosaic.paste(piece, (request.paste_x, request.paste_y))
    crop = plan.local_crop
    if crop is not None:
        mosaic = mosaic.crop((crop.x, crop.y, crop.x + crop.w, crop.y + crop.h))
    size = (plan.output_size, plan.output_size)
    if mosaic.size != size:
        mosaic = mosaic.resize(size, Image.Resampling.LANCZOS)
    return mosaic
