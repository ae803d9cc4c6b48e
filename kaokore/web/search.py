"""The state of a faces page (filters, page, size) as URL parameters, and its results.

Why the URL holds everything: a link is then a shareable, bookmarkable query, and the
browser's back button restores the previous state without any script. The filters are
exactly those of ``kaokore query faces`` (:class:`kaokore.query.FaceFilter`), under the same
names, plus ``crop`` (has a stored crop or not), which only a browser of images needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Any, Final
from urllib.parse import urlencode

import numpy as np

from kaokore.db.session import Database
from kaokore.errors import UsageError
from kaokore.periods import period_table
from kaokore.query.filters import FaceFilter, face_ids_select, validate
from kaokore.query.names import english_value
from kaokore.vocab import japanese_value
from kaokore.web.index import FacetIndex, IndexCache

__all__ = ["FACETS", "FacetValue", "FacetView", "Search", "facet_views", "matching"]

#: Facets in the order the page shows them: URL parameter -> heading.
FACETS: Final[dict[str, str]] = {
    "gender": "Gender 性別",
    "status": "Status 身分",
    "orientation": "Orientation 向き",
    "period": "Period 時代",
    "century": "Century",
    "holder": "Holder 所蔵",
    "work": "Work 原典",
    "tag": "Tags タグ",
    "agent": "Labels from",
    "release": "Release",
    "crop": "Crop",
}
#: The main periods offered as facet values (any other period can be typed).
PERIOD_NAMES: Final = (
    "平安",
    "鎌倉",
    "南北朝",
    "室町",
    "安土桃山",
    "江戸前期",
    "江戸中期",
    "江戸後期",
)
_ENGLISH_KEYS: Final = {"gender": "性別", "status": "身分", "orientation": "向き", "holder": "所蔵"}
_MULTI: Final = ("work", "holder", "record_id", "gender", "status", "orientation", "tag")


def _clean(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in values if v and v.strip()))


@dataclass(frozen=True, kw_only=True)
class Search:
    """One faces query: filters as given in the URL (Japanese or English), page and size."""

    work: tuple[str, ...] = ()
    holder: tuple[str, ...] = ()
    record_id: tuple[str, ...] = ()
    gender: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    orientation: tuple[str, ...] = ()
    tag: tuple[str, ...] = ()
    text: str = ""
    period: str = ""
    agent: str = ""
    release: str = ""
    crop: str = ""
    page: int = 1
    size: int = 0
    #: The size a URL need not state.
    default_size: int = 0

    @classmethod
    def from_params(cls, params: Any, *, default_size: int, max_size: int) -> Search:
        """Read a Starlette ``QueryParams`` (or any mapping with ``getlist``)."""

        def one(name: str) -> str:
            values = params.getlist(name)
            return values[-1].strip() if values else ""

        def number(name: str, default: int, low: int, high: int) -> int:
            text = one(name)
            if not text:
                return default
            try:
                return max(low, min(high, int(text)))
            except ValueError as exc:
                raise UsageError(f"URL parameter {name}={text!r}: give a whole number") from exc

        crop = one("crop").lower()
        if crop not in ("", "yes", "no"):
            raise UsageError(f"URL parameter crop={crop!r}: use yes or no")
        values = {name: _clean(params.getlist(name)) for name in _MULTI}
        for name, key in _ENGLISH_KEYS.items():  # English names -> the Japanese values
            values[name] = _clean(japanese_value(key, value) for value in values[name])
        return cls(
            **values,
            text=one("text"),
            period=one("period"),
            agent=one("agent").lower(),
            release=one("release"),
            crop=crop,
            page=number("page", 1, 1, 10_000_000),
            size=number("size", default_size, 1, max_size),
            default_size=default_size,
        )

    def face_filter(self, without: str | None = None) -> FaceFilter:
        """The library filter of this search, optionally without one facet's values."""
        drop = {"period", "century"} if without in ("period", "century") else {without}

        def kept(name: str) -> tuple[str, ...]:
            return () if name in drop else tuple(getattr(self, name))

        return FaceFilter.build(
            work=kept("work"),
            holder=kept("holder"),
            record_id=kept("record_id"),
            gender=kept("gender"),
            status=kept("status"),
            orientation=kept("orientation"),
            tag=kept("tag"),
            text=self.text or None,
            period=None if "period" in drop or not self.period else self.period,
            agent=None if "agent" in drop or not self.agent else self.agent,
            release=None if "release" in drop or not self.release else self.release,
        )

    def filter_key(self, without: str | None = None) -> tuple[Any, ...]:
        """What the matching set depends on (not the page), for caching."""
        ignored = {"page", "size", "default_size"} | (
            {"period"} if without == "century" else {without}
        )
        return tuple((f.name, getattr(self, f.name)) for f in fields(self) if f.name not in ignored)

    @property
    def active(self) -> bool:
        return any(
            getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("page", "size", "default_size")
        )

    def params(self, **changes: Any) -> list[tuple[str, str]]:
        """This search as URL parameters (page 1 unless ``page`` is given), with ``changes``."""
        changed = replace(self, **{"page": 1, **changes})
        pairs: list[tuple[str, str]] = []
        for f in fields(changed):
            value = getattr(changed, f.name)
            if f.name == "default_size" or (f.name == "page" and value == 1):
                continue
            if isinstance(value, tuple):
                pairs.extend((f.name, item) for item in value)
            elif value and not (f.name == "size" and value == self.default_size):
                pairs.append((f.name, str(value)))
        return pairs

    def url(self, path: str = "/", **changes: Any) -> str:
        query = urlencode(self.params(**changes))
        return f"{path}?{query}" if query else path

    def toggled(self, facet: str, value: str) -> Search:
        """This search with ``value`` added to or removed from ``facet`` (page 1)."""
        changes: dict[str, Any] = {"page": 1}
        if facet in _MULTI:
            current: tuple[str, ...] = getattr(self, facet)
            new = tuple(v for v in current if v != value) if value in current else (*current, value)
            changes[facet] = new
        else:
            field_name = "period" if facet == "century" else facet
            changes[field_name] = "" if getattr(self, field_name) == value else value
        return replace(self, **changes)

    def is_selected(self, facet: str, value: str) -> bool:
        if facet in _MULTI:
            return value in tuple(getattr(self, facet))
        return str(getattr(self, "period" if facet == "century" else facet)) == value


