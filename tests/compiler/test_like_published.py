"""``build_release(like_official=...)``: the published numbering, files and sets, reproduced.

(Named without "official" so it runs with the compiler's own tests; the reproduction of each
published file is tested with ``kaokore/compiler/official.py``.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kaokore.compiler import build_release, verify_release
from kaokore.compiler.official import official_layout
from kaokore.db import Face
from tests.compiler.conftest import Filler, tree


@pytest.mark.slow
def test_like_official_uses_the_published_numbering(filled: Filler, tmp_path: Path) -> None:
    sets = {"f000": "train", "f001": "test", "f002": "dev", "f003": "train", "gray": "test"}
    sets["pending"] = "train"
    filled.add_official("1.3", sets)
    summary = build_release(
        filled.database, "1.3-official", out_dir=tmp_path, like_official="1.3", workers=1
    )
    root = summary.path
    with filled.database.session() as session:
        layout = official_layout(session, "1.3")
    for name, data in layout.files.items():
        assert (root / name).read_bytes() == data
    images = sorted(p.name for p in (root / "images_256").iterdir())
    assert images == [
        "00000000.jpg",
        "00000001.jpg",
        "00000002.jpg",
        "00000003.jpg",
        "00000004.jpg",
    ]
    meta = json.loads((root / "release.json").read_text())
    assert meta["options"]["like_official"] == "1.3"
    assert [item["image"] for item in meta["left_out"]] == ["00000005.jpg"]  # "pending" has no crop
    official = (root / "splits" / "official.csv").read_text().splitlines()
    assert len(official) == 1 + 5
    # verify names the published rows whose image could not be made, and nothing else
    assert verify_release(root).problems == (
        "labels.csv:7: 00000005.jpg: no such image in images_256/",
        "original_tags.txt:6: 00000005.jpg: no such image in images_256/",
    )
    with filled.database.session() as session:  # the published numbering is not ours
        assert session.query(Face).filter(Face.file_number.is_not(None)).count() == 0
    again = build_release(
        filled.database, "1.3-official", out_dir=tmp_path / "b", like_official="1.3", workers=1
    )
    assert tree(again.path) == tree(root)
