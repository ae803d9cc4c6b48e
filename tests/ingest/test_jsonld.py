"""Offline JSON-LD expansion with vendored contexts, and the shared value readers."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld as pyld_jsonld

from kaokore.errors import DocumentError
from kaokore.ingest.jsonld import (
    CONTEXT_FILES,
    expand,
    join,
    node_id,
    offline_loader,
    text_and_lang,
)

CR = "http://codh.rois.ac.jp/iiif/curation/1#"
AS = "https://www.w3.org/ns/activitystreams#"
SC = "http://iiif.io/api/presentation/2#"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test here that opens a socket or falls back to pyld's own loader."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the network was used")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(pyld_jsonld, "_default_document_loader", refuse)


def load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)  # type: ignore[no-any-return]


def test_expanding_a_curation_keeps_its_selections(fixtures_dir: Path) -> None:
    doc = load(fixtures_dir / "curation-activity" / "iiif__curation1.json")
    (node,) = expand(doc, doc["@id"])
    assert node["@type"] == [CR + "Curation"]
    (selections,) = node[CR + "selections"]
    ranges = selections["@list"]
    assert [item["@id"] for item in ranges] == [
        "https://illdepence.github.io/curationactivity/iiif/range1.json",
        "https://illdepence.github.io/curationactivity/iiif/range2.json",
    ]
    assert ranges[0]["@type"] == [SC + "Range"]
    assert len(ranges[0][SC + "hasCanvases"][0]["@list"]) == 3


def test_the_iiif_v2_context_alone_would_drop_selections(fixtures_dir: Path) -> None:
    doc = load(fixtures_dir / "curation-activity" / "iiif__curation1.json")
    doc["@context"] = "http://iiif.io/api/presentation/2/context.json"
    (node,) = expand(doc, doc["@id"])
    assert not any("selections" in key for key in node)
    assert node["@type"] == ["cr:Curation"]  # an undefined prefix: not the curation type


def test_member_metadata_survives_expansion(fixtures_dir: Path) -> None:
    doc = load(fixtures_dir / "curation-genji" / "021_taisei_01.trimmed.json")
    (node,) = expand(doc, doc["@id"])
    (selection,) = node[CR + "selections"][0]["@list"]
    members = selection[SC + "hasParts"][0]["@list"]
    assert len(members) == 3
    assert members[2]["@id"].endswith("/canvas/p30#xywh=1181,1101,1,1")


def test_expanding_an_activity_stream_collection(fixtures_dir: Path) -> None:
    doc = load(fixtures_dir / "curation-activity" / "as__collection.json")
    (node,) = expand(doc, doc["id"])
    assert node["@type"] == [AS + "Collection"]
    assert node[AS + "last"] == [
        {
            "@id": "https://illdepence.github.io/curationactivity/as/page-80bd04ac-f4a5-48a9-874d-45cbe711dd45.json"
        }
    ]


def test_an_unknown_context_fails_without_the_network() -> None:
    doc = {"@context": "https://example.org/unknown/context.json", "@id": "https://e.org/x"}
    with pytest.raises(DocumentError) as caught:
        expand(doc, "https://e.org/x")
    assert caught.value.url == "https://e.org/x"
    assert caught.value.field == "/@context"
    assert "https://example.org/unknown/context.json" in str(caught.value)


def test_presentation_3_needs_contexts_that_are_not_vendored(fixtures_dir: Path) -> None:
    """The v3 contexts pull in anno.jsonld through scoped contexts: refused, not fetched."""
    doc = load(fixtures_dir / "iiif-cookbook" / "0009-book-1__manifest.rendered.json")
    with pytest.raises(DocumentError, match="anno.jsonld"):
        expand(doc, doc["id"])


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("key", sorted(CONTEXT_FILES))
def test_every_vendored_context_is_served_over_both_schemes(scheme: str, key: str) -> None:
    served = offline_loader(f"{scheme}://{key}")
    assert served["documentUrl"] == f"{scheme}://{key}"
    assert isinstance(served["document"]["@context"], dict | list)


@pytest.mark.parametrize(
    ("url", "fixture"),
    [
        ("http://iiif.io/api/presentation/2/context.json", "presentation__2__context.json"),
        ("http://iiif.io/api/presentation/3/context.json", "presentation__3__context.json"),
        ("http://iiif.io/api/image/2/context.json", "image__2__context.json"),
        ("http://iiif.io/api/image/3/context.json", "image__3__context.json"),
    ],
)
def test_vendored_iiif_contexts_are_the_real_ones(
    fixtures_dir: Path, url: str, fixture: str
) -> None:
    assert offline_loader(url)["document"] == load(fixtures_dir / "iiif-api" / fixture)


def test_the_curation_context_defines_the_cr_prefix_and_selections() -> None:
    context = offline_loader("http://codh.rois.ac.jp/iiif/curation/1/context.json")["document"]
    terms = context["@context"]
    assert terms["cr"] == CR
    assert terms["selections"]["@id"] == "cr:selections"


# --- value readers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("桐壺", ("桐壺", None)),
        (28, ("28", None)),
        ({"@value": "Genji", "@language": "en"}, ("Genji", "en")),
        (
            [{"@value": "Genji", "@language": "en"}, {"@value": "源氏", "@language": "ja"}],
            ("源氏", "ja"),
        ),
        ({"en": ["Book 1"], "none": ["p. 1"]}, ("p. 1", None)),
        ({"fr": ["Livre"], "de": ["Buch"]}, ("Livre", "fr")),
        ({"en": ["a", "b"]}, ("a; b", "en")),
        (["one", "two"], ("one; two", None)),
        (None, (None, None)),
        ([], (None, None)),
    ],
)
def test_text_and_lang_prefers_japanese_then_untagged_then_english(
    value: object, expected: tuple[str | None, str | None]
) -> None:
    assert text_and_lang(value, "u", "/label") == expected


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (True, "/label"),
        ({"en": [3]}, "/label/en/0"),
        ([{"@value": None}], "/label/0/@value"),
    ],
)
def test_text_and_lang_names_the_bad_field(value: object, field: str) -> None:
    with pytest.raises(DocumentError) as caught:
        text_and_lang(value, "https://e.org/doc", "/label")
    assert caught.value.field == field


def test_node_id_and_join() -> None:
    assert node_id({"@id": " https://e.org/a "}) == "https://e.org/a"
    assert node_id({"id": "https://e.org/b", "type": "Manifest"}) == "https://e.org/b"
    assert node_id({"type": "Manifest"}) is None
    assert join("/selections", 0, "members") == "/selections/0/members"
    assert join("", "a/b", "~") == "/a~1b/~0"
