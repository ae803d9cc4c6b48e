"""The release layout, the shared labels.csv parser and the one release reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kaokore.errors import DatasetNotFoundError, ReleaseError
from kaokore.release import ReleaseFolder, parse_labels
from kaokore.release.layout import (
    IMAGE_DIR,
    LABELS_FILE,
    LABELS_HEADER,
    OFFICIAL_FILES,
    REQUIRED_FILES,
    SPLIT_FILES,
    image_name,
    split_path,
)

ROWS = [
    "00000000.jpg,0,0,train",
    "00000001.jpg,1,3,dev",
    "00000002.jpg,0,1,test",
    "00000003.jpg,1,2,train",
]


def make(root: Path, rows: list[str] = ROWS, **splits: list[str]) -> Path:
    (root / IMAGE_DIR).mkdir(parents=True)
    (root / LABELS_FILE).write_text("\n".join([LABELS_HEADER, *rows]) + "\n")
    for name, lines in splits.items():
        path = root / split_path(name.replace("_", "-"))
        path.parent.mkdir(exist_ok=True)
        path.write_text("\n".join([LABELS_HEADER, *lines]) + "\n")
    return root


def test_layout_names() -> None:
    assert LABELS_HEADER == "image,gender,status,set"
    assert image_name(42) == "00000042.jpg"
    assert split_path("by-work") == "splits/by-work.csv"
    assert set(OFFICIAL_FILES) <= set(REQUIRED_FILES)
    assert "splits/official.csv" not in REQUIRED_FILES  # only where faces came from one
    assert SPLIT_FILES[-1] == "official"


def test_rows_in_file_order_with_their_sets(tmp_path: Path) -> None:
    release = ReleaseFolder.open(make(tmp_path / "kaokore-1.3"))
    rows = release.labels()
    assert [row.image for row in rows] == [line.split(",")[0] for line in ROWS]
    assert (rows[1].gender, rows[1].status, rows[1].set, rows[1].line) == (1, 3, "dev", 3)
    assert rows[1].number == 1 and rows[1].label("status") == 3
    assert [row.image for row in release.in_set("train")] == ["00000000.jpg", "00000003.jpg"]
    assert len(release.in_set("all")) == 4
    assert release.version == "1.3"  # from the folder name when there is no release.json
    assert release.manifest() is None and release.checksum() is None


def test_a_split_file_decides_the_sets(tmp_path: Path) -> None:
    root = make(tmp_path / "k", by_work=["00000002.jpg,0,1,train", "00000000.jpg,0,0,test"])
    release = ReleaseFolder.open(root)
    assert [row.image for row in release.in_set("train", "by-work")] == ["00000002.jpg"]
    assert [(row.image, s) for row, s in release.rows("by-work")] == [
        ("00000000.jpg", "test"),
        ("00000002.jpg", "train"),
    ]  # labels.csv order; rows the split does not list are left out
    with pytest.raises(DatasetNotFoundError, match="no 'stable' split .* it has 'by-work'"):
        release.split_sets("stable")
    # An official download has no splits/: its set column *is* the official split.
    assert ReleaseFolder.open(make(tmp_path / "o")).split_sets("official") is None


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda root: None, "the folder does not exist"),
        (lambda root: (root / IMAGE_DIR).mkdir(parents=True), "labels.csv is missing"),
        (
            lambda root: (root.mkdir(), (root / LABELS_FILE).write_text(LABELS_HEADER + "\n")),
            "images_256/ is missing",
        ),
    ],
)
def test_a_folder_that_is_not_a_release_names_what_is_missing(
    tmp_path: Path, setup: object, message: str
) -> None:
    root = tmp_path / "kaokore-2.1"
    setup(root)  # type: ignore[operator]
    with pytest.raises(DatasetNotFoundError) as info:
        ReleaseFolder.open(root)
    text = str(info.value)
    assert text.startswith(f"No release at {root}: {message}.")
    assert "kaokore build --version 2.1" in text


def test_a_malformed_row_names_the_file_line_and_field(tmp_path: Path) -> None:
    root = make(tmp_path / "k", [*ROWS[:2], "00000002.jpg,0,9,test"])
    with pytest.raises(ReleaseError) as info:
        ReleaseFolder.open(root).labels()
    assert str(info.value) == (
        f"{root / LABELS_FILE}:4: 00000002.jpg: unknown status '9' "
        "(expected 0 (noble), 1 (warrior), 2 (incarnation), 3 (commoner))"
    )


def test_release_json_is_read_or_named_when_broken(tmp_path: Path) -> None:
    root = make(tmp_path / "k")
    (root / "release.json").write_text(json.dumps({"version": "7.1"}))
    (root / "SHA256SUMS").write_text("x\n")
    release = ReleaseFolder.open(root)
    assert release.version == "7.1" and release.manifest() == {"version": "7.1"}
    assert release.checksum() is not None and len(release.checksum() or "") == 64
    (root / "release.json").write_text("[1")
    with pytest.raises(ReleaseError, match=r"release\.json: not valid JSON"):
        release.manifest()


def test_the_parser_reports_every_problem_and_keeps_the_rest() -> None:
    lines = [
        "set,image,status,gender",  # another order: read by name
        "train,00000000.jpg,0,0",
        "dev,face.jpg,0,0",
        "holdout,00000001.jpg,7,2",
        "train,00000002.jpg,0",
        "test,00000000.jpg,1,1",
        "",
    ]
    table = parse_labels(lines, "labels.csv")
    assert [(row.image, row.gender, row.status, row.set) for row in table.rows] == [
        ("00000000.jpg", 0, 0, "train")
    ]
    found = [(p.line, p.code) for p in table.problems]
    assert found == [
        (1, "header"),
        (3, "bad_file_name"),
        (4, "label"),
        (4, "label"),
        (4, "label"),
        (5, "label_fields"),
        (6, "repeated_label"),
    ]
    assert str(table.problems[-1]) == (
        "labels.csv:6: 00000000.jpg is listed on line 2 already, in train (here in test)"
    )
    # A loader tolerates a reordered header but stops at the first bad row.
    with pytest.raises(ReleaseError, match="labels.csv:3: 'face.jpg' is not a file name"):
        table.check()
    assert parse_labels(lines[:2], "labels.csv").check()[0].image == "00000000.jpg"
    assert parse_labels([], "labels.csv").problems[0].code == "header"
