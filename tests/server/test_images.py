"""The Image API over HTTP: info.json, exact sizes, levels, %2F identifiers, 304 on images."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from PIL import Image

from kaokore.server import LocalIIIFServer

from .conftest import PAGE_SIZE


def image(response: httpx.Response) -> Image.Image:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] in ("image/jpeg", "image/png")
    return Image.open(io.BytesIO(response.content))


def test_info_json_2_1(server: LocalIIIFServer, http: httpx.Client) -> None:
    response = http.get(server.url("/iiif/2/page.tif/info.json"))
    assert response.status_code == 200
    info = response.json()
    for field in ("@context", "@id", "protocol", "profile", "width", "height", "sizes", "tiles"):
        assert field in info, field
    assert info["@context"] == "http://iiif.io/api/image/2/context.json"
    assert info["@id"] == server.url("/iiif/2/page.tif")
    assert info["protocol"] == "http://iiif.io/api/image"
    assert info["profile"][0] == "http://iiif.io/api/image/2/level2.json"
    assert isinstance(info["profile"][1], dict)
    assert (info["width"], info["height"]) == PAGE_SIZE
    assert all({"width", "height"} <= set(s) for s in info["sizes"])
    assert all("scaleFactors" in t and "width" in t for t in info["tiles"])
    assert "profile" in response.headers["link"]


def test_info_json_3_0(server: LocalIIIFServer, http: httpx.Client) -> None:
    response = http.get(server.url("/iiif/3/page.tif/info.json"))
    info = response.json()
    assert response.headers["content-type"].startswith("application/ld+json")
    assert 'profile="http://iiif.io/api/image/3/context.json"' in response.headers["content-type"]
    assert info["@context"] == "http://iiif.io/api/image/3/context.json"
    assert info["id"] == server.url("/iiif/3/page.tif")
    assert info["type"] == "ImageService3"
    assert info["protocol"] == "http://iiif.io/api/image"
    assert info["profile"] == "level2"
    assert (info["width"], info["height"]) == PAGE_SIZE
    limited = http.get(server.url("/iiif/3/limited.tif/info.json")).json()
    assert limited["maxWidth"] == 320


@pytest.mark.parametrize(
    ("path", "size"),
    [
        ("/iiif/2/page.tif/full/full/0/default.jpg", (640, 480)),
        ("/iiif/2/page.tif/100,50,200,120/full/0/default.jpg", (200, 120)),
        ("/iiif/2/page.tif/100,50,200,120/100,/0/default.jpg", (100, 60)),
        ("/iiif/2/page.tif/100,50,200,120/,30/0/default.jpg", (50, 30)),
        ("/iiif/2/page.tif/100,50,200,120/256,256/0/default.jpg", (256, 256)),
        ("/iiif/2/page.tif/100,50,200,120/!64,64/0/default.jpg", (64, 38)),
        ("/iiif/2/page.tif/pct:50,50,50,50/pct:50/0/default.jpg", (160, 120)),
        ("/iiif/2/page.tif/square/max/0/default.jpg", (480, 480)),
        ("/iiif/2/page.tif/600,400,100,100/max/0/default.jpg", (40, 80)),  # clipped
        ("/iiif/3/page.tif/100,50,200,120/max/0/default.jpg", (200, 120)),
        ("/iiif/3/page.tif/100,50,200,120/^400,/0/default.jpg", (400, 240)),
        ("/iiif/3/page.tif/full/max/0/gray.png", (640, 480)),
        ("/iiif/3/limited.tif/full/max/0/default.jpg", (320, 240)),
    ],
)
def test_region_and_size_give_the_exact_size(
    server: LocalIIIFServer, http: httpx.Client, path: str, size: tuple[int, int]
) -> None:
    assert image(http.get(server.url(path))).size == size


def test_the_crop_holds_the_requested_pixels(server: LocalIIIFServer, http: httpx.Client) -> None:
    """The page is a gradient (red = x, green = y), so a crop's colour tells where it was cut."""
    crop = image(http.get(server.url("/iiif/2/page.tif/320,240,20,20/full/0/default.jpg"))).convert(
        "RGB"
    )
    red, green, _blue = crop.getpixel((10, 10))  # type: ignore[misc]
    assert abs(red - 330 * 255 // 639) <= 6
    assert abs(green - 250 * 255 // 479) <= 6
    gray = image(http.get(server.url("/iiif/2/page.tif/0,0,10,10/full/0/gray.jpg")))
    assert gray.mode == "L"


def test_strict_3_0_refuses_upscale_without_caret(
    server: LocalIIIFServer, http: httpx.Client
) -> None:
    refused = http.get(server.url("/iiif/3/page.tif/0,0,107,107/256,256/0/default.jpg"))
    assert refused.status_code == 400
    assert "^" in refused.text
    accepted = http.get(server.url("/iiif/3/page.tif/0,0,107,107/^256,256/0/default.jpg"))
    assert image(accepted).size == (256, 256)
    encoded = http.get(server.url("/iiif/3/page.tif/0,0,107,107/%5E256,256/0/default.jpg"))
    assert image(encoded).size == (256, 256)
    assert http.get(server.url("/iiif/3/page.tif/full/full/0/default.jpg")).status_code == 400
    assert (
        http.get(server.url("/iiif/3/noup.tif/0,0,107,107/^256,256/0/default.jpg")).status_code
        == 400
    )


def test_lenient_server_accepts_the_official_urls(mirror: Path, http: httpx.Client) -> None:
    with LocalIIIFServer(mirror, strict=False) as lenient:
        response = http.get(lenient.url("/iiif/3/page.tif/0,0,107,107/256,256/0/default.jpg"))
    assert image(response).size == (256, 256)


def test_level_0_refuses_regions_but_serves_sizes_and_tiles(
    server: LocalIIIFServer, http: httpx.Client
) -> None:
    base = "/iiif/2/lvl0.tif"
    info = http.get(server.url(f"{base}/info.json")).json()
    assert info["profile"][0] == "http://iiif.io/api/image/2/level0.json"
    assert info["sizes"] == [{"width": 160, "height": 120}, {"width": 320, "height": 240}]
    assert http.get(server.url(f"{base}/100,100,50,50/max/0/default.jpg")).status_code == 400
    assert http.get(server.url(f"{base}/full/200,/0/default.jpg")).status_code == 400
    assert http.get(server.url(f"{base}/square/full/0/default.jpg")).status_code == 400
    assert image(http.get(server.url(f"{base}/full/full/0/default.jpg"))).size == PAGE_SIZE
    assert image(http.get(server.url(f"{base}/full/160,/0/default.jpg"))).size == (160, 120)
    assert image(http.get(server.url(f"{base}/256,256,256,224/256,/0/default.jpg"))).size == (
        256,
        224,
    )
    assert image(http.get(server.url(f"{base}/512,0,128,256/128,/0/default.jpg"))).size == (
        128,
        256,
    )
    assert image(http.get(server.url(f"{base}/0,0,512,480/256,/0/default.jpg"))).size == (256, 240)


def test_level_1_on_2_1_refuses_wh(server: LocalIIIFServer, http: httpx.Client) -> None:
    assert (
        http.get(server.url("/iiif/2/lvl1.tif/0,0,100,100/50,50/0/default.jpg")).status_code == 400
    )
    assert image(http.get(server.url("/iiif/2/lvl1.tif/0,0,100,100/50,/0/default.jpg"))).size == (
        50,
        50,
    )


def test_encoded_slash_identifiers(server: LocalIIIFServer, http: httpx.Client) -> None:
    info = http.get(server.url("/iiif/3/RB1%2FRB1_00003_0.ptif/info.json"))
    assert info.status_code == 200
    assert info.json()["id"] == server.url("/iiif/3/RB1%2FRB1_00003_0.ptif")
    crop = http.get(server.url("/iiif/3/RB1%2FRB1_00003_0.ptif/0,0,64,32/max/0/default.jpg"))
    assert image(crop).size == (64, 32)
    # a decoded slash is another path on a strict server, as on IIPImage or Cantaloupe
    assert http.get(server.url("/iiif/3/RB1/RB1_00003_0.ptif/info.json")).status_code == 404


def test_lenient_server_accepts_a_raw_slash(mirror: Path, http: httpx.Client) -> None:
    with LocalIIIFServer(mirror, strict=False) as lenient:
        response = http.get(lenient.url("/iiif/3/RB1/RB1_00003_0.ptif/0,0,64,32/max/0/default.jpg"))
    assert image(response).size == (64, 32)


def test_images_answer_conditional_requests(server: LocalIIIFServer, http: httpx.Client) -> None:
    url = server.url("/iiif/2/page.tif/10,10,50,50/full/0/default.jpg")
    first = http.get(url)
    again = http.get(url)
    assert first.content == again.content  # deterministic encoding
    assert first.headers["etag"] == again.headers["etag"]
    server.reset_log()
    not_modified = http.get(url, headers={"If-None-Match": first.headers["etag"]})
    info = http.get(
        server.url("/iiif/2/page.tif/info.json"),
        headers={"If-Modified-Since": first.headers["last-modified"]},
    )
    assert (not_modified.status_code, info.status_code) == (304, 304)
    assert not_modified.content == b""
    assert all(r.conditional and r.bytes_sent == 0 for r in server.requests)
    assert sum(r.is_image for r in server.requests) == 1


def test_versions_unknown_images_and_base_uri(server: LocalIIIFServer, http: httpx.Client) -> None:
    assert http.get(server.url("/iiif/2/v3only.tif/info.json")).status_code == 404
    assert http.get(server.url("/iiif/3/v3only.tif/info.json")).status_code == 200
    assert http.get(server.url("/iiif/2/missing.tif/info.json")).status_code == 404
    redirect = http.get(server.url("/iiif/2/page.tif"))
    assert redirect.status_code == 303
    assert redirect.headers["location"] == server.url("/iiif/2/page.tif/info.json")
    assert http.get(server.url("/iiif/2/page.tif/full/max/90/default.jpg")).status_code == 501
    assert http.get(server.url("/iiif/2/page.tif/full/max/0")).status_code == 404


def test_identifier_without_services_entry_is_found_by_name(
    server: LocalIIIFServer, http: httpx.Client
) -> None:
    """``images/page.jpg`` answers as ``page.tif`` or ``page.jpg`` even without services.json."""
    assert http.get(server.url("/iiif/2/page.jpg/info.json")).status_code == 200
    assert http.get(server.url("/iiif/2/page.ptif/info.json")).status_code == 200


def test_services_json_is_reread_and_overridable(mirror: Path, http: httpx.Client) -> None:
    with LocalIIIFServer(mirror, services={"lvl0.tif": {"level": 2}}) as running:
        profile = http.get(running.url("/iiif/2/lvl0.tif/info.json")).json()["profile"][0]
        assert profile.endswith("level2.json")
        assert (
            http.get(running.url("/iiif/2/lvl1.tif/0,0,10,10/5,5/0/default.jpg")).status_code == 400
        )
        path = mirror / "services.json"
        path.write_text(path.read_text().replace('"level": 1', '"level": 2'), encoding="utf-8")
        import os

        os.utime(path, (path.stat().st_mtime + 5,) * 2)
        assert (
            http.get(running.url("/iiif/2/lvl1.tif/0,0,10,10/5,5/0/default.jpg")).status_code == 200
        )
