"""cr:Curation documents: every variant of the real files, and the face-collection quirks."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from kaokore.box import Box
from kaokore.db.records import Assertion
from kaokore.errors import DocumentError
from kaokore.ingest.curation import document_kind, looks_like_curation, parse_curation

DATA = Path(__file__).parent / "data"
QUIRKS_URL = "https://mp.ex.nii.ac.jp/api/face/curation/json/00000000-quirks"
KEIO = "https://iiif.lib.keio.ac.jp/iiif/NRE/132X-200-3-2/canvas/"


def load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)  # type: ignore[no-any-return]


def activity(fixtures_dir: Path, name: str) -> dict[str, Any]:
    return load(fixtures_dir / "curation-activity" / name)


@pytest.fixture
def quirks() -> dict[str, Any]:
    return load(DATA / "curation_quirks.json")


# --- the public sample curations ----------------------------------------------------------


def test_string_canvases_and_within_object(fixtures_dir: Path) -> None:
    url = "https://illdepence.github.io/curationactivity/iiif-compatibility/curation1.json"
    curation = parse_curation(activity(fixtures_dir, "iiif-compatibility__curation1.json"), url)
    assert curation.label == "Mad lads"
    assert [len(selection.faces) for selection in curation.selections] == [3, 3]
    american, medieval = curation.selections
    assert american.manifest_url == "https://digital.library.villanova.edu/Item/vudl:92879/Manifest"
    assert american.manifest_label == (
        "Portrait gallery of pugilists of America and their contemporaries"
    )
    assert medieval.manifest_label == "MS. Bodl. 264"
    first = american.faces[0]
    assert first.canvas_uri == "https://digital.library.villanova.edu/Item/vudl:92879/Canvas/p32"
    assert first.region == Box(x=504, y=696, w=3016, h=4464)
    assert first.member_uri == first.canvas_uri + "#xywh=504,696,3016,4464"
    assert (first.label, first.pairs) == (None, ())
    assert medieval.faces[2].canvas_uri == (
        "http://iiif.bodleian.ox.ac.uk/iiif/canvas/0ea5e42a-b298-453e-9b4b-d1d4621db9b5.json"
    )


def test_canvas_objects_and_within_array_pick_the_manifest(fixtures_dir: Path) -> None:
    url = "https://illdepence.github.io/curationactivity/iiif/curation1.json"
    curation = parse_curation(activity(fixtures_dir, "iiif__curation1.json"), url)
    # the array holds the manifest and the parent curation (same label "Mad lads")
    assert [selection.manifest_url for selection in curation.selections] == [
        "https://digital.library.villanova.edu/Item/vudl:92879/Manifest",
        "http://iiif.bodleian.ox.ac.uk/iiif/manifest/60834383-7146-41ab-bfe1-48ee97bc04be.json",
    ]
    assert [face.label for face in curation.selections[0].faces] == [
        "Jake Kilrain",
        "Mike Conley",
        "Mike Daly",
    ]
    assert len(curation.faces) == 6


def test_the_japanese_sample_curation(fixtures_dir: Path) -> None:
    url = "https://illdepence.github.io/curationactivity/iiif/curation2.json"
    curation = parse_curation(activity(fixtures_dir, "iiif__curation2.json"), url)
    (selection,) = curation.selections
    assert selection.manifest_url == "http://codh.rois.ac.jp/pmjt/book/200004002/manifest.json"
    assert selection.manifest_label == "東海道中膝栗毛"
    assert [face.label for face in selection.faces] == [
        "washing",
        "hiding",
        "taking a bath",
        "piggyback riding",
    ]
    assert selection.faces[3].region == Box(x=830, y=1636, w=1000, h=1304)
    assert selection.faces[3].canvas_uri.endswith("/200004002/canvas/001_00191")


def test_the_compatibility_copy_gives_the_same_faces(fixtures_dir: Path) -> None:
    plain = parse_curation(activity(fixtures_dir, "iiif-compatibility__curation2.json"), "u")
    rich = parse_curation(activity(fixtures_dir, "iiif__curation2.json"), "u")
    assert [(f.member_uri, f.region) for f in plain.faces] == [
        (f.member_uri, f.region) for f in rich.faces
    ]


def test_members_with_numbers_annotations_and_points(fixtures_dir: Path) -> None:
    doc = load(fixtures_dir / "curation-genji" / "021_taisei_01.trimmed.json")
    curation = parse_curation(doc, doc["@id"])
    (selection,) = curation.selections
    assert selection.manifest_label == "桐壺"
    assert len(selection.faces) == 3
    text = selection.faces[0].pairs
    assert text == (
        Assertion(
            label="Text",
            raw_value="いつれの御時ににか女御更衣あまたさふひ給る",
            value="いつれの御時ににか女御更衣あまたさふひ給る",
            agent="human",
            position=0,
        ),
    )
    last = selection.faces[2]
    assert last.label == "[568]"
    assert last.region == Box(x=1181, y=1101, w=1, h=1)  # a 1x1 point
    by_label = {pair.label: pair for pair in last.pairs}
    assert by_label["p"].raw_value == "28"  # "value": 28
    annotation = by_label["Annotation"]
    assert annotation.raw_value.startswith("\n")
    assert annotation.value.startswith('<table class="table">')
    assert "<td>大成番号</td>" in annotation.value and annotation.value.endswith("</table>")
    assert [pair.label for pair in last.pairs] == [
        "p",
        "校異源氏テキスト",
        "KuroNet翻刻",
        "KuroNet翻刻（前行を含む）",
        "Annotation",
    ]


# --- the face-collection quirks -----------------------------------------------------------


def test_quirks_label_prefers_japanese(quirks: dict[str, Any]) -> None:
    assert parse_curation(quirks, QUIRKS_URL).label == "顔貌コレクション（癖）"


def test_quirks_face_metadata(quirks: dict[str, Any]) -> None:
    face = parse_curation(quirks, QUIRKS_URL).selections[0].faces[0]
    assert face.label == "顔 1"
    assert face.region == Box(x=219, y=10, w=80, h=120)  # "pixel:" prefix
    assert face.canvas_uri == KEIO + "page1"
    values = [(pair.label, pair.value, pair.position) for pair in face.pairs]
    assert values == [
        ("性別", "男", 0),
        ("身分", "武士", 0),
        ("向き", "四分の三", 0),
        ("タグ", "少年", 0),
        ("タグ", "山伏", 1),
        ("制作年", "from 1600", 0),
        ("制作年", "to 1700", 1),
        ("所蔵", "慶應義塾大学", 0),
        ("慶応義塾大学請求記号", "132X-200-3-2", 0),
        ("tag", "face", 0),
        ("原典ID", "200012645", 0),
    ]
    by_label = {pair.label: pair for pair in face.pairs}
    assert by_label["身分"].raw_value == " 武士 "
    assert by_label["慶応義塾大学請求記号"].raw_value == "132X@200@3@2"
    assert by_label["tag"].agent == "machine"
    assert {pair.agent for pair in face.pairs if pair.label != "tag"} == {"human"}


def test_quirks_stray_spaces_and_empty_values(quirks: dict[str, Any]) -> None:
    point = parse_curation(quirks, QUIRKS_URL).selections[0].faces[1]
    assert point.canvas_uri == KEIO + "page10"  # not confused with page1
    assert point.region == Box(x=5, y=6, w=1, h=1)
    record, tag = point.pairs
    assert (record.raw_value, record.value) == (" RB00022867", "RB00022867")
    assert (tag.label, tag.raw_value, tag.value) == ("タグ", "", "")


def test_quirks_members_and_canvases_are_merged(quirks: dict[str, Any]) -> None:
    selection = parse_curation(quirks, QUIRKS_URL).selections[0]
    assert selection.manifest_url == (
        "https://iiif.lib.keio.ac.jp/iiif/NRE/132X-200-3-2/manifest.json"
    )
    assert selection.manifest_label is None
    # page1 is both a member and a canvas: it stays one face, with the member's metadata
    assert [face.canvas_uri for face in selection.faces] == [
        KEIO + "page1",
        KEIO + "page10",
        KEIO + "page2",
    ]
    assert selection.faces[0].pairs and selection.faces[2].pairs == ()
    assert selection.whole_canvases == (KEIO + "page3",)  # no region: not a face


def test_quirks_within_variants(quirks: dict[str, Any]) -> None:
    _keio, pmjt, kyoto = parse_curation(quirks, QUIRKS_URL).selections
    assert pmjt.manifest_url == "http://codh.rois.ac.jp/pmjt/book/200015562/manifest.json"
    assert pmjt.manifest_label is None  # tl:Manifest without label
    assert pmjt.label is None
    assert kyoto.manifest_url == (
        "https://rmda.kulib.kyoto-u.ac.jp/iiif/metadata_manifest/RB00013604/manifest.json"
    )
    assert kyoto.manifest_label == "大職冠"  # codh:Manifest after the parent curation
    assert kyoto.faces == ()


# --- malformed curations ------------------------------------------------------------------


def broken(quirks: dict[str, Any], path: list[str | int], value: object) -> dict[str, Any]:
    doc = copy.deepcopy(quirks)
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


_DELETE = object()
MEMBER = ["selections", 0, "members", 0]


@pytest.mark.parametrize(
    ("path", "value"),
    [(["selections"], _DELETE), (["selections"], {"@id": "x"})],
)
def test_a_document_that_is_no_curation_at_all_fails_whole(
    quirks: dict[str, Any], path: list[str | int], value: object
) -> None:
    with pytest.raises(DocumentError) as caught:
        parse_curation(broken(quirks, path, value), QUIRKS_URL)
    assert caught.value.field == "/selections"
    assert caught.value.url == QUIRKS_URL
    assert str(caught.value).startswith(f"{QUIRKS_URL} at /selections: ")


META = [*MEMBER, "metadata"]


@pytest.mark.parametrize(
    ("path", "value", "field", "code", "lost"),
    [
        # a member that cannot be read: left out, its neighbours read
        (["selections", 0, "members", 1, "@id"], _DELETE, "/selections/0/members/1/@id", "member_unreadable", "member"),
        ([*MEMBER, "@id"], KEIO + "page1#xywh=1,2,3", "/selections/0/members/0/@id", "member_unreadable", "member"),
        ([*MEMBER, "@id"], KEIO + "page1#xywh=percent:1,2,3,4", "/selections/0/members/0/@id", "member_unreadable", "member"),
        ([*MEMBER, "@id"], KEIO + "page1#xywh=1,2,0,4", "/selections/0/members/0/@id", "member_unreadable", "member"),
        # a selection that cannot be read: fails alone
        (["selections", 1, "within"], _DELETE, "/selections/1/within", "selection_unreadable", "selection"),
        (["selections", 1, "within"], {"@type": "sc:Manifest"}, "/selections/1/within/@id", "selection_unreadable", "selection"),
        (["selections", 2, "within"], [{"@id": "c", "@type": "cr:Curation"}], "/selections/2/within/0", "selection_unreadable", "selection"),
        (["selections", 0, "@id"], _DELETE, "/selections/0/@id", "selection_unreadable", "selection"),
        (["selections", 1, "members"], _DELETE, "/selections/1/members", "selection_unreadable", "selection"),
        (["selections", 0, "canvases"], "not a list", "/selections/0/canvases", "selection_unreadable", "selection"),
        # a metadata entry that cannot be read: skipped, the face kept
        ([*META, 2, "label"], _DELETE, "/selections/0/members/0/metadata/2/label", "empty_label", "label"),
        ([*META, 2, "label"], "", "/selections/0/members/0/metadata/2/label", "empty_label", "label"),
        ([*META, 2, "value"], _DELETE, "/selections/0/members/0/metadata/2/value", "metadata_unreadable", "label"),
        ([*META, 2, "value"], True, "/selections/0/members/0/metadata/2/value", "metadata_unreadable", "label"),
        ([*META, 9, "agent"], "robot", "/selections/0/members/0/metadata/9/agent", "metadata_unreadable", "label"),
        (META, {"label": "性別"}, "/selections/0/members/0/metadata", "metadata_unreadable", "labels"),
    ],
)  # fmt: skip
def test_a_bad_part_is_a_defect_and_the_rest_is_read(
    quirks: dict[str, Any],
    path: list[str | int],
    value: object,
    field: str,
    code: str,
    lost: str,
) -> None:
    good = parse_curation(quirks, QUIRKS_URL)
    curation = parse_curation(broken(quirks, path, value), QUIRKS_URL)
    (defect,) = curation.defects
    assert (defect.url, defect.pointer, defect.code) == (QUIRKS_URL, field, code)
    assert defect.reason and defect.outcome == ("kept" if lost.startswith("label") else "left_out")
    index = int(path[1])
    faces = {face.member_uri: face for face in curation.faces}
    if lost == "selection":
        gone = {face.member_uri for face in good.selections[index].faces}
        assert set(faces) == {face.member_uri for face in good.faces} - gone
        assert len(curation.selections) == len(good.selections) - 1
        return
    member = good.selections[0].faces[int(path[3]) if lost == "member" else 0]
    if lost == "member":
        others = {face.member_uri for face in good.faces} - {member.member_uri}
        assert others <= set(faces)  # (the member may also be listed in ``canvases``)
        assert defect.member_uri == (None if value is _DELETE else value)
        return
    assert len(faces) == len(good.faces)  # the face is kept, with its other labels
    kept = faces[member.member_uri].pairs
    if lost == "label":
        assert len(kept) == len(member.pairs) - 1 and defect.member_uri == member.member_uri
    else:
        assert kept == ()


def test_an_empty_value_under_a_real_label_is_kept_as_upstream_wrote_it(
    quirks: dict[str, Any],
) -> None:
    doc = broken(quirks, [*META, 2, "value"], "")
    curation = parse_curation(doc, QUIRKS_URL)
    assert curation.defects == ()
    label = curation.selections[0].faces[0].pairs[2]
    assert label.raw_value == "" and label.value == ""


def test_negative_region_coordinates_are_read(quirks: dict[str, Any]) -> None:
    doc = broken(quirks, [*MEMBER, "@id"], KEIO + "page1#xywh=-19,1240,195,195")
    face = parse_curation(doc, QUIRKS_URL).selections[0].faces[0]
    assert face.region == Box(x=-19, y=1240, w=195, h=195)


# --- telling documents apart --------------------------------------------------------------


@pytest.mark.parametrize(
    ("relative", "kind"),
    [
        ("curation-activity/iiif__curation1.json", "curation"),
        ("curation-activity/iiif-compatibility__curation2.json", "curation"),
        ("curation-genji/021_taisei_01.trimmed.json", "curation"),
        ("curation-activity/as__collection.json", "feed"),
        ("curation-activity/as__page-44411e87-2e2a-4bc6-b78e-67d3f8292e7f.json", "feed"),
        ("curation-activity/iiif__range1.json", "unknown"),
        ("iiif-api/presentation__2.1__example__fixtures__1__manifest.json", "manifest"),
        ("iiif-api/presentation__2.1__example__fixtures__collection.json", "unknown"),
        ("iiif-cookbook/0009-book-1__manifest.rendered.json", "manifest"),
        ("iiif-prezi3/mcinnis-39-v3.json", "manifest"),
        ("iiif-api/image_3.0_spec_complete_info.json", "unknown"),
        ("iiif-presentation-validator/annotation_full.json", "unknown"),
    ],
)
def test_document_kind_of_real_documents(fixtures_dir: Path, relative: str, kind: str) -> None:
    doc = load(fixtures_dir / relative)
    assert document_kind(doc) == kind
    assert looks_like_curation(doc) == (kind == "curation")


def test_document_kind_tells_a_iiif_collection_from_a_feed() -> None:
    prezi3 = {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        "id": "https://example.org/collection.json",
        "type": "Collection",
        "items": [{"id": "https://example.org/m.json", "type": "Manifest"}],
    }
    discovery = {"type": "OrderedCollection", "last": {"id": "https://example.org/p9"}}
    assert document_kind(prezi3) == "unknown"
    assert document_kind(discovery) == "feed"
    assert document_kind(["not", "a", "document"]) == "unknown"
    assert document_kind({"selections": []}) == "curation"
