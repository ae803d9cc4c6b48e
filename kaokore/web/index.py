"""An in-memory facet index: every face's facet values, for counts in microseconds.

Why: a faceted page shows, for each of about ten facets, how many faces each value would
give. Asking SQL ten grouped questions per page costs a second on 100,000 faces; asking it
once per facet value is worse. So the values of each face are read once, *through the
query layer's own per-face functions* (the same rule for "current" labels as ``kaokore
query stats``), and kept as NumPy arrays. Which faces match a filter is still decided by
SQL (:func:`kaokore.query.filters.face_ids_select`); the index only counts within that set.

The index is rebuilt when the database changed: a cheap fingerprint (largest ids, counts of
retracted labels, deleted faces, stored crops and releases) is compared at most every
``cache_seconds``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kaokore.db.models import Annotation, Face, Release
from kaokore.db.session import Database
from kaokore.periods import FacePeriod, combine_periods
from kaokore.query.faces import _column_values, _label_values

__all__ = ["FacetColumn", "FacetIndex", "IndexCache", "fingerprint"]

T = TypeVar("T")
R = TypeVar("R")

#: Cached results per index (masks of one byte per face: about 50 MB at 100,000 faces).
CACHED = 512
#: Loaded face rows kept per index (a few kB each).
CACHED_ROWS = 20_000

#: Facets whose values come from one stats column of the query layer.
COLUMNS: dict[str, str] = {
    "gender": "性別",
    "status": "身分",
    "orientation": "向き",
    "holder": "holder",
    "work": "work",
    "tag": "タグ",
    "agent": "agent",
    "release": "release",
}


@dataclass(frozen=True)
class FacetColumn:
    """(face position, value code) pairs of one facet; a face may have several values."""

    values: tuple[str, ...]
    positions: np.ndarray
    codes: np.ndarray

    def counts(self, mask: np.ndarray) -> dict[str, int]:
        """How many faces under ``mask`` have each value (values with none left out)."""
        if not len(self.values):
            return {}
        selected = self.codes[mask[self.positions]]
        totals = np.bincount(selected, minlength=len(self.values))
        return {self.values[i]: int(n) for i, n in enumerate(totals) if n}


@dataclass(frozen=True)
class FacetIndex:
    """The facet values of every face that is not deleted, by position in ``ids``."""

    token: tuple[Any, ...]
    ids: np.ndarray
    columns: dict[str, FacetColumn]
    year_from: np.ndarray
    year_to: np.ndarray
    has_crop: np.ndarray
    #: ``works.id`` of each face (-1 for none).
    work_ids: np.ndarray

    @property
    def size(self) -> int:
        return int(self.ids.shape[0])

    def mask_of(self, face_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """A boolean mask over ``ids`` of the given face ids (unknown ids are ignored)."""
        mask = np.zeros(self.size, dtype=bool)
        wanted = np.asarray(face_ids, dtype=np.int64)
        if wanted.size == 0 or self.size == 0:
            return mask
        where = np.searchsorted(self.ids, wanted)
        where = np.clip(where, 0, self.size - 1)
        found = self.ids[where] == wanted
        mask[where[found]] = True
        return mask

    def overlapping(self, low: int | None, high: int | None) -> np.ndarray:
        """Faces whose date range overlaps ``[low, high]``, as :func:`kaokore.periods.overlaps`
        decides (open ends reach as far as needed; undated faces never match)."""
        keep: np.ndarray = ~(np.isnan(self.year_from) & np.isnan(self.year_to))
        if high is not None:
            keep &= np.isnan(self.year_from) | (self.year_from <= high)
        if low is not None:
            keep &= np.isnan(self.year_to) | (self.year_to >= low)
        return keep


def fingerprint(session: Session) -> tuple[Any, ...]:
    """Cheap numbers that change whenever labels, faces, crops or releases change."""
    annotations = session.execute(select(func.max(Annotation.id), func.count(Annotation.id))).one()
    retracted = session.scalar(
        select(func.count()).select_from(Annotation).where(Annotation.retracted_at.is_not(None))
    )
    faces = session.execute(
        select(func.max(Face.id), func.count(Face.id), func.count(Face.blob_sha256))
    ).one()
    deleted = session.scalar(select(func.count()).select_from(Face).where(Face.deleted.is_(True)))
    releases = session.execute(select(func.max(Release.id), func.count(Release.id))).one()
    return (*annotations, retracted, *faces, deleted, *releases)


def _column(session: Session, ids: list[int], name: str) -> FacetColumn:
    per_face = _column_values(session, ids, COLUMNS[name])
    values: dict[str, int] = {}
    positions: list[int] = []
    codes: list[int] = []
    for position, face_id in enumerate(ids):
        for value in per_face.get(face_id, ()):
            if value is None or value == "":
                continue
            code = values.setdefault(value, len(values))
            positions.append(position)
            codes.append(code)
    return FacetColumn(
        values=tuple(values),
        positions=np.asarray(positions, dtype=np.int64),
        codes=np.asarray(codes, dtype=np.int64),
    )


def build_index(session: Session) -> FacetIndex:
    """Read every face's facet values (one pass per facet) into a :class:`FacetIndex`."""
    token = fingerprint(session)
    ids = list(session.scalars(select(Face.id).where(Face.deleted.is_(False)).order_by(Face.id)))
    columns = {name: _column(session, ids, name) for name in COLUMNS}
    raw = _label_values(session, ids, ["制作年"])
    combined: dict[tuple[str, ...], FacePeriod] = {}
    year_from = np.full(len(ids), np.nan)
    year_to = np.full(len(ids), np.nan)
    for position, face_id in enumerate(ids):
        values = tuple(dict.fromkeys(raw.get(face_id, ())))
        period = combined.get(values)
        if period is None:
            period = combined[values] = combine_periods(values)
        if period.year_from is not None:
            year_from[position] = period.year_from
        if period.year_to is not None:
            year_to[position] = period.year_to
    with_crop = set(
        session.scalars(
            select(Face.id).where(Face.deleted.is_(False), Face.blob_sha256.is_not(None))
        )
    )
    has_crop = np.fromiter((face_id in with_crop for face_id in ids), dtype=bool, count=len(ids))
    work_of: dict[int, int | None] = {
        face_id: work_id
        for face_id, work_id in session.execute(
            select(Face.id, Face.work_id).where(Face.deleted.is_(False))
        )
    }
    work_ids = np.fromiter(
        (work_of.get(face_id) or -1 for face_id in ids), dtype=np.int64, count=len(ids)
    )
    return FacetIndex(
        token=token,
        ids=np.asarray(ids, dtype=np.int64),
        columns=columns,
        year_from=year_from,
        year_to=year_to,
        has_crop=has_crop,
        work_ids=work_ids,
    )


