"""Every filter, and combinations, on the official 1.3 metadata, against counts computed
independently from original_tags.txt (parsed in tests/query/conftest.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from kaokore.db import Database
from kaokore.errors import UsageError
from kaokore.query import count_faces, face_ids, faces, stats
from kaokore.query.filters import FaceFilter
from tests.query.conftest import TagLine

RECORD_KEYS = ("DOI", "京都大学貴重資料デジタルアーカイブレコードID", "慶応義塾大学請求記号")

# The 1.3 制作年 values, read by hand (independent of kaokore.periods).
YEARS = {
    "from 1500": (1500, None), "from 1600": (1600, None), "from 1688": (1688, None),
    "to 1600": (None, 1600), "to 1700": (None, 1700), "to 1704": (None, 1704),
    "1602": (1602, 1602), "1651": (1651, 1651),
}  # fmt: skip
NAMED = {
    "慶長7": (1602, 1602), "慶安4": (1651, 1651), "元禄頃": (1688, 1704),
    "江戸前期": (1603, 1688), "江戸初期": (1603, 1669), "室町末期": (1514, 1573),
    "室町末近世初": (1514, 1647),
}  # fmt: skip


def face_range(line: TagLine) -> tuple[int | None, int | None]:
    """Explicit years first, named periods otherwise (the documented rule)."""
    values = line.get("制作年")
    precise = [YEARS[v] for v in values if v in YEARS]
    named = [NAMED[v] for v in values if v in NAMED]
    froms = [a for a, _ in precise if a is not None] or [a for a, _ in named if a is not None]
    tos = [b for _, b in precise if b is not None] or [b for _, b in named if b is not None]
    return (min(froms) if froms else None, max(tos) if tos else None)


def overlap(line: TagLine, low: int, high: int) -> bool:
    start, end = face_range(line)
    if start is None and end is None:
        return False
    return (start is None or start <= high) and (end is None or end >= low)


def expect(lines: list[TagLine], predicate: Callable[[TagLine], bool]) -> int:
    return sum(1 for line in lines if predicate(line))


def has(key: str, *values: str) -> Callable[[TagLine], bool]:
    return lambda line: any(v in values for v in line.get(key))


@pytest.mark.parametrize(
    ("filters", "predicate"),
    [
        ({"status": "武士"}, has("身分", "武士")),
        ({"status": "warrior"}, has("身分", "武士")),
        ({"status": ["noble", "incarnation"]}, has("身分", "貴族", "化身")),
        ({"status": "不明"}, has("身分", "不明")),
        ({"gender": "female"}, has("性別", "女")),
        ({"gender": "男"}, has("性別", "男")),
        ({"orientation": "profile"}, has("向き", "横")),
        ({"orientation": "後"}, has("向き", "後")),
        ({"holder": "Kyoto University"}, has("所蔵", "京都大学")),
        ({"holder": "国文学研究資料館"}, has("所蔵", "国文学研究資料館")),
        ({"work": "酒呑童子"}, has("原典", "酒呑童子")),
        ({"work": ["文正草子", "宇津保物語"]}, has("原典", "文正草子", "宇津保物語")),
        (
            {"record_id": "RB00013604"},
            lambda line: "RB00013604" in [v for k in RECORD_KEYS for v in line.get(k)],
        ),
        (
            {"record_id": "132X@200@3@2"},
            lambda line: "132X-200-3-2" in line.get("慶応義塾大学請求記号"),
        ),
        ({"tag": "鬼"}, has("タグ", "鬼")),
        ({"tag": ["少年", "中国"]}, lambda line: {"少年", "中国"} <= set(line.get("タグ"))),
        (
            {"text": "童子"},
            lambda line: any("童子" in v for vs in line.values.values() for v in vs),
        ),
        ({"period": "1600-1650"}, lambda line: overlap(line, 1600, 1650)),
        ({"period": "1400-1510"}, lambda line: overlap(line, 1400, 1510)),
        ({"period": "1651"}, lambda line: overlap(line, 1651, 1651)),
        ({"period": "1690-1700"}, lambda line: overlap(line, 1690, 1700)),
        ({"agent": "human"}, lambda line: True),
        ({"in_release": "1.3"}, lambda line: True),
        ({"in_release": "official:1.3"}, lambda line: True),
        (
            {"status": "warrior", "gender": "female"},
            lambda line: has("身分", "武士")(line) and has("性別", "女")(line),
        ),
        (
            {"holder": "Keio University", "status": "noble", "period": "1600-1650"},
            lambda line: (
                has("所蔵", "慶應義塾大学")(line)
                and has("身分", "貴族")(line)
                and overlap(line, 1600, 1650)
            ),
        ),
        (
            {"work": "酒呑童子", "tag": "鬼", "orientation": "three-quarter"},
            lambda line: (
                has("原典", "酒呑童子")(line)
                and has("タグ", "鬼")(line)
                and has("向き", "四分の三")(line)
            ),
        ),
        (
            {
                "gender": "male",
                "orientation": ["front", "back"],
                "holder": "京都大学",
                "agent": "human",
            },
            lambda line: (
                has("性別", "男")(line)
                and has("向き", "正面", "後")(line)
                and has("所蔵", "京都大学")(line)
            ),
        ),
        (
            {"text": "中国", "status": "貴族", "in_release": "1.3"},
            lambda line: (
                any("中国" in v for vs in line.values.values() for v in vs)
                and has("身分", "貴族")(line)
            ),
        ),
    ],
)
def test_filter_counts_match_original_tags(
    official_db: Database,
    official_tags: list[TagLine],
    filters: dict,
    predicate: Callable[[TagLine], bool],
) -> None:
    expected = expect(official_tags, predicate)
    assert expected > 0 or filters == {"period": "1400-1510"}
    assert count_faces(official_db, where=FaceFilter(**filters)) == expected
    if expected < 400:
        assert len(faces(official_db, where=FaceFilter(**filters))) == expected


def test_machine_agent_matches_nothing_in_official_files(official_db: Database) -> None:
    assert count_faces(official_db, where=FaceFilter(agent="machine")) == 0


def test_english_and_japanese_are_the_same_query(official_db: Database) -> None:
    pairs = [
        ({"status": "warrior"}, {"status": "武士"}),
        ({"gender": "Female"}, {"gender": "女"}),
        ({"orientation": "three-quarter"}, {"orientation": "四分の三"}),
        ({"holder": "keio university"}, {"holder": "慶應義塾大学"}),
        ({"status": "monk", "holder": "National Institute of Japanese Literature"}, {"status": "僧侶", "holder": "国文学研究資料館"}),
    ]  # fmt: skip
    for english, japanese in pairs:
        en_ids = face_ids(official_db, where=FaceFilter(**english))
        ja_ids = face_ids(official_db, where=FaceFilter(**japanese))
        assert en_ids == ja_ids and en_ids


def test_rows_carry_the_labels_of_the_file(
    official_db: Database, official_tags: list[TagLine]
) -> None:
    rows = faces(official_db, where=FaceFilter(work="病草子", gender="female"))
    by_status = Counter(row.status for row in rows)
    expected = Counter(
        line.first("身分")
        for line in official_tags
        if has("原典", "病草子")(line) and has("性別", "女")(line)
    )
    assert by_status == expected
    row = rows[0]
    assert row.holder == "京都大学" and row.holder_en == "Kyoto University"
    assert row.gender_en == "female"
    assert row.image_service and row.image_service.startswith("https://rmda.kulib.kyoto-u.ac.jp/")


def test_limit_and_order(official_db: Database) -> None:
    rows = faces(official_db, where=FaceFilter(status="warrior"), limit=5)
    assert len(rows) == 5
    assert [r.face_id for r in rows] == sorted(r.face_id for r in rows)


def test_dataframe(official_db: Database, official_tags: list[TagLine]) -> None:
    frame = faces(
        official_db, where=FaceFilter(holder="Keio University", status="monk"), as_dataframe=True
    )
    assert len(frame) == expect(
        official_tags, lambda line: has("所蔵", "慶應義塾大学")(line) and has("身分", "僧侶")(line)
    )
    assert {"face_id", "work", "status", "status_en", "period_from"} <= set(frame.columns)


def test_stats_by_status_and_work(official_db: Database, official_tags: list[TagLine]) -> None:
    result = stats(official_db, by="status")
    assert result.total == len(official_tags)
    counts = {row.values[0]: row.count for row in result.rows}
    assert counts == Counter(line.first("身分") for line in official_tags)
    assert sum(row.share for row in result.rows) == pytest.approx(1.0)
    crosstab = stats(
        official_db, where=FaceFilter(holder="Kyoto University"), by=["work", "status"]
    )
    expected = Counter(
        (line.first("原典"), line.first("身分"))
        for line in official_tags
        if has("所蔵", "京都大学")(line)
    )
    assert {row.values: row.count for row in crosstab.rows} == expected


def test_stats_by_tag_counts_each_tag(official_db: Database, official_tags: list[TagLine]) -> None:
    result = stats(official_db, where=FaceFilter(work="酒呑童子"), by="タグ")
    expected: Counter[str | None] = Counter()
    for line in official_tags:
        if has("原典", "酒呑童子")(line):
            tags = {v for v in line.get("タグ") if v}
            for tag in tags or {None}:
                expected[tag] += 1
    assert {row.values[0]: row.count for row in result.rows} == expected


def test_stats_by_period_and_century(official_db: Database, official_tags: list[TagLine]) -> None:
    result = stats(official_db, by="century")
    expected: Counter[str | None] = Counter()
    for line in official_tags:
        start, end = face_range(line)
        # round hundreds: the century holding the middle year (from 1600 to 1700: 17th)
        if start is not None and end is not None:
            middle: int | None = (start + end) // 2
        else:
            middle = start if start is not None else (end - 1 if end is not None else None)
        expected[None if middle is None else f"{middle // 100 + 1}th century"] += 1
    assert {row.values[0]: row.count for row in result.rows} == expected
    # "from 1600, to 1700" (江戸前期) is the 17th century; "from 1500, to 1600" the 16th
    assert expected["17th century"] > expected["16th century"] > 0


def test_unknown_values_are_usage_errors(official_db: Database) -> None:
    with pytest.raises(UsageError, match="^status 'warior': not a known value"):
        count_faces(official_db, where=FaceFilter(status="warior"))
    with pytest.raises(UsageError, match="Did you mean: .*酒呑童子"):
        count_faces(official_db, where=FaceFilter(work="酒呑"))
    with pytest.raises(UsageError, match="^in_release '9.9': no such release"):
        count_faces(official_db, where=FaceFilter(in_release="9.9"))
    with pytest.raises(UsageError, match="^agent 'robot': use human or machine$"):
        count_faces(official_db, where=FaceFilter(agent="robot"))
