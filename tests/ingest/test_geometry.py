"""Canvas regions to image squares, and crop plans for every Image API version and level.

The plans are checked twice: for the exact requests (what a strict server accepts) and end
to end, against a tiny in-memory Image API server built on a synthetic image, comparing the
stitched crop with the same crop cut straight from the image.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kaokore.box import Box
from kaokore.ingest.geometry import (
    centred_square,
    clamp_square,
    execute_plan,
    intersect,
    plan_crop,
    scale_to_image,
)
from kaokore.ingest.identity import split_image_url
from kaokore.ingest.imageservice import parse_info
from kaokore.ingest.manifest import parse_manifest
from kaokore.ingest.records import CropPlan, ImageServiceInfo, Tile

BASE = "https://rmda.kulib.kyoto-u.ac.jp/iiif/3/RB00013604%2FRB00013604_00003_0.ptif"


def info(
    *,
    version: str = "3",
    level: int = 2,
    width: int = 1000,
    height: int = 700,
    sizes: tuple[tuple[int, int], ...] = (),
    tiles: tuple[Tile, ...] = (),
    max_width: int | None = None,
    max_height: int | None = None,
    max_area: int | None = None,
) -> ImageServiceInfo:
    return ImageServiceInfo(
        base_url=BASE,
        api_version="3" if version == "3" else "2",
        level=level,
        width=width,
        height=height,
        max_width=max_width,
        max_height=max_height,
        max_area=max_area,
        sizes=sizes,
        tiles=tiles,
        extra_features=(),
    )


def square(x: int, y: int, side: int) -> Box:
    return Box(x=x, y=y, w=side, h=side)


# --- coordinates --------------------------------------------------------------------------


def test_scale_to_image_is_the_identity_when_sizes_agree() -> None:
    region = Box(x=607, y=2554, w=654, h=646)
    assert scale_to_image(region, 4000, 3000, 4000, 3000) == region


def test_scale_to_image_when_the_image_is_twice_the_canvas(fixtures_dir: Path) -> None:
    path = fixtures_dir / "iiif-presentation-validator" / "full_example.json"
    canvas = parse_manifest(json.loads(path.read_text(encoding="utf-8")), "u").canvases[0]
    assert (canvas.image_width, canvas.image_height) == (1500, 2000)
    region = Box(x=100, y=250, w=75, h=33)
    scaled = scale_to_image(region, canvas.width, canvas.height, 1500, 2000)
    assert scaled == Box(x=200, y=500, w=150, h=66)


def test_scale_to_image_when_the_canvas_is_twice_the_image() -> None:
    region = Box(x=101, y=51, w=75, h=33)
    # corners 101/2=50.5 -> 51 and 176/2=88 -> 88: half rounds up, width follows the corners
    assert scale_to_image(region, 2000, 1000, 1000, 500) == Box(x=51, y=26, w=37, h=16)
    assert scale_to_image(Box(x=10, y=10, w=1, h=1), 2000, 1000, 1000, 500).w == 1


def test_scale_to_image_rejects_empty_sizes() -> None:
    with pytest.raises(ValueError, match="canvas_w"):
        scale_to_image(Box(x=0, y=0, w=1, h=1), 0, 10, 10, 10)


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        (Box(x=100, y=50, w=40, h=60), Box(x=90, y=50, w=60, h=60)),
        (Box(x=100, y=50, w=61, h=40), Box(x=100, y=40, w=61, h=61)),  # odd difference
        (Box(x=5, y=0, w=10, h=30), Box(x=-5, y=0, w=30, h=30)),  # not clamped
        (Box(x=1181, y=1101, w=1, h=1), Box(x=1181, y=1101, w=1, h=1)),
    ],
)
def test_centred_square(region: Box, expected: Box) -> None:
    assert centred_square(region) == expected


@pytest.mark.parametrize(
    ("given", "image", "expected"),
    [
        (square(100, 100, 50), (1000, 700), square(100, 100, 50)),  # inside: unchanged
        (square(-30, 2032, 192), (3000, 4000), square(0, 2032, 192)),  # official v1.3 face
        (square(950, 680, 100), (1000, 700), square(900, 600, 100)),  # past right and bottom
        (square(-100, 100, 900), (1000, 700), square(0, 0, 700)),  # too large: shrinks
        (square(200, -50, 900), (1000, 700), square(300, 0, 700)),  # shrinks about its centre
    ],
)
def test_clamp_square(given: Box, image: tuple[int, int], expected: Box) -> None:
    assert clamp_square(given, *image) == expected


# --- plans: the exact requests ------------------------------------------------------------


def test_level_2_on_30_asks_for_the_region_at_max_never_an_upscale() -> None:
    plan = plan_crop(info(), square(184, 87, 107))
    (request,) = plan.requests
    assert request.url == f"{BASE}/184,87,107,107/max/0/default.jpg"  # not 256,256
    assert (plan.mosaic_size, plan.local_crop, plan.output_size) == ((107, 107), None, 256)


def test_level_1_on_21_asks_for_full_size() -> None:
    plan = plan_crop(info(version="2", level=1), square(10, 20, 300))
    assert plan.requests[0].url == f"{BASE}/10,20,300,300/full/0/default.jpg"
    assert plan.requests[0].scale == 1.0


def test_limits_turn_the_size_into_a_width(fixtures_dir: Path) -> None:
    path = fixtures_dir / "iiif-api" / "image_3.0_spec_complete_info.json"
    spec = parse_info(json.loads(path.read_text(encoding="utf-8")), "u")
    plan = plan_crop(spec, square(1000, 1000, 2500))  # 6.25 Mpx > maxArea, > maxHeight
    (request,) = plan.requests
    assert request.url == f"{spec.base_url}/1000,1000,2500,2500/2000,/0/default.jpg"
    assert (request.width, request.height, request.scale) == (2000, 2000, 1.25)
    small = plan_crop(spec, square(1000, 1000, 1500))
    assert small.requests[0].url.endswith("/1000,1000,1500,1500/max/0/default.jpg")


def test_max_width_alone_limits_the_width_on_21() -> None:
    service = info(version="2", level=1, width=2400, height=1600, max_width=300, max_height=300)
    plan = plan_crop(service, square(100, 100, 1000))
    assert plan.requests[0].url.endswith("/100,100,1000,1000/300,/0/default.jpg")


def test_a_square_partly_outside_requests_only_the_inside() -> None:
    plan = plan_crop(info(), square(-30, 600, 192))
    (request,) = plan.requests
    assert request.url == f"{BASE}/0,600,162,100/max/0/default.jpg"
    assert plan.mosaic_size == (162, 100)
    assert plan.local_crop is None  # cut at the edge: the inside is resized to the square


def test_level_0_takes_the_cheapest_listed_size_that_is_sharp_enough() -> None:
    service = info(level=0, width=6000, height=4000, sizes=((150, 100), (600, 400), (3000, 2000)))
    plan = plan_crop(service, square(1000, 1000, 1200))
    (request,) = plan.requests
    assert request.url == f"{BASE}/full/3000,2000/0/default.jpg"  # 600 px across the face
    assert plan.local_crop == Box(x=500, y=500, w=600, h=600)
    tiny = plan_crop(service, square(0, 0, 6000 // 4), target=64)
    assert tiny.requests[0].url == f"{BASE}/full/600,400/0/default.jpg"


def test_level_0_without_sizes_fetches_the_full_image() -> None:
    plan = plan_crop(info(version="2", level=0), square(10, 10, 100))
    assert plan.requests[0].url == f"{BASE}/full/full/0/default.jpg"
    assert plan.local_crop == square(10, 10, 100)
    plan3 = plan_crop(info(version="3", level=0, max_width=500), square(10, 10, 100))
    assert plan3.requests[0].url == f"{BASE}/full/max/0/default.jpg"  # max honours limits
    assert plan3.mosaic_size == (500, 350)
    with pytest.raises(ValueError, match="no request"):
        plan_crop(info(version="2", level=0, max_width=500), square(10, 10, 100))


def test_level_0_tiles_in_the_canonical_form_of_each_version() -> None:
    tiles = (Tile(width=512, height=512, scale_factors=(1, 2, 4, 8, 16)),)
    sizes = ((150, 100), (600, 400), (3000, 2000))
    for version, size in (("2", "512,"), ("3", "512,512")):
        service = info(version=version, level=0, width=6000, height=4000, sizes=sizes, tiles=tiles)
        plan = plan_crop(service, square(1000, 1000, 1200))
        # scale factor 4 (300 px across the face) costs 4 tiles, less than 3000x2000
        assert [request.url.removeprefix(BASE) for request in plan.requests] == [
            f"/0,0,2048,2048/{size}/0/default.jpg",
            f"/2048,0,2048,2048/{size}/0/default.jpg",
            f"/0,2048,2048,1952/512,{'' if version == '2' else '488'}/0/default.jpg",
            f"/2048,2048,2048,1952/512,{'' if version == '2' else '488'}/0/default.jpg",
        ]
        assert [(r.paste_x, r.paste_y) for r in plan.requests] == [
            (0, 0),
            (512, 0),
            (0, 512),
            (512, 512),
        ]
        assert plan.mosaic_size == (1024, 1000)
        assert plan.local_crop == Box(x=250, y=250, w=300, h=300)


def test_level_0_edge_tiles_are_cut_at_the_image_border() -> None:
    service = info(version="2", level=0, tiles=(Tile(width=256, height=256, scale_factors=(1,)),))
    plan = plan_crop(service, square(900, 600, 100))
    assert [request.url.removeprefix(BASE) for request in plan.requests] == [
        "/768,512,232,188/232,/0/default.jpg"
    ]


def test_no_request_asks_for_more_pixels_than_its_region() -> None:
    services = [
        info(version=v, level=level, max_width=mw, sizes=((250, 175),), tiles=tiles)
        for v in ("2", "3")
        for level in (0, 1, 2)
        for mw in (None, 400)
        for tiles in ((), (Tile(width=256, height=256, scale_factors=(1, 2, 4)),))
    ]
    squares = [square(-40, -40, 120), square(0, 0, 1), square(300, 200, 650), square(990, 690, 30)]
    for service in services:
        for face in squares:
            for request in plan_crop(service, face).requests:
                parts = split_image_url(request.url)
                box = parts.region_box or Box(x=0, y=0, w=service.width, h=service.height)
                assert request.width <= box.w and request.height <= box.h, request.url
                assert parts.size != "full" or service.api_version == "2", request.url
                assert parts.size != "max" or service.api_version == "3", request.url


@pytest.mark.parametrize(
    ("face", "message"),
    [(square(1000, 0, 50), "outside"), (Box(x=0, y=0, w=0, h=20), "width")],
)
def test_plan_crop_rejects_what_it_cannot_crop(face: Box, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_crop(info(), face)


# --- plans: end to end --------------------------------------------------------------------


def gradient(width: int = 1000, height: int = 700) -> Image.Image:
    """A smooth synthetic page, so resampling differences stay small."""
    xs = np.linspace(0, 255, width)[None, :].repeat(height, 0)
    ys = np.linspace(0, 255, height)[:, None].repeat(width, 1)
    pixels = np.stack([xs, ys, (xs + ys) / 2], axis=-1).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def serve(image: Image.Image, service: ImageServiceInfo, url: str) -> Image.Image:
    """A minimal Image API server: region x,y,w,h or full; size max, full, w, or w,h."""
    request = split_image_url(url)
    assert request.service_url == BASE
    box = request.region_box or Box(x=0, y=0, w=service.width, h=service.height)
    x1, y1 = min(box.x + box.w, image.width), min(box.y + box.h, image.height)
    cut = image.crop((box.x, box.y, x1, y1))
    if request.size in ("max", "full"):
        return cut
    width_text, height_text = request.size.split(",")
    width = int(width_text)
    height = int(height_text) if height_text else round(cut.height * width / cut.width)
    return cut.resize((width, height), Image.Resampling.LANCZOS)


def direct(image: Image.Image, face: Box, size: int) -> Image.Image:
    box = (face.x, face.y, face.x + face.w, face.y + face.h)
    return image.crop(box).resize((size, size), Image.Resampling.LANCZOS)


def run(image: Image.Image, service: ImageServiceInfo, plan: CropPlan) -> Image.Image:
    fetched = [serve(image, service, request.url) for request in plan.requests]
    return execute_plan(plan, fetched)


def difference(one: Image.Image, other: Image.Image) -> float:
    a = np.asarray(one, dtype=np.int16)
    b = np.asarray(other, dtype=np.int16)
    return float(np.abs(a - b).mean())


TILES = (Tile(width=128, height=128, scale_factors=(1, 2, 4)),)
SERVICES = {
    "3.0 level 2": info(),
    "2.1 level 1": info(version="2", level=1),
    "2.1 level 1, maxWidth 150": info(version="2", level=1, max_width=150),
    "3.0 level 0, sizes": info(level=0, sizes=((250, 175), (500, 350))),
    "2.1 level 0, tiles": info(version="2", level=0, tiles=TILES),
    "3.0 level 0, tiles": info(version="3", level=0, tiles=TILES),
}


@pytest.mark.parametrize("name", list(SERVICES))
@pytest.mark.parametrize("face", [square(300, 200, 400), square(130, 250, 140)])
def test_the_stitched_crop_matches_the_image(name: str, face: Box) -> None:
    image, service = gradient(), SERVICES[name]
    plan = plan_crop(service, face, target=128)
    crop = run(image, service, plan)
    assert crop.size == (128, 128) and crop.mode == "RGB"
    assert difference(crop, direct(image, face, 128)) < 3.0, name


@pytest.mark.parametrize("name", list(SERVICES))
@pytest.mark.parametrize("face", [square(-100, 100, 200), square(900, 600, 200)])
def test_a_square_partly_outside_is_cut_at_the_edge_then_squared(name: str, face: Box) -> None:
    """What an Image API server gives for ``{square}/256,256/``: the part inside, stretched."""
    image, service = gradient(), SERVICES[name]
    crop = run(image, service, plan_crop(service, face, target=100))
    inside = intersect(face, image.width, image.height)
    assert inside is not None and inside != face
    assert crop.size == (100, 100)
    assert difference(crop, direct(image, inside, 100)) < 3.0, name


def test_a_1x1_point_becomes_a_flat_crop() -> None:
    image = gradient()
    plan = plan_crop(info(), square(500, 350, 1))
    assert plan.requests[0].url == f"{BASE}/500,350,1,1/max/0/default.jpg"
    crop = np.asarray(run(image, info(), plan))
    assert crop.shape == (256, 256, 3)
    assert (crop == np.asarray(image)[350, 500]).all()


def test_execute_plan_resizes_images_that_come_back_at_another_size() -> None:
    image = gradient()
    plan = plan_crop(info(), square(300, 200, 400), target=128)
    fetched = [serve(image, info(), plan.requests[0].url).resize((399, 401))]
    assert difference(execute_plan(plan, fetched), direct(image, square(300, 200, 400), 128)) < 3
    with pytest.raises(ValueError, match="1 requests but 0 images"):
        execute_plan(plan, [])


def test_execute_plan_converts_grey_images_to_rgb() -> None:
    plan = plan_crop(info(), square(0, 0, 64), target=32)
    grey = Image.new("L", (64, 64), color=77)
    crop = execute_plan(plan, [grey])
    assert crop.mode == "RGB" and crop.getpixel((5, 5)) == (77, 77, 77)
