"""Change feeds: which curations were created, changed or deleted, and since when.

Two shapes are read into one model (:class:`~kaokore.ingest.records.FeedPage`):

* IIIF Change Discovery 1.0: an ``OrderedCollection`` linking ``first``/``last``
  ``OrderedCollectionPage``\\ s of ``orderedItems``, with UTC ``endTime``\\ s and the
  activity types Create, Update, Delete, Move (with ``target``), Add, Remove, Refresh;
* the older Curation Platform feed written by JSONkeeper: ``Collection``/``CollectionPage``
  with ``items``, an activity ``object`` given as a bare URL or as ``{"@id", "@type"}``,
  naive timestamps (taken as UTC here; JSONkeeper wrote ``datetime.now()``, the server's
  local time, so a cursor should keep a margin), and activity types kaokore does not use
  (``Reference``, ``Offer``), which are skipped.

A harvester walks a feed backwards: from the collection's ``last`` page along ``prev``,
stopping after a page whose activities are all no newer than its cursor
(:func:`walk_start`, :func:`next_page`), then keeps the newest activity per document
(:func:`newest_per_object`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final, get_args

from kaokore.errors import DocumentError
from kaokore.ingest.jsonld import as_dict, as_list, join, node_id, node_types, require_object
from kaokore.ingest.records import Activity, ActivityType, FeedKind, FeedPage

__all__ = [
    "FEED_TYPES",
    "newest_per_object",
    "next_page",
    "parse_feed_page",
    "parse_time",
    "walk_start",
]

_AS_PREFIXES: Final = ("https://www.w3.org/ns/activitystreams#", "as:")
#: The document types of a change feed (local names), by kind.
FEED_TYPES: Final[dict[str, FeedKind]] = {
    "OrderedCollection": "collection",
    "Collection": "collection",
    "OrderedCollectionPage": "page",
    "CollectionPage": "page",
}
_USED_TYPES: Final[tuple[ActivityType, ...]] = get_args(ActivityType)


def parse_feed_page(doc: Mapping[str, Any], url: str) -> FeedPage:
    """Read a feed collection or page fetched from ``url``.

    Raises DocumentError (naming ``url`` and the field) for a document that is not a feed,
    a link that is not a URL, or a used activity without object or time.
    """
    doc = require_object(doc, url)
    kind = _feed_kind(doc, url)
    activities = tuple(_activities(doc, url))
    total = doc.get("totalItems")
    return FeedPage(
        url=url,
        kind=kind,
        first=_link(doc, "first", url),
        last=_link(doc, "last", url),
        prev=_link(doc, "prev", url),
        next=_link(doc, "next", url),
        activities=activities,
        total_items=total if isinstance(total, int) and not isinstance(total, bool) else None,
    )


def _local_name(type_name: str) -> str:
    """``as:Create`` and the full Activity Streams IRI both mean ``Create``."""
    for prefix in _AS_PREFIXES:
        if type_name.startswith(prefix):
            return type_name[len(prefix) :]
    return type_name


def _feed_kind(doc: Mapping[str, Any], url: str) -> FeedKind:
    for type_name in node_types(doc):
        kind = FEED_TYPES.get(_local_name(type_name))
        if kind is not None:
            return kind
    found = ", ".join(node_types(doc)) or "no type"
    raise DocumentError(
        f"is not a change feed: expected an (Ordered)Collection or (Ordered)CollectionPage, "
        f"found {found}",
        url=url,
        field="/type",
    )


def _link(doc: Mapping[str, Any], key: str, url: str) -> str | None:
    """A page link: a URL or ``{"id": URL}``; null means absent."""
    value = doc.get(key)
    if value is None:
        return None
    found = node_id(value)
    if found is None:
        raise DocumentError("expected a URL or an object with an id", url=url, field=f"/{key}")
    return found


def _activities(doc: Mapping[str, Any], url: str) -> Iterable[Activity]:
    for key in ("orderedItems", "items"):
        if doc.get(key) is None:
            continue
        items = as_list(doc[key], url, f"/{key}")
        for index, item in enumerate(items):
            activity = _activity(item, url, join("", key, index))
            if activity is not None:
                yield activity


def _activity(item: object, url: str, field: str) -> Activity | None:
    """One activity, or None for an activity type kaokore does not act on."""
    node = as_dict(item, url, field)
    types = [_local_name(name) for name in node_types(node)]
    if not types:
        raise DocumentError("an activity needs a type", url=url, field=join(field, "type"))
    used = [name for name in _USED_TYPES if name in types]
    if not used:
        return None
    activity_type = used[0]
    end_time = _activity_time(node, url, field)
    if activity_type == "Refresh":
        return Activity(type="Refresh", object_id=None, object_type=None, end_time=end_time)
    object_id, object_type = _object(node, "object", url, field)
    target_id = None
    if activity_type == "Move":
        target_id, _target_type = _object(node, "target", url, field)
    return Activity(
        type=activity_type,
        object_id=object_id,
        object_type=object_type,
        end_time=end_time,
        target_id=target_id,
    )


def _object(node: Mapping[str, Any], key: str, url: str, field: str) -> tuple[str, str | None]:
    value = node.get(key)
    found = node_id(value)
    if found is None:
        raise DocumentError(
            f"the activity's {key} must be a URL or an object with an id",
            url=url,
            field=join(field, key),
        )
    types = node_types(value) if isinstance(value, dict) else ()
    return found, (types[0] if types else None)


def _activity_time(node: Mapping[str, Any], url: str, field: str) -> datetime:
    """``endTime`` (``startTime`` for Refresh, ``published`` as a last resort), in UTC."""
    for key in ("endTime", "startTime", "published"):
        value = node.get(key)
        if value is not None:
            return parse_time(value, url, join(field, key))
    raise DocumentError(
        "an activity needs an endTime to be ordered against the crawl cursor",
        url=url,
        field=join(field, "endTime"),
    )


def parse_time(value: object, url: str, field: str) -> datetime:
    """An xsd:dateTime as an aware UTC datetime; a naive one is taken as UTC."""
    if not isinstance(value, str):
        raise DocumentError("expected a date-time string", url=url, field=field)
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise DocumentError(
            f"{value!r} is not an ISO 8601 date-time", url=url, field=field
        ) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# --- walking and reducing -----------------------------------------------------------------


def walk_start(doc: FeedPage) -> str:
    """The first page a backward walk fetches: the collection's ``last`` page.

    A feed URL that points at a page already starts at that page. A collection without
    ``last`` cannot be walked backwards (Change Discovery requires it): DocumentError.
    """
    if doc.kind == "page":
        return doc.url
    if doc.last is None:
        raise DocumentError(
            "the collection links no last page, so it cannot be walked from the newest change",
            url=doc.url,
            field="/last",
        )
    return doc.last


def next_page(page: FeedPage, since: datetime | None) -> str | None:
    """The page to fetch after ``page`` when walking back, or None to stop.

    Walk on along ``prev`` unless every activity on this page is at or before the cursor
    ``since`` (then all earlier pages are too). A page with no activity kaokore uses says
    nothing about time, so the walk goes on. Without a cursor (first harvest) the walk stops
    at a ``Refresh``: everything older was re-announced after it.
    """
    if page.prev is None:
        return None
    if since is None:
        return None if any(act.type == "Refresh" for act in page.activities) else page.prev
    if page.activities and all(_aware(act.end_time) <= _aware(since) for act in page.activities):
        return None
    return page.prev


def newest_per_object(
    activities: Iterable[Activity], since: datetime | None
) -> dict[str, Activity]:
    """The newest activity per document among those strictly newer than ``since``.

    ``activities`` may come in any page order; at equal times the later one in the input
    wins. A Delete (or Remove) is kept as such so the caller removes the document. A Move
    counts as a Delete of its object and a Create of its target at the same time. Refresh
    has no object and is dropped.
    """
    newest: dict[str, Activity] = {}
    for activity in activities:
        if since is not None and _aware(activity.end_time) <= _aware(since):
            continue
        for effect in _effects(activity):
            assert effect.object_id is not None
            held = newest.get(effect.object_id)
            if held is None or _aware(effect.end_time) >= _aware(held.end_time):
                newest[effect.object_id] = effect
    return newest


def _effects(activity: Activity) -> tuple[Activity, ...]:
    """What an activity does to each document it names."""
    if activity.type == "Refresh" or activity.object_id is None:
        return ()
    if activity.type != "Move" or activity.target_id is None:
        return (activity,)
    gone = Activity(
        type="Delete",
        object_id=activity.object_id,
        object_type=activity.object_type,
        end_time=activity.end_time,
    )
    moved = Activity(
        type="Create",
        object_id=activity.target_id,
        object_type=activity.object_type,
        end_time=activity.end_time,
    )
    return gone, moved


def _aware(moment: datetime) -> datetime:
    """Compare cursors given naive (taken as UTC) with the feed's aware times."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