class IndexCache:
    """The current :class:`FacetIndex` of a database, and small per-index result caches.

    Thread-safe: FastAPI runs page handlers in a thread pool.
    """

    def __init__(
        self, database: Database, *, ttl: float, clock: Callable[[], float] = time.monotonic
    ):
        self._database = database
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._index: FacetIndex | None = None
        self._checked = 0.0
        self._results: OrderedDict[Any, Any] = OrderedDict()
        self._rows: OrderedDict[int, Any] = OrderedDict()
        self._fragments: OrderedDict[Any, str] = OrderedDict()
        #: Called (in a background thread) with each newly built index: to compute, before
        #: anyone asks, what the first pages will need.
        self.on_build: Callable[[FacetIndex], None] | None = None
        self.warming: threading.Thread | None = None

    def current(self, index: FacetIndex) -> bool:
        """Whether ``index`` is still the one in use (a warm-up stops when it is not)."""
        return self._index is index

    def get(self) -> FacetIndex:
        """The index, rebuilt if the database changed since it was built."""
        with self._lock:
            now = self._clock()
            if self._index is not None and now - self._checked < self._ttl:
                return self._index
            with self._database.session() as session:
                token = fingerprint(session)
                built = self._index is None or self._index.token != token
                if built:
                    self._index = build_index(session)
                    self._results = OrderedDict()
                    self._rows = OrderedDict()
                    self._fragments = OrderedDict()
            self._checked = now
            index = self._index
        assert index is not None
        if built and self.on_build is not None:
            self.warming = threading.Thread(target=self.on_build, args=(index,), daemon=True)
            self.warming.start()
        return index

    def result(self, key: Any, compute: Callable[[], T]) -> T:
        """A cached value (a mask, a table, rows) for ``key`` under the current index: the
        :data:`CACHED` most recently used are kept, and all are dropped when the database
        changes."""
        index = self.get()
        cache_key = (index.token, key)
        with self._lock:
            found = self._results.get(cache_key)
            if found is not None:
                self._results.move_to_end(cache_key)
                return found  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            while len(self._results) >= CACHED:
                self._results.popitem(last=False)
            self._results[cache_key] = value
        return value

    def rows(self, ids: Sequence[int], load: Callable[[list[int]], Sequence[R]]) -> list[R]:
        """Rows of ``ids`` in order, loading (with ``load``) only those not kept yet.

        Rows of the faces being browsed are read again and again (the grid, the API's pages,
        the board); they only change when the database does, which drops them.
        """
        self.get()
        with self._lock:
            kept = {face_id: self._rows[face_id] for face_id in ids if face_id in self._rows}
            for face_id in kept:
                self._rows.move_to_end(face_id)
        missing = [face_id for face_id in ids if face_id not in kept]
        if missing:
            loaded = {row.face_id: row for row in load(missing)}  # type: ignore[attr-defined]
            with self._lock:
                for face_id, row in loaded.items():
                    self._rows[face_id] = row
                while len(self._rows) > CACHED_ROWS:
                    self._rows.popitem(last=False)
            kept.update(loaded)
        return [kept[face_id] for face_id in ids if face_id in kept]

    def fragment(self, key: Any, compute: Callable[[], str]) -> str:
        """A piece of an answer (one face's JSON, say) kept like the rows it comes from."""
        with self._lock:
            found = self._fragments.get(key)
            if found is not None:
                self._fragments.move_to_end(key)
                return found
        value = compute()
        with self._lock:
            self._fragments[key] = value
            while len(self._fragments) > CACHED_ROWS:
                self._fragments.popitem(last=False)
        return value
