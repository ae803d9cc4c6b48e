"""Dates of the faces: 制作年 values read as year ranges, from documented tables.

Why: the experts date a work in many ways at once (``from 1600``, ``to 1700``, ``江戸前期``,
``1651`` and ``慶安4``, ``室町末近世初``, ``元禄頃``, ``不明``). A historian asking for faces of
1600-1650 needs one comparable range per face, and needs to see the words it came from, so
every range keeps its raw value, and every rule is in a table a reader can check:

* ``eras.csv``: every era name (年号) from 大化 (645) to 大正 (1912), with the Western year of
  its first year; an era ends in the year its successor starts. ``慶安4`` is 1648 + 4 - 1.
* ``periods.csv``: periods (飛鳥 ... 明治) and the conventional sub-periods (江戸前期 ...).
  Parts a table does not list are fractions of the period: 初/初期/初頭 the first quarter,
  前期/中期/後期 thirds, 前半/後半 halves, 末/末期 the last quarter. ``A末B初`` (and ``A～B``)
  runs from the start of the first part to the end of the second; a bare part after ``～``
  takes the period before it (``江戸前期～中期`` is 江戸前期 to 江戸中期).

Centuries are counted as art historians write them, by round hundreds: the 17th century
(17世紀) is 1600-1700, so ``17世紀前半`` is 1600-1650, and ``from 1600`` + ``to 1700`` *is*
the 17th century. A range's century (:func:`century_of`) is the one holding its middle
year; an open range takes the century its known end lies in (``from 1600``: 17th; ``to
1700``: 17th, a round end closing the century before it).

A face's values combine so that the experts' explicit years win: the start is the earliest
``from N``/``N``/``N-M`` value if there is one, else the earliest start of a named period or
era; the end likewise with ``to N``. So ``from 1600`` + ``to 1700`` + ``江戸前期`` is
1600-1700, and ``江戸前期`` alone is 1603-1688. Unknown markers (不明, empty) add nothing.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final, Literal

from kaokore.errors import ArgumentError

__all__ = [
    "Era",
    "FacePeriod",
    "Period",
    "PeriodKind",
    "YearRange",
    "century_label",
    "century_of",
    "combine_periods",
    "era_table",
    "overlaps",
    "parse_period",
    "parse_period_query",
    "period_table",
]

PeriodKind = Literal[
    "from", "to", "year", "span", "era", "era-year", "period", "century", "unknown"
]
#: Kinds that carry the experts' own years: they win over named periods when combining.
PRECISE_KINDS: Final[frozenset[str]] = frozenset({"from", "to", "year", "span"})
#: Values that say the date is not known.
UNKNOWN_MARKERS: Final[frozenset[str]] = frozenset(
    {"", "不明", "未詳", "不詳", "unknown", "?", "？", "-", "—", "n/a", "na"}
)
#: The earliest and latest year a bare number is read as (outside: not a year).
MIN_YEAR: Final = 500
MAX_YEAR: Final = 2100

#: Fractions of a period meant by a part suffix, longest suffixes first.
PART_FRACTIONS: Final[tuple[tuple[str, float, float], ...]] = (
    ("初頭", 0.0, 0.25),
    ("初期", 0.0, 0.25),
    ("前期", 0.0, 1 / 3),
    ("中期", 1 / 3, 2 / 3),
    ("中頃", 1 / 3, 2 / 3),
    ("中葉", 1 / 3, 2 / 3),
    ("後期", 2 / 3, 1.0),
    ("前半", 0.0, 0.5),
    ("後半", 0.5, 1.0),
    ("末期", 0.75, 1.0),
    ("初", 0.0, 0.25),
    ("末", 0.75, 1.0),
)
#: Suffixes that only soften a date (circa) and are dropped before reading it.
_CIRCA_SUFFIXES: Final[tuple[str, ...]] = ("年頃", "頃", "ごろ", "年間", "時代", "年代", "?", "？")
_CIRCA_PREFIXES: Final[tuple[str, ...]] = ("約", "ca.", "c.", "circa ")
_SEPARATORS: Final = "～〜~-－–—・、から"
_KANJI_DIGITS: Final[dict[str, int]] = {
    "〇": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Era:
    """An era name and its years; ``court`` is ``north``/``south`` for 1331-1392, else None."""

    name: str
    reading: str
    start: int
    end: int
    court: str | None

    @property
    def length(self) -> int:
        """How many era years there are (the first and the last year both count)."""
        return self.end - self.start + 1


@dataclass(frozen=True, kw_only=True, slots=True)
class Period:
    """A historical period or sub-period of ``periods.csv``."""

    name: str
    english: str
    start: int
    end: int
    note: str


@dataclass(frozen=True, kw_only=True, slots=True)
class YearRange:
    """One 制作年 value read as years; a None end is open (``from 1600`` has no end)."""

    raw: str
    year_from: int | None
    year_to: int | None
    kind: PeriodKind

    @property
    def precise(self) -> bool:
        """Whether the value states years itself (``from N``, ``to N``, ``N``, ``N-M``)."""
        return self.kind in PRECISE_KINDS

    @property
    def known(self) -> bool:
        """Whether the value says anything about when (不明 and empty do not)."""
        return self.year_from is not None or self.year_to is not None


@dataclass(frozen=True, kw_only=True, slots=True)
class FacePeriod:
    """A face's combined date: its raw values, the range, and values no table could read."""

    raw: tuple[str, ...]
    year_from: int | None
    year_to: int | None
    unmapped: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        return self.year_from is not None or self.year_to is not None

    @property
    def label(self) -> str | None:
        """The range as text (``1600-1700``, ``1600-``, ``-1700``), None when unknown."""
        if not self.known:
            return None
        start = "" if self.year_from is None else str(self.year_from)
        end = "" if self.year_to is None else str(self.year_to)
        return start if start == end else f"{start}-{end}"


