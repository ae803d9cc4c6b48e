"""The Image API rules as pure functions: no server, no socket."""

from __future__ import annotations

import pytest

from kaokore.box import Box
from kaokore.server.imageapi import (
    ImageApiError,
    ServiceConfig,
    TileSpec,
    info_json,
    parse_image_request,
    plan_request,
)

W, H = 1000, 600


def plan(
    region: str,
    size: str,
    *,
    version: int = 2,
    config: ServiceConfig | None = None,
    last: str = "default.jpg",
):
    request = parse_image_request(version, region, size, "0", last)
    return plan_request(request, W, H, config or ServiceConfig())


def refused(region: str, size: str, **kwargs: object) -> ImageApiError:
    with pytest.raises(ImageApiError) as info:
        plan(region, size, **kwargs)  # type: ignore[arg-type]
    return info.value


@pytest.mark.parametrize(
    ("region", "box"),
    [
        ("full", Box(x=0, y=0, w=W, h=H)),
        ("square", Box(x=200, y=0, w=600, h=600)),
        ("10,20,30,40", Box(x=10, y=20, w=30, h=40)),
        ("pct:10,10,50,50", Box(x=100, y=60, w=500, h=300)),
        ("900,500,300,300", Box(x=900, y=500, w=100, h=100)),  # clipped, as servers do
    ],
)
def test_regions(region: str, box: Box) -> None:
    assert plan(region, "max").box == box


@pytest.mark.parametrize(
    "region", ["1000,0,10,10", "0,600,10,10", "0,0,0,10", "-5,0,10,10", "pct:x", "box"]
)
def test_bad_or_outside_regions_are_400(region: str) -> None:
    assert refused(region, "max").status == 400


@pytest.mark.parametrize(
    ("version", "size", "expected"),
    [
        (2, "full", (200, 100)),
        (2, "max", (200, 100)),
        (2, "100,", (100, 50)),
        (2, ",50", (100, 50)),
        (2, "pct:50", (100, 50)),
        (2, "80,80", (80, 80)),
        (2, "!100,100", (100, 50)),
        (2, "256,256", (256, 256)),  # 2.1 may upscale (sizeAboveFull), as the official URLs do
        (3, "max", (200, 100)),
        (3, "100,", (100, 50)),
        (3, "!400,400", (200, 100)),  # 3.0 !w,h never grows the region without ^
        (3, "^!400,400", (400, 200)),
        (3, "^400,", (400, 200)),
        (3, "^pct:150", (300, 150)),
    ],
)
def test_sizes(version: int, size: str, expected: tuple[int, int]) -> None:
    result = plan("0,0,200,100", size, version=version)
    assert (result.width, result.height) == expected


def test_strict_3_refuses_upscale_without_caret_and_full() -> None:
    assert refused("0,0,200,100", "400,", version=3).status == 400
    assert refused("0,0,107,107", "256,256", version=3).status == 400  # the official KaoKore URL
    assert refused("0,0,200,100", "pct:150", version=3).status == 400
    assert refused("full", "full", version=3).status == 400
    lenient = ServiceConfig(strict=False)
    assert plan("0,0,107,107", "256,256", version=3, config=lenient).width == 256


def test_upscale_can_be_switched_off() -> None:
    config = ServiceConfig(upscale=False)
    assert refused("0,0,200,100", "^400,", version=3, config=config).status == 400
    assert refused("0,0,200,100", "400,", version=2, config=config).status == 400
    assert plan("0,0,200,100", "^100,", version=3, config=config).width == 100  # ^ alone is fine


def test_level_1_of_2_1_refuses_wh_and_confined_and_pct_region() -> None:
    level1 = ServiceConfig(level=1)
    for region, size in [
        ("0,0,200,100", "80,80"),
        ("0,0,200,100", "!80,80"),
        ("pct:0,0,10,10", "max"),
    ]:
        assert refused(region, size, config=level1).status == 400
    assert plan("0,0,200,100", "100,", config=level1).width == 100
    assert plan("0,0,200,100", "pct:50", config=level1).width == 100


