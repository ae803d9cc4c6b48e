"""Composite pages: a page described as pieces, rendered for the box a request asks for."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from kaokore.server.app import LocalIIIFServer
from kaokore.server.composite import CompositePages


def _page(root: Path) -> Path:
    (root / "pages").mkdir(parents=True)
    Image.new("RGB", (64, 64), (200, 0, 0)).save(root / "pages" / "red.png")
    Image.new("RGB", (32, 32), (0, 0, 200)).save(root / "pages" / "blue.png")
    page = root / "pages" / "p1.page.json"
    page.write_text(
        json.dumps(
            {
                "width": 400,
                "height": 300,
                "background": [10, 20, 30],
                "pieces": [["red.png", 100, 50, 128, 128], ["blue.png", 150, 100, 40, 40]],
            }
        )
    )
    return page


def test_a_box_is_rendered_from_the_pieces_it_overlaps(tmp_path: Path) -> None:
    pages = CompositePages()
    page = _page(tmp_path)
    assert pages.size(page) == (400, 300)
    image = np.asarray(pages.crop(page, (90, 40, 250, 200)))
    assert image.shape == (160, 160, 3)
    assert tuple(image[0, 0]) == (10, 20, 30)  # background outside the pieces
    assert tuple(image[20, 20]) == (200, 0, 0)  # the red piece, stretched to 128x128
    assert tuple(image[80, 80]) == (0, 0, 200)  # the blue piece, painted over it


def test_the_server_serves_a_composite_page_as_an_image_service(tmp_path: Path) -> None:
    page = _page(tmp_path)
    (tmp_path / "services.json").write_text(
        json.dumps({"services": {"p1.tif": {"file": str(page.relative_to(tmp_path))}}})
    )
    with LocalIIIFServer(tmp_path) as server:
        info = httpx.get(server.url("/iiif/2/p1.tif/info.json")).json()
        crop = httpx.get(server.url("/iiif/2/p1.tif/100,50,128,128/64,64/0/default.jpg"))
    assert (info["width"], info["height"]) == (400, 300)
    image = Image.open(io.BytesIO(crop.content)).convert("RGB")
    assert image.size == (64, 64)
    red = np.asarray(image)[:20, :20].mean(axis=(0, 1))
    assert red[0] > 180 and red[2] < 40
