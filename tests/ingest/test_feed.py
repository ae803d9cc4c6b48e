"""Change feeds: JSONkeeper's Collection/CollectionPage and IIIF Change Discovery 1.0."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from kaokore.errors import DocumentError
from kaokore.ingest.feed import newest_per_object, next_page, parse_feed_page, walk_start
from kaokore.ingest.records import Activity, FeedPage

AS_BASE = "https://illdepence.github.io/curationactivity/as/"
OLD_PAGE = AS_BASE + "page-44411e87-2e2a-4bc6-b78e-67d3f8292e7f.json"
NEW_PAGE = AS_BASE + "page-80bd04ac-f4a5-48a9-874d-45cbe711dd45.json"
CURATION1 = "https://illdepence.github.io/curationactivity/iiif/curation1.json"
CURATION2 = "https://illdepence.github.io/curationactivity/iiif/curation2.json"
DISCOVERY = "http://iiif.io/api/discovery/1/context.json"


def load(fixtures_dir: Path, name: str) -> dict[str, Any]:
    with (fixtures_dir / "curation-activity" / name).open(encoding="utf-8") as handle:
        return json.load(handle)  # type: ignore[no-any-return]


def jsonkeeper_feed(fixtures_dir: Path) -> dict[str, dict[str, Any]]:
    """The sample feed by URL, as a harvester would fetch it."""
    return {
        AS_BASE + "collection.json": load(fixtures_dir, "as__collection.json"),
        OLD_PAGE: load(fixtures_dir, "as__page-44411e87-2e2a-4bc6-b78e-67d3f8292e7f.json"),
        NEW_PAGE: load(fixtures_dir, "as__page-80bd04ac-f4a5-48a9-874d-45cbe711dd45.json"),
    }


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- the Curation Platform's JSONkeeper feed ----------------------------------------------


def test_jsonkeeper_collection_links_first_and_last_page(fixtures_dir: Path) -> None:
    url = AS_BASE + "collection.json"
    page = parse_feed_page(jsonkeeper_feed(fixtures_dir)[url], url)
    assert page.kind == "collection"
    assert (page.first, page.last) == (OLD_PAGE, NEW_PAGE)
    assert page.total_items == 2
    assert page.activities == ()
    assert walk_start(page) == NEW_PAGE


def test_jsonkeeper_page_keeps_create_and_skips_reference_and_offer(fixtures_dir: Path) -> None:
    page = parse_feed_page(jsonkeeper_feed(fixtures_dir)[OLD_PAGE], OLD_PAGE)
    assert page.kind == "page"
    assert (page.prev, page.next) == (None, NEW_PAGE)
    # 6 items: 1 Create, 4 Reference, 1 Offer
    assert page.activities == (
        Activity(
            type="Create",
            object_id=CURATION2,
            object_type=None,
            end_time=datetime(2018, 2, 4, 14, 5, 8, 257176, tzinfo=UTC),
        ),
    )


def test_jsonkeeper_naive_timestamps_are_read_as_utc(fixtures_dir: Path) -> None:
    page = parse_feed_page(jsonkeeper_feed(fixtures_dir)[NEW_PAGE], NEW_PAGE)
    (activity,) = page.activities
    assert activity.end_time.utcoffset() == timedelta(0)
    assert activity.end_time == at("2018-02-04T14:05:08.259192")
    assert page.prev == OLD_PAGE and page.next is None


def test_walking_the_sample_feed_back_finds_both_curations(fixtures_dir: Path) -> None:
    feed = jsonkeeper_feed(fixtures_dir)
    visited, activities = walk(feed, AS_BASE + "collection.json", since=None)
    assert visited == [NEW_PAGE, OLD_PAGE]
    newest = newest_per_object(activities, since=None)
    assert sorted(newest) == [CURATION1, CURATION2]
    assert {act.type for act in newest.values()} == {"Create"}


def test_a_cursor_between_the_pages_keeps_only_the_newer_curation(fixtures_dir: Path) -> None:
    feed = jsonkeeper_feed(fixtures_dir)
    feed[OLD_PAGE]["prev"] = AS_BASE + "page-never-fetched.json"  # an even older page
    cursor = at("2018-02-04T14:05:08.258500")  # between the two pages
    visited, activities = walk(feed, AS_BASE + "collection.json", since=cursor)
    assert visited == [NEW_PAGE, OLD_PAGE]  # the old page is wholly older: stop there
    assert list(newest_per_object(activities, since=cursor)) == [CURATION1]


def walk(
    feed: dict[str, dict[str, Any]], url: str, since: datetime | None
) -> tuple[list[str], list[Activity]]:
    """Walk a feed backwards as the harvester does; return the pages and activities seen."""
    start = walk_start(parse_feed_page(feed[url], url))
    visited: list[str] = []
    pages: list[FeedPage] = []
    current: str | None = start
    while current is not None:
        visited.append(current)
        page = parse_feed_page(feed[current], current)
        pages.append(page)
        current = next_page(page, since)
    activities = [act for page in reversed(pages) for act in page.activities]
    return visited, activities


def test_jsonkeeper_object_may_be_typed_and_links_may_be_null() -> None:
    doc = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": "CollectionPage",
        "id": "https://example.org/as/p1",
        "prev": None,
        "next": None,
        "items": [
            {
                "type": "Create",
                "endTime": "2019-06-01T10:00:00.5",
                "object": {"@id": CURATION1, "@type": "cr:Curation"},
            }
        ],
    }
    page = parse_feed_page(doc, "https://example.org/as/p1")
    assert (page.prev, page.next) == (None, None)
    assert page.activities[0].object_type == "cr:Curation"
    assert page.activities[0].object_id == CURATION1


# --- IIIF Change Discovery 1.0 ------------------------------------------------------------


def discovery_page(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": DISCOVERY,
        "id": "https://example.org/activity/page-1",
        "type": "OrderedCollectionPage",
        "partOf": {"id": "https://example.org/activity/all-changes", "type": "OrderedCollection"},
        "prev": {"id": "https://example.org/activity/page-0", "type": "OrderedCollectionPage"},
        "next": {"id": "https://example.org/activity/page-2", "type": "OrderedCollectionPage"},
        "orderedItems": items,
    }


def manifest(n: int) -> dict[str, str]:
    return {"id": f"https://example.org/iiif/{n}/manifest", "type": "Manifest"}


ALL_TYPES = [
    {"type": "Refresh", "startTime": "2018-03-01T00:00:00Z"},
    {"type": "Create", "object": manifest(1), "endTime": "2018-03-10T10:00:00Z"},
    {"type": "Update", "object": manifest(1), "endTime": "2018-03-10T19:00:00+09:00"},
    {"type": "Add", "object": manifest(2), "endTime": "2018-03-11T00:00:00Z"},
    {
        "type": "Move",
        "object": manifest(2),
        "target": manifest(3),
        "endTime": "2018-03-12T00:00:00Z",
    },
    {"type": "Remove", "object": manifest(4), "endTime": "2018-03-13T00:00:00Z"},
    {"type": "Delete", "object": manifest(1), "endTime": "2018-03-14T00:00:00Z"},
]


def test_discovery_collection_links_are_objects() -> None:
    doc = {
        "@context": DISCOVERY,
        "id": "https://example.org/activity/all-changes",
        "type": "OrderedCollection",
        "totalItems": 21456,
        "first": {"id": "https://example.org/activity/page-0", "type": "OrderedCollectionPage"},
        "last": {"id": "https://example.org/activity/page-214", "type": "OrderedCollectionPage"},
    }
    page = parse_feed_page(doc, "https://example.org/activity/all-changes")
    assert page.kind == "collection"
    assert page.last == "https://example.org/activity/page-214"
    assert page.first == "https://example.org/activity/page-0"
    assert page.total_items == 21456


def test_discovery_page_reads_every_activity_type_in_utc() -> None:
    page = parse_feed_page(discovery_page(ALL_TYPES), "https://example.org/activity/page-1")
    assert page.prev == "https://example.org/activity/page-0"
    assert page.next == "https://example.org/activity/page-2"
    assert [act.type for act in page.activities] == [
        "Refresh",
        "Create",
        "Update",
        "Add",
        "Move",
        "Remove",
        "Delete",
    ]
    refresh, create, update, _add, move, remove, delete = page.activities
    assert refresh.object_id is None and refresh.end_time == at("2018-03-01T00:00:00")
    assert create.object_type == "Manifest"
    assert update.end_time == at("2018-03-10T10:00:00")  # 19:00 in +09:00
    assert move.object_id == "https://example.org/iiif/2/manifest"
    assert move.target_id == "https://example.org/iiif/3/manifest"
    assert remove.removes and delete.removes and not create.removes


def test_newest_per_object_applies_moves_and_keeps_deletes() -> None:
    page = parse_feed_page(discovery_page(ALL_TYPES), "https://example.org/activity/page-1")
    newest = newest_per_object(page.activities, since=None)
    assert {key.split("/")[-2]: act.type for key, act in newest.items()} == {
        "1": "Delete",  # created, updated, deleted: the Delete is newest and kept
        "2": "Delete",  # moved away
        "3": "Create",  # moved here
        "4": "Remove",
    }
    assert newest["https://example.org/iiif/3/manifest"].end_time == at("2018-03-12T00:00:00")


def test_newest_per_object_keeps_only_activities_strictly_after_the_cursor() -> None:
    page = parse_feed_page(discovery_page(ALL_TYPES), "https://example.org/activity/page-1")
    cursor = at("2018-03-12T00:00:00")  # the Move itself is not newer than the cursor
    newest = newest_per_object(page.activities, since=cursor)
    assert {key: act.type for key, act in newest.items()} == {
        "https://example.org/iiif/4/manifest": "Remove",
        "https://example.org/iiif/1/manifest": "Delete",
    }
    naive_cursor = datetime(2018, 3, 13, 12, 0)
    assert list(newest_per_object(page.activities, since=naive_cursor)) == [
        "https://example.org/iiif/1/manifest"
    ]


def test_newest_per_object_prefers_the_later_of_equal_times() -> None:
    same = "2018-03-10T10:00:00Z"
    items = [
        {"type": "Update", "object": manifest(1), "endTime": same},
        {"type": "Delete", "object": manifest(1), "endTime": same},
    ]
    page = parse_feed_page(discovery_page(items), "https://example.org/p")
    assert newest_per_object(page.activities, since=None)[manifest(1)["id"]].type == "Delete"
    assert newest_per_object(reversed(page.activities), since=None)[manifest(1)["id"]].type == (
        "Update"
    )


def test_newest_per_object_is_order_free_across_pages() -> None:
    older = parse_feed_page(
        discovery_page([{"type": "Update", "object": manifest(1), "endTime": "2018-01-01T00:00Z"}]),
        "https://example.org/p0",
    )
    newer = parse_feed_page(
        discovery_page([{"type": "Delete", "object": manifest(1), "endTime": "2018-02-01T00:00Z"}]),
        "https://example.org/p1",
    )
    walked = [*newer.activities, *older.activities]  # walk-back order: newest page first
    assert newest_per_object(walked, since=None)[manifest(1)["id"]].type == "Delete"


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        (None, "https://example.org/activity/page-0"),
        (at("2018-03-10T09:00:00"), "https://example.org/activity/page-0"),
        (at("2018-03-14T00:00:00"), None),  # every activity on the page is at or before it
    ],
)
def test_next_page_walks_back_until_a_whole_page_is_old(
    since: datetime | None, expected: str | None
) -> None:
    items = [item for item in ALL_TYPES if item["type"] != "Refresh"]
    page = parse_feed_page(discovery_page(items), "https://example.org/activity/page-1")
    assert next_page(page, since) == expected


def test_a_first_harvest_stops_at_a_refresh() -> None:
    page = parse_feed_page(discovery_page(ALL_TYPES), "https://example.org/activity/page-1")
    assert next_page(page, None) is None
    assert next_page(page, at("2017-01-01T00:00:00")) == "https://example.org/activity/page-0"


def test_a_page_without_used_activities_does_not_stop_the_walk(fixtures_dir: Path) -> None:
    doc = load(fixtures_dir, "as__page-80bd04ac-f4a5-48a9-874d-45cbe711dd45.json")
    doc["items"] = [item for item in doc["items"] if item["type"] != "Create"]
    page = parse_feed_page(doc, NEW_PAGE)
    assert page.activities == ()
    assert next_page(page, at("2030-01-01T00:00:00")) == OLD_PAGE


def test_walk_start_of_a_page_is_the_page_itself() -> None:
    page = parse_feed_page(discovery_page(ALL_TYPES), "https://example.org/activity/page-1")
    assert walk_start(page) == "https://example.org/activity/page-1"


# --- malformed feeds ----------------------------------------------------------------------


def test_a_collection_without_last_cannot_be_walked() -> None:
    doc = {"@context": DISCOVERY, "type": "OrderedCollection", "first": "https://e.org/p0"}
    page = parse_feed_page(doc, "https://e.org/c")
    with pytest.raises(DocumentError) as caught:
        walk_start(page)
    assert caught.value.field == "/last"
    assert "https://e.org/c" in str(caught.value)


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([{"type": "Create", "object": manifest(1)}], "/orderedItems/0/endTime"),
        (
            [{"type": "Create", "object": manifest(1), "endTime": "2018-13-01T00:00:00Z"}],
            "/orderedItems/0/endTime",
        ),
        (
            [
                {"type": "Create", "object": manifest(1), "endTime": "2018-01-01T00:00:00Z"},
                {"type": "Move", "object": manifest(2), "endTime": "2018-01-02T00:00:00Z"},
            ],
            "/orderedItems/1/target",
        ),
        ([{"type": "Update", "endTime": "2018-01-01T00:00:00Z"}], "/orderedItems/0/object"),
        ([{"object": manifest(1), "endTime": "2018-01-01T00:00:00Z"}], "/orderedItems/0/type"),
        (["https://example.org/iiif/1/manifest"], "/orderedItems/0"),
    ],
)
def test_malformed_activities_name_the_field(items: list[Any], field: str) -> None:
    with pytest.raises(DocumentError) as caught:
        parse_feed_page(discovery_page(items), "https://example.org/activity/page-1")
    assert caught.value.field == field
    assert caught.value.url == "https://example.org/activity/page-1"


def test_a_manifest_is_not_a_feed(fixtures_dir: Path) -> None:
    path = fixtures_dir / "iiif-api" / "presentation__2.1__example__fixtures__1__manifest.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    with pytest.raises(DocumentError) as caught:
        parse_feed_page(doc, "https://example.org/manifest.json")
    assert caught.value.field == "/type"
    assert "sc:Manifest" in caught.value.reason


def test_a_link_must_be_a_url() -> None:
    doc = {"type": "OrderedCollection", "last": {"type": "OrderedCollectionPage"}}
    with pytest.raises(DocumentError) as caught:
        parse_feed_page(doc, "https://e.org/c")
    assert caught.value.field == "/last"


def test_times_with_offsets_are_converted_not_relabelled() -> None:
    items = [{"type": "Create", "object": manifest(1), "endTime": "2018-03-10T09:00:00-05:00"}]
    page = parse_feed_page(discovery_page(items), "https://example.org/p")
    expected = datetime(2018, 3, 10, 9, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert page.activities[0].end_time == expected
    assert page.activities[0].end_time.tzinfo == UTC