def test_level_1_of_3_0_allows_wh_but_not_pct() -> None:
    level1 = ServiceConfig(level=1)
    assert plan("0,0,200,100", "80,80", version=3, config=level1).width == 80
    assert refused("0,0,200,100", "pct:50", version=3, config=level1).status == 400
    assert refused("0,0,200,100", "!80,80", version=3, config=level1).status == 400


def test_level_0_serves_full_listed_sizes_and_tiles_only() -> None:
    level0 = ServiceConfig(
        level=0, tiles=(TileSpec(256, 256, (1, 2, 4)),), sizes=((250, 150), (500, 300))
    )
    assert plan("full", "full", config=level0).width == W
    assert plan("full", "250,", config=level0).height == 150
    assert plan("0,0,256,256", "256,", config=level0).width == 256  # a tile at scale 1
    assert plan("768,512,232,88", "232,", config=level0).height == 88  # an edge tile
    assert plan("512,0,488,512", "244,", config=level0).width == 244  # scale 2
    assert refused("10,10,100,100", "max", config=level0).status == 400
    assert refused("0,0,256,256", "128,", config=level0).status == 400
    assert refused("full", "300,", config=level0).status == 400
    assert refused("full", "full", config=level0, last="gray.jpg").status == 400


def test_limits() -> None:
    limited = ServiceConfig(max_width=500)
    result = plan("full", "max", config=limited)
    assert (result.width, result.height) == (500, 300)
    assert refused("full", "800,", config=limited).status == 400
    grown = plan("0,0,100,50", "^max", version=3, config=limited)
    assert (grown.width, grown.height) == (500, 250)
    area = plan("full", "max", config=ServiceConfig(max_area=60_000))
    assert area.width * area.height <= 60_000


@pytest.mark.parametrize(
    ("rotation", "status"), [("90", 501), ("!0", 501), ("22.5", 501), ("left", 400)]
)
def test_rotation_other_than_zero(rotation: str, status: int) -> None:
    with pytest.raises(ImageApiError) as info:
        plan_request(
            parse_image_request(2, "full", "max", rotation, "default.jpg"), W, H, ServiceConfig()
        )
    assert info.value.status == status


def test_quality_and_format() -> None:
    assert plan("full", "max", last="gray.png").format == "png"
    assert refused("full", "max", last="bitonal.jpg").status == 501
    assert refused("full", "max", last="default.gif").status == 400
    assert refused("full", "max", last="default.png", config=ServiceConfig(level=1)).status == 400
    with pytest.raises(ImageApiError):
        parse_image_request(2, "full", "max", "0", "default")


def test_info_json_2_1_required_fields() -> None:
    info = info_json(
        version=2, service_id="http://h/iiif/2/x", width=W, height=H, config=ServiceConfig(level=1)
    )
    assert info["@context"] == "http://iiif.io/api/image/2/context.json"
    assert info["@id"] == "http://h/iiif/2/x"
    assert info["protocol"] == "http://iiif.io/api/image"
    assert info["profile"][0] == "http://iiif.io/api/image/2/level1.json"
    assert (info["width"], info["height"]) == (W, H)
    assert info["tiles"][0]["scaleFactors"] == [1, 2, 4, 8]
    assert {"width": 125, "height": 75} in info["sizes"]


def test_info_json_3_0_required_fields() -> None:
    config = ServiceConfig(level=0, max_width=800)
    info = info_json(version=3, service_id="http://h/iiif/3/x", width=W, height=H, config=config)
    assert info["@context"] == "http://iiif.io/api/image/3/context.json"
    assert (info["id"], info["type"], info["profile"]) == (
        "http://h/iiif/3/x",
        "ImageService3",
        "level0",
    )
    assert info["maxWidth"] == 800
    assert "extraFeatures" not in info
