"""The era and period tables, and the reading of 制作年 values."""

from __future__ import annotations

import pytest

from kaokore.errors import UsageError
from kaokore.periods import (
    century_label,
    century_of,
    combine_periods,
    era_table,
    overlaps,
    parse_period,
    parse_period_query,
    period_table,
)
from tests.conftest import shared_path
from tests.query.conftest import parse_original_tags


def test_era_table_covers_645_to_1912_in_order() -> None:
    eras = era_table()
    assert eras[0].name == "大化" and eras[0].start == 645
    assert eras[-1].name == "大正" and eras[-1].start == 1912
    single_line = [era for era in eras if era.court is None]
    for earlier, later in zip(single_line, single_line[1:], strict=False):
        assert earlier.start <= later.start, (earlier, later)
        assert earlier.end >= earlier.start
    # every year from 701 to 1912 falls in some era (the 7th century has known gaps)
    for year in range(701, 1913):
        assert any(era.start <= year <= era.end for era in eras), year
    names = [era.name for era in eras]
    assert len(names) == len(set(names))
    assert len(eras) >= 240


@pytest.mark.parametrize(
    ("name", "start", "end"),
    [("慶安", 1648, 1652), ("元禄", 1688, 1704), ("慶長", 1596, 1615), ("正保", 1644, 1648),
     ("元弘", 1331, 1334), ("正平", 1346, 1370), ("明徳", 1390, 1394), ("明治", 1868, 1912)],
)  # fmt: skip
def test_known_eras(name: str, start: int, end: int) -> None:
    era = next(era for era in era_table() if era.name == name)
    assert (era.start, era.end) == (start, end)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("from 1600", (1600, None)),
        ("to 1700", (None, 1700)),
        ("1651", (1651, 1651)),
        ("1651年", (1651, 1651)),
        ("慶安4", (1651, 1651)),
        ("慶安四年", (1651, 1651)),
        ("慶安元年", (1648, 1648)),
        ("慶長7", (1602, 1602)),
        ("元禄頃", (1688, 1704)),
        ("江戸前期", (1603, 1688)),
        ("江戸時代", (1603, 1868)),
        ("江戸初期", (1603, 1669)),
        ("室町末期", (1514, 1573)),
        ("室町末近世初", (1514, 1647)),
        ("室町後期", (1467, 1573)),
        ("平安後期", (1086, 1185)),
        ("鎌倉", (1185, 1333)),
        ("南北朝", (1336, 1392)),
        ("安土桃山", (1573, 1603)),
        ("明治", (1868, 1912)),
        ("17世紀", (1600, 1700)),
        ("17世紀前半", (1600, 1650)),
        ("16世紀後半", (1550, 1600)),
        ("江戸前期～中期", (1603, 1781)),
        ("1600-1700", (1600, 1700)),
        ("不明", (None, None)),
        ("不明 ", (None, None)),
        ("", (None, None)),
    ],
)
def test_parse_period(value: str, expected: tuple[int | None, int | None]) -> None:
    parsed = parse_period(value)
    assert parsed is not None
    assert (parsed.year_from, parsed.year_to) == expected
    assert parsed.raw == value


@pytest.mark.parametrize("value", ["慶安9", "はるか昔", "from 99999"])
def test_unreadable_values_are_unmapped(value: str) -> None:
    assert parse_period(value) is None


def test_explicit_years_win_when_combining() -> None:
    assert (combine_periods(["from 1600", "to 1700", "江戸前期"]).year_from,
            combine_periods(["from 1600", "to 1700", "江戸前期"]).year_to) == (1600, 1700)  # fmt: skip
    named = combine_periods(["", "", "江戸前期"])
    assert (named.year_from, named.year_to) == (1603, 1688)
    assert named.raw == ("江戸前期",)
    unknown = combine_periods(["不明"])
    assert not unknown.known and unknown.raw == ("不明",)
    assert combine_periods(["from 1500"]).label == "1500-"


def test_overlaps_and_open_ends() -> None:
    assert overlaps(1600, 1700, 1650, 1660)
    assert not overlaps(1600, 1700, 1701, 1800)
    assert overlaps(1600, None, 1800, 1900)
    assert not overlaps(None, None, 1600, 1700)