# --- results ---------------------------------------------------------------------------------


def matching(
    database: Database, cache: IndexCache, search: Search, without: str | None = None
) -> np.ndarray:
    """A mask over the index of the faces matching ``search`` (minus one facet).

    Which faces match is decided by the query layer in SQL; only ``crop`` is applied here.
    """
    index = cache.get()

    def compute() -> np.ndarray:
        face_filter = search.face_filter(without)
        if face_filter.empty:
            mask = np.ones(index.size, dtype=bool)
        else:
            with database.session() as session:
                validate(session, face_filter)
                ids = list(session.scalars(face_ids_select(session, face_filter)))
            mask = index.mask_of(ids)
        if search.crop and without != "crop":
            mask &= index.has_crop if search.crop == "yes" else ~index.has_crop
        return mask

    return cache.result(search.filter_key(without), compute)


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet: what the URL says, what is shown, how many faces it gives."""

    value: str
    label: str
    english: str | None
    count: int
    selected: bool
    url: str


@dataclass(frozen=True)
class FacetView:
    """One facet: its URL name, heading and values (the most frequent first)."""

    name: str
    heading: str
    values: tuple[FacetValue, ...]

    @property
    def selected(self) -> tuple[FacetValue, ...]:
        return tuple(v for v in self.values if v.selected)


def _century_range(number: int) -> tuple[int, int]:
    return (number - 1) * 100 + 1, number * 100


def _ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix} century"


def _period_counts(index: FacetIndex, mask: np.ndarray) -> dict[str, tuple[str, int]]:
    ranges = {p.name: (p.start, p.end, p.english) for p in period_table()}
    out: dict[str, tuple[str, int]] = {}
    for name in PERIOD_NAMES:
        if name in ranges:
            start, end, english = ranges[name]
            out[name] = (english, int((mask & index.overlapping(start, end)).sum()))
    return out


def _century_counts(index: FacetIndex, mask: np.ndarray) -> dict[str, tuple[str, int]]:
    known = np.concatenate(
        [index.year_from[~np.isnan(index.year_from)], index.year_to[~np.isnan(index.year_to)]]
    )
    if known.size == 0:
        return {}
    first = int((known.min() - 1) // 100 + 1)
    last = int((known.max() - 1) // 100 + 1)
    out: dict[str, tuple[str, int]] = {}
    for number in range(first, last + 1):
        low, high = _century_range(number)
        out[f"{low}-{high}"] = (_ordinal(number), int((mask & index.overlapping(low, high)).sum()))
    return out


def facet_views(
    database: Database, cache: IndexCache, search: Search, path: str = "/faces"
) -> list[FacetView]:
    """Every facet with the count each value would give under the other facets' filters."""
    index = cache.get()
    full = matching(database, cache, search)
    views: list[FacetView] = []
    for name, heading in FACETS.items():
        active = (
            bool(search.period) if name in ("period", "century") else bool(getattr(search, name))
        )
        mask = matching(database, cache, search, without=name) if active else full
        entries: list[tuple[str, str, str | None, int]] = []
        if name in ("period", "century"):
            counted = (
                _period_counts(index, mask) if name == "period" else _century_counts(index, mask)
            )
            entries = [(value, value, english, n) for value, (english, n) in counted.items()]
        elif name == "crop":
            entries = [
                ("yes", "has a crop", None, int((mask & index.has_crop).sum())),
                ("no", "no crop yet", None, int((mask & ~index.has_crop).sum())),
            ]
        else:
            counts = index.columns[name].counts(mask)
            key = _ENGLISH_KEYS.get(name)
            entries = [
                (value, value, english_value(key, value) if key else None, n)
                for value, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            ]
        values = []
        for value, label, english, count in entries:
            selected = search.is_selected(name, value)
            if count == 0 and not selected:
                continue
            values.append(
                FacetValue(
                    value=value,
                    label=label,
                    english=english,
                    count=count,
                    selected=selected,
                    url=search.toggled(name, value).url(path),
                )
            )
        # A selected value that no face has any more is still shown, so it can be unselected.
        if name not in ("period", "century", "crop"):
            shown = {v.value for v in values}
            for value in (
                getattr(search, name)
                if isinstance(getattr(search, name), tuple)
                else ((getattr(search, name),) if getattr(search, name) else ())
            ):
                if value not in shown:
                    values.append(
                        FacetValue(
                            value, value, None, 0, True, search.toggled(name, value).url(path)
                        )
                    )
        views.append(FacetView(name=name, heading=heading, values=tuple(values)))
    return views


def page_ids(index: FacetIndex, mask: np.ndarray, search: Search) -> tuple[list[int], int]:
    """The face ids of the requested page (in face id order) and the total matching."""
    ids = index.ids[mask]
    start = (search.page - 1) * search.size
    return [int(i) for i in ids[start : start + search.size]], int(ids.shape[0])


def english_of(facet: str, value: str) -> str | None:
    """The English name of a value of ``facet`` (gender, status, orientation, holder)."""
    key = _ENGLISH_KEYS.get(facet)
    return english_value(key, value) if key else None


def describe(search: Search) -> str:
    """A one-line description of the filters, for page titles."""
    return search.face_filter().describe()