# --- the tables ---------------------------------------------------------------------------


def _read_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("kaokore.periods").joinpath(name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


@cache
def era_table() -> tuple[Era, ...]:
    """Every era of ``eras.csv`` in order, with end years derived where the file gives none.

    An era ends in the year the next era of its line starts: for an era of one court the
    next era of that court (or of the reunited line), for the others the next era at all.
    """
    rows = _read_csv("eras.csv")
    starts = [(row["name"], int(row["start"]), row["court"] or None) for row in rows]
    eras: list[Era] = []
    for index, row in enumerate(rows):
        name, start, court = starts[index]
        if row["end"]:
            end = int(row["end"])
        else:
            successors = [
                s
                for _n, s, c in starts[index + 1 :]
                if s >= start and (court is None or c in (None, court))
            ]
            if not successors:
                raise ValueError(f"eras.csv: era {name} has no successor and no end year")
            end = successors[0]
        eras.append(Era(name=name, reading=row["reading"], start=start, end=end, court=court))
    return tuple(eras)


@cache
def period_table() -> tuple[Period, ...]:
    """Every period and sub-period of ``periods.csv``."""
    return tuple(
        Period(
            name=row["name"],
            english=row["english"],
            start=int(row["start"]),
            end=int(row["end"]),
            note=row["note"],
        )
        for row in _read_csv("periods.csv")
    )


@cache
def _names() -> dict[str, tuple[int, int, PeriodKind]]:
    """Every name of a period (with and without 時代) or era, and its range."""
    names: dict[str, tuple[int, int, PeriodKind]] = {}
    for era in era_table():
        names.setdefault(era.name, (era.start, era.end, "era"))
    for period in period_table():  # periods win over eras of the same name (same range)
        names[period.name] = (period.start, period.end, "period")
    return names


@cache
def _english_names() -> dict[str, tuple[int, int]]:
    """English names of periods and readings of eras, lower-cased, for query input."""
    names: dict[str, tuple[int, int]] = {}
    for era in era_table():
        names.setdefault(_fold(era.reading), (era.start, era.end))
    for period in period_table():
        names[_fold(period.english)] = (period.start, period.end)
    return names


def _fold(text: str) -> str:
    """Lower case without macrons, apostrophes or hyphens: ``Kan'ei`` -> ``kanei``."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if ch.isalnum() or ch == " ").strip()


# --- reading one value --------------------------------------------------------------------


def _normalise(value: str) -> str:
    text = unicodedata.normalize("NFKC", value).strip()
    text = re.sub(r"\s+", " ", text)
    return text


def _strip_circa(text: str) -> str:
    changed = True
    while changed and text:
        changed = False
        for prefix in _CIRCA_PREFIXES:
            if text.lower().startswith(prefix):
                text, changed = text[len(prefix) :].strip(), True
        for suffix in _CIRCA_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text, changed = text[: -len(suffix)].strip(), True
    return text


def _kanji_number(text: str) -> int | None:
    """Read 元, arabic digits or kanji numerals up to 99 (四, 十二, 二十三)."""
    if text == "元":
        return 1
    if text.isdigit():
        return int(text)
    if not text or any(ch not in _KANJI_DIGITS and ch != "十" for ch in text):
        return None
    if "十" in text:
        tens, _, units = text.partition("十")
        tens_value = _KANJI_DIGITS[tens] if tens else 1
        units_value = _KANJI_DIGITS[units] if units else 0
        if len(tens) > 1 or len(units) > 1:
            return None
        return tens_value * 10 + units_value
    if len(text) == 1:
        return _KANJI_DIGITS[text]
    return None


def _year(text: str) -> int | None:
    if text.isdigit() and len(text) in (3, 4):
        year = int(text)
        if MIN_YEAR <= year <= MAX_YEAR:
            return year
    return None


def _part(start: int, end: int, low: float, high: float) -> tuple[int, int]:
    length = end - start
    return start + round(length * low), start + round(length * high)


def _named(text: str) -> tuple[int, int, PeriodKind] | None:
    """A period, sub-period, era, era year or century, possibly with a part suffix."""
    names = _names()
    text = _strip_circa(text)
    if text in names:
        return names[text]
    # era year: 慶安4, 慶安4年, 慶安元年, 慶安四年
    match = re.fullmatch(r"(?P<era>.+?)(?P<n>\d{1,2}|元|[〇一二三四五六七八九十]{1,3})年?", text)
    if match and match["era"] in names:
        era = next((e for e in era_table() if e.name == match["era"]), None)
        number = _kanji_number(match["n"])
        if era is not None and number is not None and 1 <= number <= era.length:
            year = era.start + number - 1
            return year, year, "era-year"
    # century: 17世紀, 十七世紀前半
    match = re.fullmatch(r"(?P<c>\d{1,2}|[一二三四五六七八九十]{1,3})世紀(?P<part>.*)", text)
    if match:
        century = _kanji_number(match["c"])
        if century is not None and 6 <= century <= 21:
            start, end = (century - 1) * 100, century * 100
            if not match["part"]:
                return start, end, "century"
            for suffix, low, high in PART_FRACTIONS:
                if match["part"] == suffix:
                    a, b = _part(start, end, low, high)
                    return a, b, "century"
    # part of a named period or era: 室町末, 江戸初期, 元禄末
    for suffix, low, high in PART_FRACTIONS:
        if text.endswith(suffix) and len(text) > len(suffix):
            base = text[: -len(suffix)]
            if base.endswith("時代"):
                base = base[: -len("時代")]
            if base in names:
                start, end, kind = names[base]
                a, b = _part(start, end, low, high)
                return a, b, "period" if kind == "period" else "era"
    return None


def _precise(text: str) -> tuple[int | None, int | None, PeriodKind] | None:
    """``from N``, ``to N``, ``N``, ``N年``, ``N-M`` and ``from N to M``."""
    lowered = text.lower()
    match = re.fullmatch(r"(from|after|以降)\s*(\d{3,4})", lowered) or re.fullmatch(
        r"(\d{3,4})\s*年?\s*(以降|以後|から)", lowered
    )
    if match:
        number = match[2] if match[1] in ("from", "after", "以降") else match[1]
        year = _year(number)
        return (year, None, "from") if year is not None else None
    match = re.fullmatch(r"(to|until|before)\s*(\d{3,4})", lowered) or re.fullmatch(
        r"(\d{3,4})\s*年?\s*(以前|まで)", lowered
    )
    if match:
        number = match[2] if match[1] in ("to", "until", "before") else match[1]
        year = _year(number)
        return (None, year, "to") if year is not None else None
    match = re.fullmatch(r"(\d{3,4})\s*年?", lowered)
    if match:
        year = _year(match[1])
        return (year, year, "year") if year is not None else None
    match = re.fullmatch(
        r"(?:from\s*)?(\d{3,4})\s*年?\s*(?:-|–|—|～|〜|~|to|から)\s*(\d{3,4})\s*年?", lowered
    )
    if match:
        first, last = _year(match[1]), _year(match[2])
        if first is not None and last is not None and first <= last:
            return first, last, "span"
    return None


def parse_period(value: str) -> YearRange | None:
    """Read one 制作年 value; None when no rule or table entry can read it.

    Unknown markers (不明, empty) come back as a ``YearRange`` of kind ``unknown`` with no
    years: they are read, and they say the date is unknown.
    """
    text = _normalise(value)
    if text.lower() in UNKNOWN_MARKERS:
        return YearRange(raw=value, year_from=None, year_to=None, kind="unknown")
    precise = _precise(_strip_circa(text) if not text.lower().startswith(("from", "to")) else text)
    if precise is not None:
        return YearRange(raw=value, year_from=precise[0], year_to=precise[1], kind=precise[2])
    named = _named(text)
    if named is not None:
        return YearRange(raw=value, year_from=named[0], year_to=named[1], kind=named[2])
    # two named parts: 室町末近世初, 室町末～江戸初期, 鎌倉・南北朝
    for cut in range(1, len(text)):
        left = text[:cut].rstrip(_SEPARATORS + " ")
        right = text[cut:].lstrip(_SEPARATORS + " ")
        if not left or not right:
            continue
        first, last = _named(left), _named(right) or _inherit_base(left, right)
        if first is not None and last is not None and first[0] <= last[1]:
            return YearRange(raw=value, year_from=first[0], year_to=last[1], kind="period")
    return None


def _inherit_base(left: str, right: str) -> tuple[int, int, PeriodKind] | None:
    """A bare part (``中期``) after ``～`` read on the period of the left side (江戸前期)."""
    if not any(right == suffix for suffix, _low, _high in PART_FRACTIONS):
        return None
    for suffix, _low, _high in PART_FRACTIONS:
        if left.endswith(suffix) and len(left) > len(suffix):
            return _named(left[: -len(suffix)] + right)
    return None


def century_of(year_from: int | None, year_to: int | None) -> int | None:
    """The century of a range, counted by round hundreds (the 17th century is 1600-1700).

    The century that holds the middle year; ``from N`` alone: N's; ``to N`` alone: N - 1's
    (``to 1700`` closes the 17th century). None when neither end is known.
    """
    if year_from is not None and year_to is not None:
        middle = (year_from + year_to) // 2
    elif year_from is not None:
        middle = year_from
    elif year_to is not None:
        middle = year_to - 1
    else:
        return None
    return middle // 100 + 1


def century_label(number: int) -> str:
    """``17`` -> ``17th century``."""
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix} century"


def combine_periods(values: Iterable[str]) -> FacePeriod:
    """Combine a face's 制作年 values into one range (explicit years win; see the module)."""
    raw = tuple(values)
    parsed = [(value, parse_period(value)) for value in raw]
    unmapped = tuple(value for value, result in parsed if result is None)
    read = [result for _value, result in parsed if result is not None and result.known]
    precise = [r for r in read if r.precise]
    named = [r for r in read if not r.precise]

    def pick_from(ranges: list[YearRange]) -> int | None:
        years = [r.year_from for r in ranges if r.year_from is not None]
        return min(years) if years else None

    def pick_to(ranges: list[YearRange]) -> int | None:
        years = [r.year_to for r in ranges if r.year_to is not None]
        return max(years) if years else None

    year_from = pick_from(precise)
    if year_from is None:
        year_from = pick_from(named)
    year_to = pick_to(precise)
    if year_to is None:
        year_to = pick_to(named)
    return FacePeriod(
        raw=tuple(v for v in raw if _normalise(v)),
        year_from=year_from,
        year_to=year_to,
        unmapped=unmapped,
    )


def overlaps(year_from: int | None, year_to: int | None, low: int | None, high: int | None) -> bool:
    """Whether a face's range meets the query range; open ends reach as far as needed.

    A face with no date at all never matches: "unknown" is not "any time".
    """
    if year_from is None and year_to is None:
        return False
    if high is not None and year_from is not None and year_from > high:
        return False
    return not (low is not None and year_to is not None and year_to < low)


def parse_period_query(text: str) -> tuple[int | None, int | None]:
    """Read a ``--period`` argument: ``1600-1650``, ``1600``, ``1600-``, ``-1650``, a period
    or era name in Japanese (江戸前期, 元禄) or English (``early edo``, ``genroku``).

    Raises :class:`~kaokore.errors.ArgumentError` (argument ``period``) with the accepted
    forms when it cannot be read.
    """
    given = _normalise(text)
    match = re.fullmatch(r"(\d{3,4})?\s*(?:-|–|～|〜|~|\.\.)\s*(\d{3,4})?", given)
    if match and (match[1] or match[2]):
        low = int(match[1]) if match[1] else None
        high = int(match[2]) if match[2] else None
        if low is not None and high is not None and low > high:
            raise ArgumentError("period", text, f"the start year {low} is after the end {high}")
        return low, high
    english = _english_names().get(_fold(given))
    if english is not None:
        return english
    parsed = parse_period(given)
    if parsed is not None and parsed.known:
        return parsed.year_from, parsed.year_to
    raise ArgumentError(
        "period",
        text,
        "cannot read it. Use years (1600-1650, 1600, 1600-, -1650), a period or era name "
        "(江戸前期, 元禄, 'early edo', genroku) or a value such as 慶安4.",
    )
