"""Image API info.json, 2.1 and 3.0: level, limits, sizes and tiles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kaokore.errors import DocumentError
from kaokore.ingest.imageservice import parse_info
from kaokore.ingest.records import Tile

SPEC_ID = "image-service/abcd1234/1E34750D-38DB-4825-A38A-B60A345E591C"
SPEC_SIZES = ((150, 100), (600, 400), (3000, 2000))


def load(fixtures_dir: Path, relative: str) -> dict[str, Any]:
    with (fixtures_dir / relative).open(encoding="utf-8") as handle:
        return json.load(handle)  # type: ignore[no-any-return]


def test_image_21_complete(fixtures_dir: Path) -> None:
    info = parse_info(load(fixtures_dir, "iiif-api/image_2.1_spec_complete_info.json"), "u")
    assert info.base_url == f"http://www.example.org/{SPEC_ID}"
    assert (info.api_version, info.level) == ("2", 2)  # profile array, URI first
    assert (info.width, info.height) == (6000, 4000)
    assert info.sizes == SPEC_SIZES
    assert info.tiles == (
        Tile(width=512, height=512, scale_factors=(1, 2, 4)),
        Tile(width=1024, height=2048, scale_factors=(8, 16)),
    )
    assert (info.max_width, info.max_height, info.max_area) == (None, None, None)
    assert info.extra_features == (
        "canonicalLinkHeader",
        "rotationArbitrary",
        "profileLinkHeader",
        "http://example.com/feature/",
    )


def test_image_21_minimal(fixtures_dir: Path) -> None:
    info = parse_info(load(fixtures_dir, "iiif-api/image_2.1_spec_minimal_info.json"), "u")
    assert (info.api_version, info.level) == ("2", 2)
    assert info.tiles == (Tile(width=512, height=512, scale_factors=(1, 2, 4, 8, 16)),)
    assert info.extra_features == ()


def test_image_30_complete_has_limits(fixtures_dir: Path) -> None:
    info = parse_info(load(fixtures_dir, "iiif-api/image_3.0_spec_complete_info.json"), "u")
    assert info.base_url == f"https://example.org/{SPEC_ID}"
    assert (info.api_version, info.level) == ("3", 1)  # "level1", and a second context
    assert (info.max_width, info.max_height, info.max_area) == (3000, 2000, 4_000_000)
    assert info.sizes == SPEC_SIZES
    assert info.extra_features == ("canonicalLinkHeader", "rotationArbitrary", "profileLinkHeader")


def test_image_30_minimal_drops_the_trailing_slash(fixtures_dir: Path) -> None:
    info = parse_info(load(fixtures_dir, "iiif-api/image_3.0_spec_minimal_info.json"), "u")
    assert info.base_url == "https://example.org/image-service"
    assert (info.api_version, info.level) == ("3", 2)
    assert (info.sizes, info.tiles) == ((), ())


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("info-2.0.json", "2"),
        ("info-3.0.json", "3"),
        ("info-3.0-logo.json", "3"),
        ("info-3.0-service.json", "3"),
        ("info-3.0-service-label.json", "3"),
        ("info-3.0-service-badlabel.json", "3"),
    ],
)
def test_validator_info_files(fixtures_dir: Path, name: str, version: str) -> None:
    info = parse_info(load(fixtures_dir, f"iiif-image-validator/{name}"), "u")
    assert (info.api_version, info.level, info.width, info.height) == (version, 1, 1000, 1000)
    assert info.tiles == (Tile(width=512, height=512, scale_factors=(1,)),)
    assert info.base_url.endswith("/67352ccc-d1b0-11e1-89ae-279075081939")


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("image__2__level0.json", "/@type"),
        ("image__2__level1.json", "/@type"),
        ("image__2__level2.json", "/@type"),
        ("image__3__level0.json", "/type"),
        ("image__3__level1.json", "/type"),
        ("image__3__level2.json", "/type"),
    ],
)
def test_compliance_profile_documents_are_not_info_json(
    fixtures_dir: Path, name: str, field: str
) -> None:
    with pytest.raises(DocumentError) as caught:
        parse_info(load(fixtures_dir, f"iiif-api/{name}"), f"http://iiif.io/api/image/x/{name}")
    assert caught.value.field == field
    assert "compliance profile" in caught.value.reason


KEIO_LIKE: dict[str, Any] = {
    "@context": "http://iiif.io/api/image/2/context.json",
    "@id": "https://iiif.lib.keio.ac.jp/iipsrv/NRE/132X-200-3-3/tif/3_003.tif",
    "protocol": "http://iiif.io/api/image",
    "width": 2400,
    "height": 1600,
    "profile": [
        "http://iiif.io/api/image/2/level1.json",
        {"maxWidth": 1200, "supports": ["regionByPx", "sizeByW"]},
    ],
    "tiles": [{"width": 256, "scaleFactors": [1, 2, 4, 8]}],
}


def test_21_limits_live_in_the_profile_and_height_defaults_to_width() -> None:
    info = parse_info(KEIO_LIKE, KEIO_LIKE["@id"] + "/info.json")
    assert info.level == 1
    assert (info.max_width, info.max_height, info.max_area) == (1200, 1200, None)
    assert info.tiles == (Tile(width=256, height=256, scale_factors=(1, 2, 4, 8)),)
    assert info.extra_features == ("regionByPx", "sizeByW")


def test_a_profile_uri_string_and_a_missing_profile() -> None:
    as_string = dict(KEIO_LIKE, profile="http://iiif.io/api/image/2/level0.json")
    assert parse_info(as_string, "u").level == 0
    without = {key: value for key, value in KEIO_LIKE.items() if key != "profile"}
    assert parse_info(without, "u").level == 0  # the cautious reading


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"width": None}, "/width"),
        ({"height": "tall"}, "/height"),
        ({"@id": ""}, "/@id"),
        ({"sizes": [{"width": 10}]}, "/sizes/0/height"),
        ({"tiles": [{"width": 256, "scaleFactors": [1, 0]}]}, "/tiles/0/scaleFactors/1"),
        ({"maxArea": -5}, "/maxArea"),
        (
            {"@context": "http://library.stanford.edu/iiif/image-api/1.1/context.json"},
            "/@context",
        ),
    ],
)
def test_malformed_info_names_the_field(change: dict[str, Any], field: str) -> None:
    url = "https://iiif.lib.keio.ac.jp/iipsrv/NRE/132X-200-3-3/tif/3_003.tif/info.json"
    with pytest.raises(DocumentError) as caught:
        parse_info(dict(KEIO_LIKE, **change), url)
    assert caught.value.field == field
    assert caught.value.url == url
