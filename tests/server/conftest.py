"""Fixtures for the local IIIF server: a tiny generated mirror, a running server, a client."""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from kaokore.mirror import sample_dir
from kaokore.server import LocalIIIFServer

PAGE_SIZE = (640, 480)


def gradient(size: tuple[int, int] = PAGE_SIZE) -> Image.Image:
    """A deterministic page whose pixels tell where they came from (r = x, g = y)."""
    width, height = size
    xs = np.arange(width) * 255 // (width - 1)
    ys = np.arange(height) * 255 // (height - 1)
    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    pixels[..., 0] = xs[None, :]
    pixels[..., 1] = ys[:, None]
    pixels[..., 2] = 128
    return Image.fromarray(pixels, "RGB")


@functools.cache
def _page_jpeg() -> bytes:
    out = io.BytesIO()
    gradient().save(out, format="JPEG", quality=95)
    return out.getvalue()


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    """A small mirror: one page under several service identifiers and levels, a few documents."""
    root = tmp_path / "mirror"
    (root / "images" / "RB1").mkdir(parents=True)
    (root / "images" / "page.jpg").write_bytes(_page_jpeg())
    (root / "images" / "RB1" / "RB1_00003_0.jpg").write_bytes(_page_jpeg())
    services = {
        "defaults": {"level": 2},
        "services": {
            "page.tif": {"file": "images/page.jpg"},
            "lvl0.tif": {
                "file": "images/page.jpg",
                "level": 0,
                "tiles": [{"width": 256, "height": 256, "scaleFactors": [1, 2, 4]}],
                "sizes": [[160, 120], [320, 240]],
            },
            "lvl1.tif": {"file": "images/page.jpg", "level": 1},
            "v3only.tif": {"file": "images/page.jpg", "versions": [3]},
            "noup.tif": {"file": "images/page.jpg", "upscale": False},
            "limited.tif": {"file": "images/page.jpg", "maxWidth": 320},
        },
    }
    (root / "services.json").write_text(json.dumps(services), encoding="utf-8")
    (root / "docs").mkdir()
    (root / "docs" / "manifest.json").write_text(
        json.dumps(
            {
                "@context": "http://iiif.io/api/presentation/2/context.json",
                "@id": "{BASE}/docs/manifest.json",
                "service": "{BASE}/iiif/2/page.tif",
            }
        ),
        encoding="utf-8",
    )
    (root / "docs" / "plain.json").write_text('{"a": 1}', encoding="utf-8")
    (root / "api").mkdir()
    (root / "api" / "curation-1.json").write_text(
        '{"@context": [], "@id": "{BASE}/api/curation-1"}', encoding="utf-8"
    )
    (root / "secret.txt").write_text("outside\n", encoding="utf-8")
    return root


@pytest.fixture
def server(mirror: Path) -> Iterator[LocalIIIFServer]:
    with LocalIIIFServer(mirror) as running:
        yield running


@pytest.fixture
def sample_server() -> Iterator[LocalIIIFServer]:
    """The bundled sample, served read-only."""
    with LocalIIIFServer(sample_dir()) as running:
        yield running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """A plain client: no proxies from the environment, short timeouts."""
    with httpx.Client(trust_env=False, timeout=5.0) as client:
        yield client
