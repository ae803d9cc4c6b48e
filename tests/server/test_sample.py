"""The bundled sample mirror is consistent, and the server cuts the right faces from it.

Everything here runs from the repository alone; the last tests also compare with the real
KaoKore images in ../shared and skip without them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from kaokore.mirror import sample_dir, sample_sources
from kaokore.server import LocalIIIFServer
from tests.conftest import REPO_ROOT, shared_path

MIRROR = sample_dir()
TRUTH: dict[str, Any] = json.loads((MIRROR / "faces.json").read_text(encoding="utf-8"))
FACES: list[dict[str, Any]] = TRUTH["faces"]
WORKS = {w["work"]: w for w in TRUTH["works"]}
LABELLED = {"男": 0, "女": 1}, {"貴族": 0, "武士": 1, "化身": 2, "庶民": 3}


def load(relative: str) -> Any:
    return json.loads((MIRROR / relative).read_text(encoding="utf-8"))


def walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def canvases(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """canvas id -> {width, height, image_width, image_height, service, profile}."""
    out = {}
    if "sequences" in manifest:
        for canvas in manifest["sequences"][0]["canvases"]:
            resource = canvas["images"][0]["resource"]
            out[canvas["@id"]] = {
                "width": canvas["width"],
                "height": canvas["height"],
                "image": (resource["width"], resource["height"]),
                "service": resource["service"]["@id"],
                "profile": resource["service"]["profile"],
            }
    else:
        for canvas in manifest["items"]:
            body = canvas["items"][0]["items"][0]["body"]
            out[canvas["id"]] = {
                "width": canvas["width"],
                "height": canvas["height"],
                "image": (body["width"], body["height"]),
                "service": body["service"][0]["id"],
                "profile": body["service"][0]["profile"],
            }
    return out


def members(curation: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for selection in curation["selections"]:
        for member in selection["members"]:
            yield selection, member


def xywh(member_id: str) -> tuple[str, list[int]]:
    canvas, _, fragment = member_id.partition("#xywh=")
    return canvas, [int(v) for v in fragment.split(",")]


def square(box: list[int]) -> list[int]:
    x, y, w, h = box
    side = max(w, h)
    return [x + (w - side) // 2, y + (h - side) // 2, side, side]


def mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).mean())


def thumb(image: Image.Image) -> Image.Image:
    return image.convert("L").resize((16, 16), Image.Resampling.BOX)


def thumb_of(face: dict[str, Any]) -> Image.Image:
    return Image.frombytes("L", (16, 16), bytes.fromhex(face["thumb16"]))


# -- the folder ------------------------------------------------------------------------


def test_sample_is_small_attributed_and_complete() -> None:
    size = sum(p.stat().st_size for p in MIRROR.rglob("*") if p.is_file())
    assert size < 3_000_000
    attribution = (MIRROR / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in attribution and "10.20676/00000353" in attribution
    assert len(FACES) == 33 and len(WORKS) == 3
    assert {w["holder"] for w in WORKS.values()} == {"国文学研究資料館", "京都大学", "慶應義塾大学"}
    labels = [f["label"] for f in FACES if f["label"]]
    assert {lab["gender"] for lab in labels} == {0, 1}
    assert {lab["status"] for lab in labels} == {0, 1, 2, 3}
    assert sum(f["label"] is None for f in FACES) == 2


def test_every_url_is_written_with_the_placeholder() -> None:
    for path in MIRROR.rglob("*.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for node in walk(doc):
            if isinstance(node, dict):
                for key in ("@id", "id"):
                    if isinstance(node.get(key), str):
                        assert node[key].startswith("{BASE}/"), (path, node[key])
    assert sample_sources("http://127.0.0.1:1") == [
        "http://127.0.0.1:1/api/face/as/collection.json"
    ]


def test_curations_have_the_real_shapes() -> None:
    shapes, numbers, machine = set(), 0, 0
    for work in WORKS.values():
        curation = load(work["curation_file"])
        assert curation["@context"] == [
            "http://iiif.io/api/presentation/2/context.json",
            "http://codh.rois.ac.jp/iiif/curation/1/context.json",
        ]
        assert curation["@type"] == "cr:Curation" and curation["@id"] == work["curation"]
        for selection, member in members(curation):
            assert selection["@type"] == "sc:Range"
            shapes.add(type(selection["within"]).__name__)
            assert member["@type"] == "sc:Canvas"
            for entry in member["metadata"]:
                numbers += isinstance(entry["value"], int)
                machine += entry.get("agent") == "machine"
    assert shapes == {"str", "dict", "list"}
    assert numbers == 1 and machine == 1


def test_members_lie_inside_their_canvases_and_match_the_ground_truth() -> None:
    by_member = {f["member_id"]: f for f in FACES}
    seen = 0
    for work in WORKS.values():
        manifest_canvases = canvases(load(work["manifest_file"]))
        for selection, member in members(load(work["curation_file"])):
            canvas_id, box = xywh(member["@id"])
            canvas = manifest_canvases[canvas_id]  # exact match, never a prefix
            x, y, w, h = box
            assert x >= 0 and y >= 0 and w > 0 and h > 0
            assert x + w <= canvas["width"] and y + h <= canvas["height"]
            face = by_member[member["@id"]]
            seen += 1
            assert face["selection"] == selection["@id"]
            assert face["service"] == canvas["service"]
            scale_x = canvas["image"][0] / canvas["width"]
            scale_y = canvas["image"][1] / canvas["height"]
            assert scale_x == 1 / work["canvas_scale"] == scale_y
            image_box = [round(box[0] * scale_x), round(box[1] * scale_y)]
            image_box += [round(box[2] * scale_x), round(box[3] * scale_y)]
            assert image_box == face["member_box_image"]
            assert square(image_box) == face["crop_box_image"]
            tags = {e["label"]: e["value"] for e in member["metadata"]}
            gender, status = tags["性別"], tags["身分"]
            if gender in LABELLED[0] and status in LABELLED[1]:
                assert face["label"] == {
                    "gender": LABELLED[0][gender],
                    "status": LABELLED[1][status],
                }
            else:
                assert face["label"] is None and status == "僧侶" and face["synthetic"]
    assert seen == len(FACES)


def test_canvas_ids_include_prefixes_of_each_other() -> None:
    ids = list(canvases(load(WORKS["nijl"]["manifest_file"])))
    assert f"{ids[0]}0" in ids  # .../p1 and .../p10
    assert any(f["canvas"] == f"{ids[0]}0" for f in FACES)


def test_change_feed_is_ordered_and_complete() -> None:
    collection = load("api/face/as/collection.json")
    assert collection["type"] == "OrderedCollection"
    pages, url = [], collection["last"]["id"]
    while url:
        page = load(url.removeprefix("{BASE}/"))
        assert page["type"] == "OrderedCollectionPage"
        pages.insert(0, page)
        url = page.get("prev", {}).get("id")
    assert pages[0]["id"] == collection["first"]["id"] and len(pages) == 2
    items = [item for page in pages for item in page["orderedItems"]]
    assert len(items) == collection["totalItems"]
    times = [item["endTime"] for item in items]
    assert times == sorted(times) and all(t.endswith("Z") for t in times)
    assert {item["type"] for item in items} == {"Create", "Update"}
    assert {item["object"]["id"] for item in items} == {w["curation"] for w in WORKS.values()}


def test_services_match_the_levels_of_the_manifests() -> None:
    services = load("services.json")["services"]
    for face in FACES:
        entry = services[face["identifier"]]
        assert entry["level"] == face["level"] and entry["versions"] == [face["image_api"]]
        assert (MIRROR / entry["file"]).is_file()


# -- through the server ----------------------------------------------------------------


def fetch_crop(http: httpx.Client, base: str, face: dict[str, Any]) -> Image.Image:
    """Cut the face the portable way: region at max size, or the full page at level 0."""
    service = face["service"].replace("{BASE}", base)
    info = http.get(f"{service}/info.json").json()
    level = info["profile"] if face["image_api"] == 3 else info["profile"][0]
    assert f"level{face['level']}" in level
    x, y, w, h = face["crop_box_image"]
    if face["level"] == 0:
        page = http.get(f"{service}/full/full/0/default.jpg")
        assert page.status_code == 200
        return Image.open(io.BytesIO(page.content)).convert("RGB").crop((x, y, x + w, y + h))
    response = http.get(f"{service}/{x},{y},{w},{h}/max/0/default.jpg")
    assert response.status_code == 200, response.text
    crop = Image.open(io.BytesIO(response.content)).convert("RGB")
    assert crop.size == (w, h)
    return crop


def test_the_server_cuts_the_ground_truth_faces(
    sample_server: LocalIIIFServer, http: httpx.Client
) -> None:
    thumbs = [thumb_of(f) for f in FACES]
    for index, face in enumerate(FACES):
        crop = thumb(fetch_crop(http, sample_server.base_url, face))
        distances = [mean_abs_diff(crop, other) for other in thumbs]
        assert distances[index] < 3, (face["face"], distances[index])
        assert int(np.argmin(distances)) == index


def test_level_0_tiles_stitch_into_the_crop(
    sample_server: LocalIIIFServer, http: httpx.Client
) -> None:
    face = next(f for f in FACES if f["level"] == 0)
    service = face["service"].replace("{BASE}", sample_server.base_url)
    info = http.get(f"{service}/info.json").json()
    width, height = info["width"], info["height"]
    tile = info["tiles"][0]["width"]
    page = Image.new("RGB", (width, height))
    for ty in range(0, height, tile):
        for tx in range(0, width, tile):
            w, h = min(tile, width - tx), min(tile, height - ty)
            response = http.get(f"{service}/{tx},{ty},{w},{h}/{w},/0/default.jpg")
            assert response.status_code == 200, response.text
            page.paste(Image.open(io.BytesIO(response.content)), (tx, ty))
    x, y, w, h = face["crop_box_image"]
    stitched = page.crop((x, y, x + w, y + h))
    assert mean_abs_diff(thumb(stitched), thumb_of(face)) < 3
    refused = http.get(f"{service}/{x},{y},{w},{h}/max/0/default.jpg")
    assert refused.status_code == 400


def test_kyoto_needs_scaling_and_refuses_upscaling(
    sample_server: LocalIIIFServer, http: httpx.Client
) -> None:
    face = next(f for f in FACES if f["work"] == "kyoto")
    service = face["service"].replace("{BASE}", sample_server.base_url)
    assert "%2F" in service
    x, y, w, h = face["crop_box_image"]
    assert http.get(f"{service}/{x},{y},{w},{h}/256,256/0/default.jpg").status_code == 400
    assert http.get(f"{service}/{x},{y},{w},{h}/^256,256/0/default.jpg").status_code == 400
    assert http.get(f"{service}/{x},{y},{w},{h}/{w},/0/default.jpg").status_code == 200
    assert http.get(service.replace("/iiif/3/", "/iiif/2/") + "/info.json").status_code == 404
    assert http.get(f"{service}/full/max/0/default.jpg").status_code == 200  # capped at maxWidth


def test_a_second_walk_downloads_nothing(
    sample_server: LocalIIIFServer, http: httpx.Client
) -> None:
    """Walk feed -> curations -> manifests -> info.json -> one crop, then again conditionally."""
    base = sample_server.base_url
    urls = [sample_sources(base)[0]]
    collection = http.get(urls[0]).json()
    for page_url in (collection["first"]["id"], collection["last"]["id"]):
        urls.append(page_url)
        for item in http.get(page_url).json()["orderedItems"]:
            urls.append(item["object"]["id"])
    for work in WORKS.values():
        urls.append(work["manifest"].replace("{BASE}", base))
    for face in FACES[:3]:
        service = face["service"].replace("{BASE}", base)
        x, y, w, h = face["crop_box_image"]
        urls += [f"{service}/info.json", f"{service}/{x},{y},{w},{h}/max/0/default.jpg"]
    etags = {}
    for url in urls:
        response = http.get(url)
        assert response.status_code == 200, url
        assert "{BASE}" not in response.text[:100_000] if "json" in url else True
        etags[url] = response.headers["etag"]
    sample_server.reset_log()
    for url in urls:
        assert http.get(url, headers={"If-None-Match": etags[url]}).status_code == 304
    log = sample_server.requests
    assert len(log) == len(urls)
    assert all(r.conditional and r.status == 304 and r.bytes_sent == 0 for r in log)


# -- against ../shared -----------------------------------------------------------------


def test_crops_match_the_original_kaokore_faces() -> None:
    images = shared_path("data", "kaokore", "images_256")
    with LocalIIIFServer(MIRROR) as server, httpx.Client(trust_env=False, timeout=10) as http:
        for face in FACES:
            if face["synthetic"]:
                continue
            source = images / face["image_256"]
            assert hashlib.sha256(source.read_bytes()).hexdigest() == face["image_256_sha256"]
            original = Image.open(source).convert("RGB")
            crop = fetch_crop(http, server.base_url, face).resize(
                (256, 256), Image.Resampling.LANCZOS
            )
            assert mean_abs_diff(crop, original) < 10, face["face"]


def test_make_sample_rebuilds_the_same_mirror(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = shared_path("data", "kaokore").parent.parent
    spec = importlib.util.spec_from_file_location(
        "make_sample", REPO_ROOT / "tools" / "make_sample.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "make_sample", module)  # dataclasses look it up
    spec.loader.exec_module(module)
    module.build(shared, tmp_path / "mirror")

    def digests(root: Path) -> dict[str, str]:
        return {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    assert digests(tmp_path / "mirror") == digests(MIRROR)
