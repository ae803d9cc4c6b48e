"""The official layout record of ``Release.options_json``: the JSON of revision 0002 reads
back unchanged, the URL rule is the one the importer and the compiler share, and a wrong
type is a one-line error naming the release and the field."""

from __future__ import annotations

import pytest

from kaokore.db.release_layout import OfficialLayoutOptions, TagRules, UrlRules
from kaokore.errors import DatabaseError

STORED = {
    "folder": "/data/v1.3",
    "document_url": "file:///data/v1.3/original_tags.txt",
    "labels_header": "image,gender,status,set",
    "urls": {
        "origins": {"http://codh.rois.ac.jp": "https://codh.rois.ac.jp"},
        "size": "256,256",
        "sizes": {"https://iiif.lib.keio.ac.jp": "!200,200"},
        "tail": "0/default.jpg",
        "count": 4,
        "lines": {"00000002.jpg": ""},
    },
    "tags": {"lines": {}, "missing": ["00000003.jpg"]},
}


def test_stored_json_round_trips() -> None:
    options = OfficialLayoutOptions.from_json(STORED)
    assert options.to_json() == STORED
    assert options.tags == TagRules(lines={}, missing=("00000003.jpg",))


def test_the_url_rule() -> None:
    rules = OfficialLayoutOptions.from_json(STORED).urls
    assert (
        rules.url("http://codh.rois.ac.jp/pmjt/iiif/1/1_00001.tif", "10,20,30,30")
        == "https://codh.rois.ac.jp/pmjt/iiif/1/1_00001.tif/10,20,30,30/256,256/0/default.jpg"
    )
    assert rules.url("https://iiif.lib.keio.ac.jp/a/b.tif", "1,2,3,3").endswith(
        "/1,2,3,3/!200,200/0/default.jpg"
    )
    assert UrlRules().url("https://h/x", "0,0,9,9") == "https://h/x/0,0,9,9/256,256/0/default.jpg"


def test_missing_keys_take_defaults_and_wrong_types_are_named() -> None:
    assert OfficialLayoutOptions.from_json(None) == OfficialLayoutOptions()
    with pytest.raises(DatabaseError, match=r"official:1\.3.*urls\.count is str"):
        OfficialLayoutOptions.from_json({"urls": {"count": "4"}}, release="official:1.3")
