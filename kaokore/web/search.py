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
from kaokore.query.filters import FaceFilter, face_ids_select, filter_fields, validate
from kaokore.query.names import english_value
from kaokore.vocab import japanese_value
from kaokore.web.index import FacetIndex, IndexCache

__all__ = [
    "FACETS",
    "FacetValue",
    "FacetView",
    "Search",
    "facet_views",
    "matching",
    "url_parameter",
]

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
    "agent": "Source of the labels",
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
#: Filters of a closed vocabulary whose English names the URL may use: name -> label.
_ENGLISH_KEYS: Final = {
    item.name: option.vocabulary for item, option in filter_fields() if option.vocabulary
}
#: Filters that take several values.
_MULTI: Final = tuple(item.name for item, option in filter_fields() if option.multiple)
#: URL parameters named otherwise than the FaceFilter field they set.
_URL_NAMES: Final = {"in_release": "release"}


def url_parameter(argument: str) -> str:
    """The URL parameter that sets the library argument ``argument`` (for error messages)."""
    return _URL_NAMES.get(argument, argument)


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

        given: dict[str, Any] = {}
        for item, _option in filter_fields():
            name = url_parameter(item.name)
            value = getattr(self, name)
            if value and name not in drop:
                given[item.name] = value
        return FaceFilter(**given)

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

    def is_selected(self, facet: str, value: str) -> bool:
        if facet in _MULTI:
            return value in tuple(getattr(self, facet))
        return str(getattr(self, "period" if facet == "century" else facet)) == value


# --- results ---------------------------------------------------------------------------------


def _atom(database: Database, cache: IndexCache, index: FacetIndex, **one: Any) -> np.ndarray:
    """The faces matching a filter of *one* value (plus the agent, if any): the query layer's
    own SQL (:func:`kaokore.query.filters.face_ids_select`), cached as a mask."""

    def compute() -> np.ndarray:
        with database.session() as session:
            ids = list(session.scalars(face_ids_select(session, FaceFilter(**one))))
        return index.mask_of(ids)

    return cache.result(("atom", tuple(sorted(one.items()))), compute)


def warm_up(database: Database, cache: IndexCache, index: FacetIndex) -> None:
    """Ask the query layer, ahead of time, for the filter values every faces page offers
    first (gender, status, orientation, holder, the periods and centuries), so that the
    first click on any two of them finds their answers ready. Stops when the index is
    replaced; errors only mean the answer will be computed when asked."""
    values: list[dict[str, Any]] = []
    for name in ("status", "gender", "orientation", "holder"):
        values += [{name: value} for value in index.columns[name].values]
    ranges = {p.name: (p.start, p.end) for p in period_table()}
    values += [{"period": ranges[name]} for name in PERIOD_NAMES if name in ranges]
    for label in _century_counts(index, np.ones(index.size, dtype=bool)):
        low, _, high = label.partition("-")
        values.append({"period": (int(low), int(high))})
    for one in values:
        if not cache.current(index):
            return
        try:
            _atom(database, cache, index, **one, agent=None)
        except Exception:  # noqa: BLE001 - a warm-up must never take the server down
            return


def matching(
    database: Database, cache: IndexCache, search: Search, without: str | None = None
) -> np.ndarray:
    """A mask over the index of the faces matching ``search`` (minus one facet).

    Which faces match each filter value is decided by the query layer in SQL, one value at a
    time, and cached; the values are then combined as :class:`kaokore.query.FaceFilter`
    documents it: different filters with AND, several values of one filter with OR, tags
    with AND. So a page with two facets asks SQL only for values not asked before, and the
    counts of every facet "without itself" cost no query at all. ``--agent`` narrows every
    label filter (a machine said X), so it is part of every value's query; alone it means
    "has a label from". Only ``crop`` (no library filter) is applied here directly.
    ``tests/web/test_search.py`` checks the result against ``kaokore.query.face_ids``.
    """
    index = cache.get()

    def compute() -> np.ndarray:
        face_filter = search.face_filter(without)
        mask = np.ones(index.size, dtype=bool)
        if not face_filter.empty:
            with database.session() as session:
                validate(session, face_filter)
            agent = face_filter.agent
            narrowed = False
            for name in ("work", "holder", "record_id", "gender", "status", "orientation"):
                values = getattr(face_filter, name)
                if values:
                    either = np.zeros(index.size, dtype=bool)
                    for value in values:
                        either |= _atom(database, cache, index, **{name: value}, agent=agent)
                    mask &= either
                    narrowed = True
            for tag in face_filter.tag:
                mask &= _atom(database, cache, index, tag=tag, agent=agent)
                narrowed = True
            if face_filter.text:
                mask &= _atom(database, cache, index, text=face_filter.text, agent=agent)
                narrowed = True
            if face_filter.years is not None:
                mask &= _atom(database, cache, index, period=face_filter.years, agent=agent)
                narrowed = True
            if face_filter.in_release:
                mask &= _atom(
                    database, cache, index, in_release=face_filter.in_release, agent=agent
                )
                narrowed = True
            if agent and not narrowed:
                mask &= _atom(database, cache, index, agent=agent)
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


class _Links:
    """Links that toggle one facet value, built from the search's URL-encoded parameters
    (encoded once: a page has hundreds of such links)."""

    def __init__(self, search: Search, path: str) -> None:
        self._path = path
        self._pairs = [(name, value, urlencode([(name, value)])) for name, value in search.params()]

    def toggled(self, facet: str, value: str) -> str:
        name = "period" if facet == "century" else facet
        own = urlencode([(name, value)])
        if name in _MULTI:
            present = any(n == name and v == value for n, v, _ in self._pairs)
            parts = [e for n, v, e in self._pairs if not (n == name and v == value)]
            if not present:
                parts.append(own)
        else:
            present = any(n == name and v == value for n, v, _ in self._pairs)
            parts = [e for n, _, e in self._pairs if n != name]
            if not present:
                parts.append(own)
        return f"{self._path}?{'&'.join(parts)}" if parts else self._path


def facet_views(
    database: Database, cache: IndexCache, search: Search, path: str = "/faces"
) -> list[FacetView]:
    """Every facet with the count each value would give under the other facets' filters."""
    index = cache.get()
    links = _Links(search, path)
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
                    url=links.toggled(name, value),
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
                        FacetValue(value, value, None, 0, True, links.toggled(name, value))
                    )
        views.append(FacetView(name=name, heading=heading, values=tuple(values)))
    return views


def page_ids(
    index: FacetIndex, mask: np.ndarray, search: Search, cache: IndexCache | None = None
) -> tuple[list[int], int]:
    """The face ids of the requested page (in face id order) and the total matching.

    With ``cache``, the ids of the whole result are kept, so walking its pages costs a
    slice each."""

    def ordered() -> np.ndarray:
        found: np.ndarray = index.ids[mask]
        return found

    ids = cache.result(("ids", search.filter_key()), ordered) if cache else ordered()
    start = (search.page - 1) * search.size
    return [int(i) for i in ids[start : start + search.size]], int(ids.shape[0])


def english_of(facet: str, value: str) -> str | None:
    """The English name of a value of ``facet`` (gender, status, orientation, holder)."""
    key = _ENGLISH_KEYS.get(facet)
    return english_value(key, value) if key else None


def describe(search: Search) -> str:
    """A one-line description of the filters, for page titles."""
    return search.face_filter().describe()