def test_period_query_forms() -> None:
    assert parse_period_query("1600-1650") == (1600, 1650)
    assert parse_period_query("1600-") == (1600, None)
    assert parse_period_query("-1650") == (None, 1650)
    assert parse_period_query("1651") == (1651, 1651)
    assert parse_period_query("early edo") == (1603, 1688)
    assert parse_period_query("Genroku") == (1688, 1704)
    assert parse_period_query("江戸") == (1603, 1868)
    with pytest.raises(UsageError, match="^period 'soon': cannot read it"):
        parse_period_query("soon")
    with pytest.raises(UsageError, match="after the end"):
        parse_period_query("1700-1600")


def test_period_table_is_consistent() -> None:
    for period in period_table():
        assert period.start <= period.end, period
    names = [period.name for period in period_table()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("version", ["v1.0", "v1.1", "v1.2", "v1.3"])
def test_every_official_value_is_mapped(version: str) -> None:
    """Every distinct 制作年 value of the official files maps to a range or is unknown."""
    path = shared_path("data", "kaokore", "official", version, "original_tags.txt")
    raw_values: set[str] = set()
    for raw in path.read_text(encoding="utf-8").splitlines():
        for pair in raw.partition(":")[2].split(";"):
            key, _, value = pair.partition("=")
            if key == "制作年":
                raw_values.add(value)
    unmapped = sorted(value for value in raw_values if parse_period(value) is None)
    assert unmapped == [], f"制作年 values no table maps: {unmapped}"
    known = {value for value in raw_values if parse_period(value).known}  # type: ignore[union-attr]
    unknown = raw_values - known
    assert unknown <= {"", "不明", "不明 "}, unknown


def test_official_13_values_independently() -> None:
    """The 17 distinct values of 1.3 and the ranges a historian would give them."""
    path = shared_path("data", "kaokore", "official", "v1.3", "original_tags.txt")
    values = {v for line in parse_original_tags(path) for v in line.get("制作年")}
    expected = {
        "": (None, None), "不明": (None, None), "from 1500": (1500, None),
        "from 1600": (1600, None), "from 1688": (1688, None), "to 1600": (None, 1600),
        "to 1700": (None, 1700), "to 1704": (None, 1704), "1602": (1602, 1602),
        "1651": (1651, 1651), "慶長7": (1602, 1602), "慶安4": (1651, 1651),
        "元禄頃": (1688, 1704), "江戸前期": (1603, 1688), "江戸初期": (1603, 1669),
        "室町末期": (1514, 1573), "室町末近世初": (1514, 1647),
    }  # fmt: skip
    assert values == set(expected)
    for value, years in expected.items():
        parsed = parse_period(value)
        assert parsed is not None and (parsed.year_from, parsed.year_to) == years, value


def test_every_official_value_gets_its_range_and_century() -> None:
    """Every distinct 制作年 value of 1.0 to 1.3, alone and in the pairs the files use."""
    values: set[str] = set()
    for version in ("v1.0", "v1.1", "v1.2", "v1.3"):
        path = shared_path("data", "kaokore", "official", version, "original_tags.txt")
        values |= {v for line in parse_original_tags(path) for v in line.get("制作年")}
    centuries = {
        "": None, "不明": None, "from 1500": 16, "from 1600": 17, "from 1688": 17,
        "to 1600": 16, "to 1700": 17, "to 1704": 18, "1602": 17, "1651": 17, "慶長7": 17,
        "慶安4": 17, "元禄頃": 17, "江戸前期": 17, "江戸初期": 17, "室町末期": 16,
        "室町末近世初": 16,
    }  # fmt: skip
    assert values == set(centuries)
    for value, century in centuries.items():
        period = combine_periods([value])
        assert century_of(period.year_from, period.year_to) == century, value
    for pair, century in (
        (["from 1600", "to 1700", "江戸前期"], 17),
        (["from 1500", "to 1600"], 16),
        (["from 1688", "to 1704", "元禄頃"], 17),
        (["1651", "慶安4"], 17),
    ):
        period = combine_periods(pair)
        assert century_of(period.year_from, period.year_to) == century, pair
    assert century_label(17) == "17th century" and century_label(21) == "21st century"
