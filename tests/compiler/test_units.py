"""The pure parts of the compiler: split rules, official-format writers, the square cut."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from kaokore.box import Box
from kaokore.compiler import files
from kaokore.compiler.images import crop_box
from kaokore.compiler.records import AnnotationValue, ReleaseEntry, SampleRow
from kaokore.compiler.splits import by_work_group, set_of, unit_interval
from tests.conftest import shared_path


def make_row(key: str = "iiif/a/p1#10,20,100,100", **changes: object) -> SampleRow:
    row = SampleRow(
        face_id=1,
        key=key,
        file_number=None,
        holder="京都大学",
        record_id="RB1",
        work_key="https://example.org/a/manifest.json",
        work_label="病草子",
        manifest_url="https://example.org/a/manifest.json",
        license=None,
        attribution=None,
        canvas_uri="https://example.org/a/canvas/p1",
        canvas_label="p1",
        canvas_position=1,
        member_uri=None,
        range_id=None,
        range_label=None,
        region=None,
        square=Box(x=10, y=20, w=100, h=100),
        key_square=Box(x=10, y=20, w=100, h=100),
        service_url="https://img.example.org/iiif/a/p1",
        service_key="iiif/a/p1",
        api_version="2",
        level=2,
        source_document=None,
        blob_sha256=None,
        blob_path=None,
        blob_width=None,
        blob_height=None,
        crop_url=None,
        crop_status="ok",
        crop_error=None,
        annotations=(),
        gender=0,
        status=1,
    )
    return replace(row, **changes)  # type: ignore[arg-type]


def test_unit_interval_is_a_pure_function() -> None:
    values = [unit_interval(0, f"key{i}") for i in range(1000)]
    assert values == [unit_interval(0, f"key{i}") for i in range(1000)]
    assert all(0 <= v < 1 for v in values)
    assert values != [unit_interval(1, f"key{i}") for i in range(1000)]


@pytest.mark.slow
def test_stable_split_holds_its_proportions_in_every_class() -> None:
    by_class: dict[tuple[int, int], Counter[str]] = {}
    for index in range(24000):
        gender, status = index % 2, (index // 2) % 4
        row = make_row(key=f"iiif/s{index // 7}#{index},0,50,50", gender=gender, status=status)
        by_class.setdefault((gender, status), Counter())[set_of(0, row)] += 1
    for counts in by_class.values():
        total = sum(counts.values())
        assert counts["train"] / total == pytest.approx(0.8, abs=0.025)
        assert counts["dev"] / total == pytest.approx(0.1, abs=0.02)
        assert counts["test"] / total == pytest.approx(0.1, abs=0.02)


def test_a_face_keeps_its_set_when_relabelled_or_joined_by_others() -> None:
    row = make_row()
    assert set_of(0, row) == set_of(0, replace(row, gender=1, status=3, face_id=99))
    other_face_same_work = make_row(key="iiif/a/p9#0,0,10,10")
    assert by_work_group(row) == by_work_group(other_face_same_work)


def test_label_metadata_is_the_official_text() -> None:
    folder = shared_path("data", "kaokore", "official", "v1.3")
    assert files.metadata_en() == (folder / "labels.metadata.en.txt").read_bytes()
    assert files.metadata_ja() == (folder / "labels.metadata.ja.txt").read_bytes()


def test_tag_lines_round_trip_the_official_file() -> None:
    path = shared_path("data", "kaokore", "official", "v1.3", "original_tags.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    for line in lines:
        image, _, rest = line.partition(":")
        pairs = [pair.split("=", 1) for pair in rest.split(";")]
        annotations = tuple(
            AnnotationValue(label=k, value=v.strip(), raw_value=v, agent="human", position=i)
            for i, (k, v) in reversed(list(enumerate(pairs)))
        )
        machine = AnnotationValue(
            label="tag", value="x", raw_value="x", agent="machine", position=0
        )
        assert files.tag_line(image, make_row(annotations=(*annotations, machine))) == line


def test_urls_keep_blank_lines_for_missing_numbers() -> None:
    row = make_row()
    entries = [
        ReleaseEntry(image=f"{n:08d}.jpg", row=row, image_sha256="0" * 64, url=f"u{n}")
        for n in (0, 2, 3)
    ]
    assert files.urls_txt(entries) == b"u0\n\nu2\nu3\n"
    assert (
        files.iiif_url(row)
        == "https://img.example.org/iiif/a/p1/10,20,100,100/256,256/0/default.jpg"
    )
    assert files.iiif_url(replace(row, api_version="3")).endswith("/^256,256/0/default.jpg")
    assert files.iiif_url(replace(row, level=1)).endswith("/256,/0/default.jpg")


def test_labels_csv_lists_labelled_faces_by_set() -> None:
    a = ReleaseEntry(
        image="00000001.jpg", row=make_row(), image_sha256="", url="", sets={"stable": "test"}
    )
    b = ReleaseEntry(
        image="00000002.jpg", row=make_row(), image_sha256="", url="", sets={"stable": "train"}
    )
    c = ReleaseEntry(
        image="00000000.jpg",
        row=make_row(status=None),
        image_sha256="",
        url="",
        sets={"stable": "train"},
    )
    assert files.labels_csv([a, b, c]) == (
        b"image,gender,status,set\n00000002.jpg,0,1,train\n00000001.jpg,0,1,test\n"
    )


def test_square_cut_of_an_oblong_crop() -> None:
    square = Box(x=0, y=500, w=80, h=120)  # clamped at the left edge of the page
    key = Box(x=-40, y=500, w=120, h=120)
    assert crop_box(256, 256, square=square, key_square=key) is None
    left, top, right, bottom = crop_box(160, 240, square=square, key_square=key) or (0, 0, 0, 0)
    assert (right - left, bottom - top) == (160, 160)
    assert left >= 0 and right <= 160 and top >= 0 and bottom <= 240
    assert crop_box(300, 200, square=Box(x=0, y=0, w=300, h=200), key_square=None) == (
        50,
        0,
        250,
        200,
    )
