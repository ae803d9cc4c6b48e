"""Presentation 2.1 and 3.0 manifests read into one model, and canvas lookup."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from kaokore.box import Box
from kaokore.errors import DocumentError
from kaokore.ingest.manifest import find_canvas, parse_manifest
from kaokore.ingest.records import Manifest, MetadataPair, ServiceRef

COOKBOOK = "https://iiif.io/api/cookbook/recipe/"
IMAGE3 = "https://iiif.io/api/image/3.0/example/reference/"


def load(fixtures_dir: Path, relative: str) -> dict[str, Any]:
    with (fixtures_dir / relative).open(encoding="utf-8") as handle:
        return json.load(handle)  # type: ignore[no-any-return]


def read(fixtures_dir: Path, relative: str) -> Manifest:
    return parse_manifest(load(fixtures_dir, relative), f"https://fixtures.test/{relative}")


# --- Presentation 2.1 ---------------------------------------------------------------------


def test_v2_minimum_manifest_without_image_service(fixtures_dir: Path) -> None:
    manifest = read(fixtures_dir, "iiif-api/presentation__2.1__example__fixtures__1__manifest.json")
    assert manifest.iiif_version == "2"
    assert (manifest.label, manifest.label_lang) == (
        "Test 1 Manifest: Minimum Required Fields",
        None,
    )
    (canvas,) = manifest.canvases
    assert canvas.uri == "http://iiif.io/api/presentation/2.1/example/fixtures/canvas/1/c1.json"
    assert (canvas.width, canvas.height, canvas.position) == (1200, 1800, 0)
    assert (canvas.image_width, canvas.image_height) == (1200, 1800)
    assert canvas.service is None  # a plain image resource, no Image API


def test_v2_image_service_object(fixtures_dir: Path) -> None:
    manifest = read(fixtures_dir, "curation-platform-config/loris_test_manifest.v2.json")
    assert manifest.attribution == "Tarek Saier"
    (canvas,) = manifest.canvases
    assert canvas.service == ServiceRef(
        base_url="http://136.187.82.133/cp/image/test.jpg", api_version="2", level=2
    )
    assert (canvas.width, canvas.height) == (1000, 563)


def test_the_same_canvas_published_as_v2_and_v3(fixtures_dir: Path) -> None:
    v2 = read(fixtures_dir, "iiif-cookbook/0057-publishing-v2-and-v3__manifest-v2.rendered.json")
    v3 = read(fixtures_dir, "iiif-cookbook/0057-publishing-v2-and-v3__manifest-v3.rendered.json")
    assert (v2.iiif_version, v3.iiif_version) == ("2", "3")
    assert v2.label == v3.label == "IIIF Presentation Version 3 Minimum Viable Manifest"
    (c2,), (c3,) = v2.canvases, v3.canvases
    assert c2.uri == c3.uri == COOKBOOK + "0057-publishing-v2-and-v3/canvas/p1"
    assert (c2.width, c2.height) == (c3.width, c3.height) == (1200, 1800)
    assert c2.label == "p. 1" and c3.label is None


# --- Presentation 3.0 ---------------------------------------------------------------------


def test_v3_book_canvases_in_order_with_image_services(fixtures_dir: Path) -> None:
    manifest = read(fixtures_dir, "iiif-cookbook/0009-book-1__manifest.rendered.json")
    assert (manifest.label, manifest.label_lang) == ("Simple Manifest - Book", "en")
    assert [canvas.label for canvas in manifest.canvases] == [
        "Blank page",
        "Frontispiece",
        "Title page",
        "Blank page",
        "Bookplate",
    ]
    assert [canvas.position for canvas in manifest.canvases] == [0, 1, 2, 3, 4]
    second = manifest.canvases[1]
    assert (second.width, second.height) == (3186, 4612)
    assert second.service == ServiceRef(
        base_url=IMAGE3 + "59d09e6773341f28ea166e9f3c1e674f-gallica_ark_12148_bpt6k1526005v_f19",
        api_version="3",
        level=1,
    )


def test_v3_metadata_and_required_statement(fixtures_dir: Path) -> None:
    manifest = read(fixtures_dir, "iiif-cookbook/0029-metadata-anywhere__manifest.rendered.json")
    assert manifest.metadata[0] == MetadataPair(
        label="Creator", value="Glindoni, Henry Gillard, 1852-1913", lang="en"
    )
    assert [pair.label for pair in manifest.metadata] == [
        "Creator",
        "Date",
        "Physical Description",
        "Reference",
    ]
    assert manifest.attribution == (
        "Wellcome Collection. Attribution-NonCommercial 4.0 International (CC BY-NC 4.0)"
    )
    assert len(manifest.canvases) == 2


def test_v3_full_example(fixtures_dir: Path) -> None:
    manifest = read(fixtures_dir, "iiif-presentation-validator/full_example.json")
    assert manifest.license == "http://creativecommons.org/licenses/by/4.0/"
    assert manifest.attribution == "Provided by Example Organization"
    pairs = {pair.label: pair for pair in manifest.metadata}
    assert pairs["Author"] == MetadataPair(label="Author", value="Anne Author", lang=None)
    assert pairs["Published"].value == "Paris, circa 1400"  # en preferred over fr
    assert pairs["Notes"].value == "Text of note 1; Text of note 2"
    assert pairs["Source"].value == (
        '<span>From: <a href="https://example.org/db/1.html">Some Collection</a></span>'
    )
    first = manifest.canvases[0]
    # the image is twice the canvas: regions must be scaled before cropping
    assert (first.width, first.height, first.image_width, first.image_height) == (
        750,
        1000,
        1500,
        2000,
    )
    assert first.service == ServiceRef(
        base_url="https://example.org/iiif/book1/page1", api_version="3", level=2
    )
    assert first.label == "p. 1"


def test_v3_manifest_with_image_api_2_services(fixtures_dir: Path) -> None:
    validator = read(fixtures_dir, "iiif-presentation-validator/version2image.json")
    assert validator.canvases[0].service == ServiceRef(
        base_url="https://example.org/iiif2/image1/identifier", api_version="2", level=2
    )
    prezi3 = read(fixtures_dir, "iiif-prezi3/mcinnis-39-v3.json")
    assert prezi3.label_lang is None  # "none"
    assert prezi3.canvases[0].service == ServiceRef(
        base_url="https://api-pre.library.tamu.edu/iiif/2/558c93e3-7fd3-388c-8114-08d20a9e47b0",
        api_version="2",
        level=2,
    )
    assert [pair.label for pair in prezi3.metadata] == ["date", "title", "isPartOf", "context"]
    assert (prezi3.canvases[0].width, prezi3.canvases[0].height) == (3191, 4214)


def test_v3_specific_resource_paints_an_image_region(fixtures_dir: Path) -> None:
    manifest = read(fixtures_dir, "iiif-cookbook/0299-region__manifest.rendered.json")
    (canvas,) = manifest.canvases
    assert (canvas.width, canvas.height) == (1768, 2080)
    assert (canvas.image_width, canvas.image_height) == (3536, 4999)
    assert canvas.image_region == Box(x=1768, y=2423, w=1768, h=2080)
    assert canvas.service is not None
    assert canvas.service.base_url == IMAGE3 + "4ce82cef49fb16798f4c2440307c3d6f-newspaper-p2"


def test_every_cookbook_manifest_reads(fixtures_dir: Path) -> None:
    counts = {
        path.name: len(
            parse_manifest(load(fixtures_dir, f"iiif-cookbook/{path.name}"), "u").canvases
        )
        for path in sorted((fixtures_dir / "iiif-cookbook").glob("*__manifest*.json"))
    }
    assert counts == {
        "0005-image-service__manifest.rendered.json": 1,
        "0009-book-1__manifest.rendered.json": 5,
        "0021-tagging__manifest.rendered.json": 1,
        "0024-book-4-toc__manifest.rendered.json": 6,
        "0029-metadata-anywhere__manifest.rendered.json": 2,
        "0057-publishing-v2-and-v3__manifest-v2.rendered.json": 1,
        "0057-publishing-v2-and-v3__manifest-v3.rendered.json": 1,
        "0299-region__manifest.rendered.json": 1,
    }


# --- broken and foreign documents ---------------------------------------------------------


@pytest.mark.parametrize(
    ("relative", "field", "words"),
    [
        ("iiif-presentation-validator/broken_simple_image.json", "/items/0/id", "string"),
        ("iiif-presentation-validator/old_format_label.json", "/items", "sequences"),
        ("iiif-presentation-validator/annotation_full.json", "/type", "AnnotationPage"),
        (
            "iiif-cookbook/0306-linking-annotations-to-manifests__annotationpage.rendered.json",
            "/type",
            "AnnotationPage",
        ),
        (
            "iiif-api/presentation__2.1__example__fixtures__collection.json",
            "/@type",
            "sc:Collection",
        ),
        ("iiif-api/image_2.1_spec_complete_info.json", "/@context", "not a IIIF manifest"),
    ],
)
def test_broken_or_foreign_documents_name_the_field(
    fixtures_dir: Path, relative: str, field: str, words: str
) -> None:
    url = f"https://fixtures.test/{relative}"
    with pytest.raises(DocumentError) as caught:
        parse_manifest(load(fixtures_dir, relative), url)
    assert caught.value.field == field
    assert caught.value.url == url
    assert words in caught.value.reason


V2_PAGE = {
    "@id": "https://www.dl.ndl.go.jp/api/iiif/1288347/canvas/1",
    "@type": "sc:Canvas",
    "label": "1",
    "width": "2000",
    "height": 3000.0,
    "images": [
        {
            "@type": "oa:Annotation",
            "resource": {
                "@type": "oa:Choice",
                "default": {
                    "@id": "https://www.dl.ndl.go.jp/api/iiif/1288347/R0000001/full/full/0/default.jpg",
                    "width": 4000,
                    "height": 6000,
                    "service": [
                        {
                            "@id": "https://www.dl.ndl.go.jp/auth/login",
                            "profile": "http://iiif.io/api/auth/1/login",
                        },
                        {
                            "@context": "http://iiif.io/api/image/2/context.json",
                            "@id": "https://www.dl.ndl.go.jp/api/iiif/1288347/R0000001/",
                            "profile": [
                                "http://iiif.io/api/image/2/level1.json",
                                {"formats": ["jpg"]},
                            ],
                        },
                    ],
                },
                "item": [],
            },
        }
    ],
}
V2_DOC: dict[str, Any] = {
    "@context": "http://iiif.io/api/presentation/2/context.json",
    "@id": "https://dl.ndl.go.jp/api/iiif/1288347/manifest.json",
    "@type": "sc:Manifest",
    "label": [{"@value": "Genji", "@language": "en"}, {"@value": "源氏物語", "@language": "ja"}],
    "license": ["https://creativecommons.org/publicdomain/mark/1.0/", "https://x.test/other"],
    "attribution": {"@value": "国立国会図書館", "@language": "ja"},
    "metadata": [{"label": "Title", "value": [{"@value": "源氏", "@language": "ja"}]}],
    "sequences": [{"@type": "sc:Sequence", "canvases": [V2_PAGE]}],
}


def test_v2_choice_sizes_as_text_and_service_arrays() -> None:
    manifest = parse_manifest(V2_DOC, V2_DOC["@id"])
    assert (manifest.label, manifest.label_lang) == ("源氏物語", "ja")
    assert manifest.license == "https://creativecommons.org/publicdomain/mark/1.0/"
    assert manifest.attribution == "国立国会図書館"
    assert manifest.metadata == (MetadataPair(label="Title", value="源氏", lang="ja"),)
    (canvas,) = manifest.canvases
    assert (canvas.width, canvas.height) == (2000, 3000)
    assert (canvas.image_width, canvas.image_height) == (4000, 6000)
    # the auth service is skipped; the trailing slash is dropped
    assert canvas.service == ServiceRef(
        base_url="https://www.dl.ndl.go.jp/api/iiif/1288347/R0000001", api_version="2", level=1
    )


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("width", "wide", "/sequences/0/canvases/0/width"),
        ("height", 0, "/sequences/0/canvases/0/height"),
        ("@id", None, "/sequences/0/canvases/0/@id"),
    ],
)
def test_v2_canvas_without_id_or_size(key: str, value: object, field: str) -> None:
    doc = copy.deepcopy(V2_DOC)
    doc["sequences"][0]["canvases"][0][key] = value
    with pytest.raises(DocumentError) as caught:
        parse_manifest(doc, "https://dl.ndl.go.jp/m.json")
    assert caught.value.field == field


def test_v2_without_sequences() -> None:
    doc = {key: value for key, value in V2_DOC.items() if key != "sequences"}
    with pytest.raises(DocumentError) as caught:
        parse_manifest(doc, "https://dl.ndl.go.jp/m.json")
    assert caught.value.field == "/sequences"


# --- finding the canvas a face is on ------------------------------------------------------


def pages(*uris: str) -> Manifest:
    doc = copy.deepcopy(V2_DOC)
    template = doc["sequences"][0]["canvases"][0]
    doc["sequences"][0]["canvases"] = [dict(template, **{"@id": uri}) for uri in uris]
    return parse_manifest(doc, "https://example.org/m.json")


def test_find_canvas_is_exact_never_a_prefix() -> None:
    manifest = pages("https://k.test/NRE/page1", "https://k.test/NRE/page10")
    found = find_canvas(manifest, "https://k.test/NRE/page10#xywh=1,2,3,4")
    assert found is not None and found.position == 1
    found = find_canvas(manifest, "https://k.test/NRE/page1#xywh=1,2,3,4")
    assert found is not None and found.position == 0
    assert find_canvas(manifest, "https://k.test/NRE/page") is None


def test_find_canvas_tolerates_scheme_and_www_host_changes() -> None:
    manifest = pages(
        "https://www.dl.ndl.go.jp/api/iiif/1288347/canvas/1",
        "https://www.dl.ndl.go.jp/api/iiif/1288347/canvas/2",
    )
    found = find_canvas(manifest, "http://dl.ndl.go.jp/api/iiif/1288347/canvas/2#xywh=0,0,9,9")
    assert found is not None and found.position == 1
    assert find_canvas(manifest, "http://dl.ndl.go.jp/api/iiif/1288347/canvas/3") is None
