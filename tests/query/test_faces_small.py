"""Every filter on the hand-made database (runs without ../shared)."""

from __future__ import annotations

import pytest

from kaokore.errors import UsageError
from kaokore.query import count_faces, face_ids, faces, history, stats
from kaokore.query.filters import FaceFilter
from tests.query.conftest import SmallDb


@pytest.mark.parametrize(
    ("filters", "names"),
    [
        ({}, {"a1", "a2", "a3", "b1", "b2", "solo"}),
        ({"work": "絵巻甲"}, {"a1", "a2", "a3"}),
        ({"work": ["絵巻乙", "草子丙"]}, {"b1", "b2", "solo"}),
        ({"holder": "Keio University"}, {"b1", "b2"}),
        ({"holder": "国文学研究資料館"}, {"solo"}),
        ({"record_id": "110X-1-1"}, {"b1", "b2"}),
        ({"record_id": "110X@1@1"}, {"b1", "b2"}),
        ({"record_id": " 10.20730/1"}, {"solo"}),
        ({"gender": "female"}, {"a2", "b2"}),
        ({"gender": ["男", "unknown"]}, {"a1", "a3", "b1", "solo"}),
        ({"status": "noble"}, {"a1", "a2"}),
        ({"status": "monk"}, {"solo"}),
        ({"orientation": "profile"}, {"a1", "b1", "solo"}),
        ({"tag": "鬼"}, {"a3", "b1"}),
        ({"tag": ["少年", "笛"]}, {"a1"}),
        ({"text": "乙"}, {"b1", "b2"}),
        ({"text": "WARRIOR"}, {"b1"}),
        ({"period": "1600-1650"}, {"a1", "a2", "b2"}),
        ({"period": "1651"}, {"a1", "a2", "b1"}),
        ({"period": "江戸中期"}, {"a1", "a2"}),
        ({"period": "-1550"}, {"b2"}),
        ({"agent": "machine"}, {"b1"}),
        ({"agent": "machine", "tag": "鬼"}, set()),
        ({"agent": "machine", "tag": "bot"}, {"b1"}),
        ({"agent": "human", "status": "warrior"}, {"b1"}),
        ({"in_release": "1.0"}, {"a1", "b1", "solo"}),
        ({"in_release": "built:1.0", "gender": "male"}, {"a1", "b1"}),
        ({"holder": "Kyoto University", "status": "noble", "orientation": "three-quarter"}, {"a2"}),
    ],
)
def test_filters(small_db: SmallDb, filters: dict, names: set[str]) -> None:
    expected = sorted(small_db.ids[name] for name in names)
    assert face_ids(small_db.database, where=FaceFilter(**filters)) == expected
    assert count_faces(small_db.database, where=FaceFilter(**filters)) == len(expected)


def test_retracted_labels_do_not_match(small_db: SmallDb) -> None:
    # a2 was a commoner before the correction; only a3 is one now
    assert face_ids(small_db.database, where=FaceFilter(status="commoner")) == [small_db.ids["a3"]]


def test_history_is_complete_and_ordered(small_db: SmallDb) -> None:
    rows = history(small_db.database, small_db.ids["a2"])
    status = [(row.value, row.current) for row in rows if row.label == "身分"]
    assert status == [("庶民", False), ("貴族", True)]
    assert all(row.document_kind == "curation" for row in rows)
    by_file = history(small_db.database, "00000001.jpg")  # b1's file name in release 1.0
    assert {row.value for row in by_file} >= {"武士", "bot"}
    with pytest.raises(UsageError, match="face 'nothing': no such face"):
        history(small_db.database, "nothing")


def test_rows(small_db: SmallDb) -> None:
    (b1,) = faces(small_db.database, where=FaceFilter(tag="bot"))
    assert b1.tags == ("bot", "鬼") or set(b1.tags) == {"bot", "鬼"}
    assert b1.agents == ("human", "machine")
    assert b1.record_id == "110X-1-1" and b1.manifest_url.endswith("book-b/manifest.json")
    assert (b1.period_from, b1.period_to) == (1651, 1651)
    assert b1.region == (300, 300, 90, 90) and b1.blob_path is not None
    (solo,) = faces(small_db.database, where=FaceFilter(status="monk"))
    assert solo.canvas_uri is None and solo.image_service == "https://img.example.org/iiif/c1"
    assert solo.period.raw == () and not solo.period.known


def test_stats_multi_valued_and_derived(small_db: SmallDb) -> None:
    tags = {row.values[0]: row.count for row in stats(small_db.database, by="tag").rows}
    assert tags == {"鬼": 2, "少年": 1, "笛": 1, "bot": 1, None: 3}
    agents = {row.values[0]: row.count for row in stats(small_db.database, by="agent").rows}
    assert agents == {"human": 6, "machine": 1}
    releases = {row.values[0]: row.count for row in stats(small_db.database, by="release").rows}
    assert releases == {"built:1.0": 3, None: 3}
    periods = {row.values[0]: row.count for row in stats(small_db.database, by="period").rows}
    assert periods == {"1600-1700": 1, "1603-1688": 1, "1651": 1, "1514-1647": 1, None: 2}
    with pytest.raises(UsageError, match="^by .*needs at least one column"):
        stats(small_db.database, by=" , ")


@pytest.mark.parametrize(
    "by", [["work", "status"], ["tag"], ["agent", "holder"], ["release"], ["record_id"]]
)
def test_sql_and_python_cross_tabulations_agree(small_db: SmallDb, by: list[str]) -> None:
    from kaokore.query.faces import _stats_python, _stats_sql
    from kaokore.query.names import label_key

    columns = [label_key(name) for name in by]
    with small_db.database.session() as session:
        assert _stats_sql(session, FaceFilter(), columns) == _stats_python(
            session, FaceFilter(), columns
        )
