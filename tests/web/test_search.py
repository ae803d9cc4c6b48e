"""The faces page's result sets equal ``kaokore.query.face_ids`` for the same filters.

``kaokore.web.search.matching`` asks the query layer one filter value at a time and combines
the answers (AND across filters, OR within one, tags AND, the agent narrowing each); this
checks the combination against the query layer answering the whole filter at once, for
every pair of filter values of the hand-made database and the agent variants.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from starlette.datastructures import QueryParams

from kaokore import query
from kaokore.errors import UsageError
from kaokore.query.filters import FaceFilter
from kaokore.web import WebSettings, create_app
from kaokore.web import search as search_module
from kaokore.web.search import Search, matching
from tests.query.conftest import SmallDb
from tests.web.conftest import WebDb

VALUES = [
    ("status", "貴族"),
    ("status", "武士"),
    ("gender", "男"),
    ("gender", "女"),
    ("orientation", "横"),
    ("holder", "京都大学"),
    ("holder", "慶應義塾大学"),
    ("work", "絵巻甲"),
    ("record_id", "110X@1@1"),
    ("tag", "鬼"),
    ("tag", "少年"),
    ("text", "童子"),
    ("text", "warrior"),
    ("period", "1600-1650"),
    ("period", "江戸前期"),
    ("release", "1.0"),
    ("agent", "machine"),
    ("agent", "human"),
]


def _ids(web_db: WebDb, pairs: list[tuple[str, str]]) -> list[int]:
    context = web_db.client.app.state.kaokore  # type: ignore[attr-defined]
    search = Search.from_params(QueryParams(pairs), default_size=60, max_size=200)
    mask = matching(context.database, context.index, search)
    return [int(i) for i in context.index.get().ids[mask]]


def _keywords(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """URL parameters as FaceFilter keywords (the URL's ``release`` is ``in_release``)."""
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return {
        ("in_release" if k == "release" else k): (
            v
            if k in ("status", "gender", "orientation", "holder", "work", "record_id", "tag")
            else v[-1]
        )
        for k, v in out.items()
    }


@pytest.mark.parametrize("size", [1, 2, 3])
@pytest.mark.slow
def test_combinations_equal_the_query_layer(web_db: WebDb, size: int) -> None:
    checked = 0
    combos = list(itertools.combinations(VALUES, size))
    for combo in combos[:: 1 if size < 3 else 4]:  # every fourth triple: the same code paths
        names = [name for name, _ in combo]
        singles = ("text", "period", "release", "agent")
        if any(names.count(n) > 1 for n in singles):
            continue
        pairs = list(combo)
        try:
            expected = query.face_ids(web_db.small.database, where=FaceFilter(**_keywords(pairs)))
        except UsageError:
            continue
        assert _ids(web_db, pairs) == sorted(expected), pairs
        checked += 1
    assert checked > {1: 15, 2: 100, 3: 100}[size]


def test_several_values_of_one_filter_are_or(web_db: WebDb) -> None:
    pairs = [("status", "貴族"), ("status", "武士"), ("gender", "男")]
    assert _ids(web_db, pairs) == sorted(
        query.face_ids(
            web_db.small.database, where=FaceFilter(status=["貴族", "武士"], gender="男")
        )
    )


def test_without_a_facet_drops_only_that_facet(web_db: WebDb) -> None:
    context = web_db.client.app.state.kaokore  # type: ignore[attr-defined]
    search = Search.from_params(
        QueryParams([("status", "貴族"), ("gender", "女")]), default_size=60, max_size=200
    )
    without = matching(context.database, context.index, search, without="status")
    ids = context.index.get().ids[without]
    assert list(ids) == sorted(query.face_ids(web_db.small.database, where=FaceFilter(gender="女")))
    assert np.array_equal(
        matching(context.database, context.index, search, without="nothing"),
        matching(context.database, context.index, search),
    )


def test_warm_up_answers_the_first_page_values_ahead(
    small_db: SmallDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(WebSettings(database=small_db.database.settings, cache_seconds=3600))
    context = app.state.kaokore
    try:
        context.index.get()
        assert context.index.warming is not None
        context.index.warming.join(timeout=60)
        assert not context.index.warming.is_alive()

        def no_sql(*_args: object, **_kwargs: object) -> None:
            raise AssertionError("asked SQL for a value the warm-up computed")

        monkeypatch.setattr(search_module, "face_ids_select", no_sql)
        pairs = [("status", "貴族"), ("gender", "女"), ("period", "江戸前期")]
        found = Search.from_params(QueryParams(pairs), default_size=60, max_size=200)
        mask = matching(context.database, context.index, found)
        monkeypatch.undo()
        expected = query.face_ids(
            small_db.database, where=FaceFilter(status="貴族", gender="女", period="江戸前期")
        )
        assert list(context.index.get().ids[mask]) == sorted(expected)
    finally:
        context.database.close()
