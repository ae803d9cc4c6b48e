"""Stable keys for services, faces and works; splitting Image API request URLs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from kaokore.box import Box
from kaokore.ingest.identity import (
    face_key,
    normalise_manifest_url,
    service_key,
    split_image_url,
)
from kaokore.ingest.records import ImageRequest

RMDA_OLD = "https://rmda.kulib.kyoto-u.ac.jp/iiif/RB00013604/RB00013604_00003_0.ptif"
RMDA_NEW = "https://rmda.kulib.kyoto-u.ac.jp/iiif/3/RB00013604%2FRB00013604_00003_0.ptif"


def test_rmda_move_to_image_api_3_keeps_the_key() -> None:
    assert service_key(RMDA_OLD) == service_key(RMDA_NEW)
    assert service_key(RMDA_NEW) == "/iiif/RB00013604/RB00013604_00003_0.ptif"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (
            "http://iiif.lib.keio.ac.jp/iipsrv/NRE/110X-445-3-2/tif/2_004.tif",
            "https://iiif.lib.keio.ac.jp/iipsrv/NRE/110X-445-3-2/tif/2_004.tif/",
        ),
        (
            "https://dl.ndl.go.jp/api/iiif/1288347/R0000001",
            "https://www.dl.ndl.go.jp/api/iiif/1288347/R0000001/info.json",
        ),
        (RMDA_OLD, RMDA_NEW.replace("/iiif/3/", "/iiif/2/") + "/info.json"),
    ],
)
def test_scheme_host_and_suffix_do_not_change_the_key(one: str, other: str) -> None:
    assert service_key(one) == service_key(other)


def test_only_a_bare_version_segment_after_iiif_is_dropped() -> None:
    assert service_key("https://h.test/images/2/x.tif") == "/images/2/x.tif"
    assert service_key("https://h.test/iiif/23/x.tif") == "/iiif/23/x.tif"
    assert service_key("https://h.test/pmjt/iiif/200020290/200020290_00016.tif") == (
        "/pmjt/iiif/200020290/200020290_00016.tif"
    )
    assert service_key("https://h.test/iiif/2/x.tif") != service_key("https://h.test/x.tif")


@pytest.mark.parametrize("url", ["/iiif/x.tif", "ftp://h.test/x.tif", "https://h.test/"])
def test_service_key_needs_an_http_url_with_a_path(url: str) -> None:
    with pytest.raises(ValueError):
        service_key(url)


def test_face_key_joins_service_key_and_square() -> None:
    square = Box(x=-30, y=2032, w=192, h=192)
    assert face_key(RMDA_NEW, square) == (
        "/iiif/RB00013604/RB00013604_00003_0.ptif#-30,2032,192,192"
    )
    assert face_key(RMDA_OLD, square) == face_key(RMDA_NEW, square)


# --- Image API request URLs ---------------------------------------------------------------


def test_split_an_official_url() -> None:
    request = split_image_url(f"{RMDA_OLD}/1842,876,107,107/256,256/0/default.jpg")
    assert request == ImageRequest(
        service_url=RMDA_OLD,
        region="1842,876,107,107",
        size="256,256",
        rotation="0",
        quality="default",
        format="jpg",
    )
    assert request.region_box == Box(x=1842, y=876, w=107, h=107)


@pytest.mark.parametrize(
    ("url", "region", "size"),
    [
        (
            "http://iiif.lib.keio.ac.jp/iipsrv/NRE/110X-445-3-2/tif/2_004.tif/583,812,222,222/256,/0/default.jpg",
            "583,812,222,222",
            "256,",
        ),
        (
            "https://iiif.lib.keio.ac.jp/iipsrv/NRE/132X-200-3-3/tif/3_003.tif/219,-114,1116,1116/!200,200/0/default.jpg",
            "219,-114,1116,1116",
            "!200,200",
        ),
        (f"{RMDA_NEW}/full/^max/90/gray.png", "full", "^max"),
        (f"{RMDA_NEW}/pct:10,10,50.5,50/pct:25/!90/color.webp", "pct:10,10,50.5,50", "pct:25"),
    ],
)
def test_split_keeps_sizes_and_negative_regions(url: str, region: str, size: str) -> None:
    request = split_image_url(url)
    assert (request.region, request.size) == (region, size)
    assert url.startswith(request.service_url + "/")
    assert "%2F" in split_image_url(f"{RMDA_NEW}/full/max/0/default.jpg").service_url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (f"{RMDA_OLD}/1,2,3/256,/0/default.jpg", "region"),
        (f"{RMDA_OLD}/1,2,0,4/256,/0/default.jpg", "empty"),
        (f"{RMDA_OLD}/1,2,3,4/big/0/default.jpg", "size"),
        (f"{RMDA_OLD}/1,2,3,4/256,/left/default.jpg", "rotation"),
        (f"{RMDA_OLD}/1,2,3,4/256,/0/default", "quality"),
        ("https://h.test/1,2,3,4/256,/0/default.jpg", "service"),
        (f"{RMDA_OLD}/1,2,3,4/256,/0/default.jpg?x=1", "query"),
        ("rmda.kulib.kyoto-u.ac.jp/iiif/a/1,2,3,4/256,/0/default.jpg", "http"),
    ],
)
def test_split_rejects_broken_urls_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        split_image_url(url)


def test_every_official_url_parses(official_dir: Path) -> None:
    """Every non-blank line of urls.txt, all versions, with the counts SOURCES.md gives."""
    expected = {"v1.0": 5552, "v1.1": 8573, "v1.2": 8848, "v1.3": 9683}
    negative = {"v1.0": 3, "v1.1": 8, "v1.2": 8, "v1.3": 8}
    for version, count in expected.items():
        lines = (official_dir / version / "urls.txt").read_text(encoding="utf-8").splitlines()
        requests = [split_image_url(line) for line in lines if line.strip()]
        assert len(requests) == count, version
        boxes = [request.region_box for request in requests]
        assert all(box is not None and box.w == box.h for box in boxes), version
        assert sum(1 for box in boxes if box and (box.x < 0 or box.y < 0)) == negative[version]
        sizes = Counter(request.size for request in requests)
        if version == "v1.0":
            assert sizes == {"256,": count}
        if version == "v1.3":
            assert sizes == {"256,256": count - 2233, "!200,200": 2233}
            keio = {r.service_url.split("/")[2] for r in requests if r.size == "!200,200"}
            assert keio == {"iiif.lib.keio.ac.jp"}


# --- works --------------------------------------------------------------------------------


def test_normalise_manifest_url() -> None:
    assert (
        normalise_manifest_url("HTTP://CODH.rois.ac.jp:80/pmjt/book/200004002/manifest.json#top")
        == "codh.rois.ac.jp/pmjt/book/200004002/manifest.json"
    )
    assert normalise_manifest_url("https://codh.rois.ac.jp/pmjt/book/200004002/manifest.json") == (
        normalise_manifest_url("http://codh.rois.ac.jp/pmjt/book/200004002/manifest.json")
    )
    assert normalise_manifest_url("https://h.test:8443/Manifest?id=A1") == (
        "h.test:8443/Manifest?id=A1"
    )
