"""Property-based fuzzing of the readers (issue 14): nothing but the documented errors escapes,
and memory stays bounded.

The budget is fixed (``derandomize=True``, a set number of examples, no example database),
so the run is the same on every machine and takes seconds: CI runs it with the rest.
Inputs are real documents of the bundled sample with one part replaced by something
hostile (a value of another type, a huge number, a deep nesting, odd text), plus raw bytes.
"""

from __future__ import annotations

import contextlib
import copy
import json
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kaokore.errors import DocumentError, HarvestError
from kaokore.ingest.curation import parse_curation, parse_xywh, split_member_uri
from kaokore.ingest.documents import parse_json
from kaokore.ingest.feed import parse_feed_page
from kaokore.ingest.imageservice import parse_info
from kaokore.ingest.manifest import parse_manifest
from kaokore.mirror import sample_dir
from kaokore.query.bounds import resident_memory
from kaokore.server import LocalIIIFServer
from kaokore.server.imageapi import ImageApiError, ServiceConfig, parse_image_request, plan_request
from kaokore.server.mirror import DEFAULT_LIMITS

FUZZ = settings(
    max_examples=120,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: What one reader may add to the resident memory on one small document.
MEMORY_BOUND = 128 * 2**20
URL = "http://127.0.0.1:9/doc"


def _load(relative: str) -> Any:
    text = (sample_dir() / relative).read_text(encoding="utf-8")
    return json.loads(text.replace("{BASE}", "http://127.0.0.1:9"))


def _info_2() -> dict[str, Any]:
    return {
        "@context": "http://iiif.io/api/image/2/context.json",
        "@id": "http://127.0.0.1:9/iiif/2/page.tif",
        "protocol": "http://iiif.io/api/image",
        "width": 1300,
        "height": 900,
        "profile": ["http://iiif.io/api/image/2/level2.json", {"formats": ["jpg"]}],
        "sizes": [{"width": 650, "height": 450}],
        "tiles": [{"width": 512, "scaleFactors": [1, 2, 4]}],
    }


SEEDS: dict[str, Any] = {
    "feed": _load("api/face/as/page-1.json"),
    "collection": _load("api/face/as/collection.json"),
    "curation": _load("api/face/curation/json/89af6ab9-8162-5da1-baef-ad4bcdbadccf.json"),
    "manifest2": _load("keio/iiif/133X-142-1/manifest.json"),
    "manifest3": _load("rmda/iiif/metadata_manifest/RB00013189/manifest.json"),
    "info2": _info_2(),
}


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node[:4]):
            yield from _paths(value, (*prefix, index))


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


hostile_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([10**400, -1, 0, 2**63, float("nan"), float("inf"), 1e308]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(
        [
            "file:///etc/passwd",
            "../../etc/passwd",
            "ftp://127.0.0.1/x",
            "javascript:alert(1)",
            "http://",
            "http://127.0.0.1:9/x#xywh=0,0,99999999999999999999,1",
            "http://127.0.0.1:9/x#xywh=-1,-1,-1,-1",
            "http://127.0.0.1:9/x#xywh=pct:1e400,0,1,1",
            "\x00",
            "2019-13-45T99:99:99Z",
        ]
    ),
    st.builds(_nested, st.sampled_from([50, 2000])),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.sampled_from(["@id", "id", "@type", "type", "value"]), st.text(max_size=5)),
)


@st.composite
def mutated(draw: st.DrawFn, seed: str) -> Any:
    """A seed document with one to three of its parts replaced by hostile values."""
    document = copy.deepcopy(SEEDS[seed])
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = [path for path in _paths(document) if path]
        if not paths:
            return draw(hostile_values)
        path = draw(st.sampled_from(paths))
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = draw(hostile_values)
    return document


def _only_documented(read: Callable[[], Any]) -> None:
    """Run a reader: it returns, or raises a documented error; within the memory bound.

    Memory is the growth of the process's resident size (not tracemalloc, which is slow to
    start and stop in a process that already holds gigabytes, as the full suite does).
    """
    before = resident_memory() or 0
    with contextlib.suppress(DocumentError, HarvestError):
        read()
    growth = (resident_memory() or 0) - before
    assert growth < MEMORY_BOUND, growth


@FUZZ
@given(st.one_of(mutated("feed"), mutated("collection"), hostile_values))
@pytest.mark.slow
def test_feed_reader(document: Any) -> None:
    _only_documented(lambda: parse_feed_page(document, URL))


@FUZZ
@given(st.one_of(mutated("curation"), hostile_values))
def test_curation_reader(document: Any) -> None:
    _only_documented(lambda: parse_curation(document, URL))


@FUZZ
@given(st.one_of(mutated("manifest2"), mutated("manifest3"), hostile_values))
def test_manifest_reader(document: Any) -> None:
    _only_documented(lambda: parse_manifest(document, URL))


@FUZZ
@given(st.one_of(mutated("info2"), hostile_values))
def test_info_json_reader(document: Any) -> None:
    _only_documented(lambda: parse_info(document, URL))


@FUZZ
@given(st.binary(max_size=200))
@example(b"[" * 100_000 + b"]" * 100_000)
@example(b'{"a": ' * 50_000 + b"1" + b"}" * 50_000)
@example(b"\xff\xfe\x00")
@example(b"<html>")
def test_json_bytes(body: bytes) -> None:
    _only_documented(lambda: parse_json(body, url=URL))


numbers = st.one_of(
    st.integers(min_value=-5, max_value=10**6).map(str),
    st.sampled_from(["9" * 30, "9" * 5000, "1e400", "-0", "0.5", "", " 1", "１"]),
)


@FUZZ
@given(
    st.one_of(
        st.text(max_size=60),
        st.builds(lambda *n: "xywh=" + ",".join(n), numbers, numbers, numbers, numbers),
        st.builds(lambda *n: "xywh=pct:" + ",".join(n), numbers, numbers, numbers, numbers),
    )
)
def test_xywh(value: str) -> None:
    _only_documented(lambda: parse_xywh(value, URL, "/member"))
    _only_documented(lambda: split_member_uri(f"http://127.0.0.1:9/canvas/1#{value}", URL, "/m"))


regions = st.one_of(
    st.sampled_from(["full", "square"]),
    st.builds(lambda *n: ",".join(n), numbers, numbers, numbers, numbers),
    st.builds(lambda *n: "pct:" + ",".join(n), numbers, numbers, numbers, numbers),
    st.text(alphabet="0123456789,.:pctfulsqare-", max_size=30),
)
sizes = st.one_of(
    st.sampled_from(["full", "max", "^max"]),
    st.builds(lambda c, w: f"{c}{w},", st.sampled_from(["", "^", "!"]), numbers),
    st.builds(lambda c, h: f"{c},{h}", st.sampled_from(["", "^"]), numbers),
    st.builds(
        lambda c, w, h: f"{c}{w},{h}", st.sampled_from(["", "^", "!", "^!"]), numbers, numbers
    ),
    st.builds(lambda c, p: f"{c}pct:{p}", st.sampled_from(["", "^"]), numbers),
    st.text(alphabet="0123456789,.:^!pctfulmax-", max_size=30),
)
LIMITED = ServiceConfig(
    max_width=DEFAULT_LIMITS["maxWidth"],
    max_height=DEFAULT_LIMITS["maxHeight"],
    max_area=DEFAULT_LIMITS["maxArea"],
)


@FUZZ
@given(
    st.sampled_from([2, 3]),
    regions,
    sizes,
    st.sampled_from(["0", "90", "!0", "x"]),
    st.sampled_from(["default.jpg", "gray.png", "color.webp", "default", ".jpg"]),
)
def test_image_api_requests_are_refused_or_bounded(
    version: int, region: str, size: str, rotation: str, last: str
) -> None:
    try:
        plan = plan_request(
            parse_image_request(version, region, size, rotation, last), 1300, 900, LIMITED
        )
    except ImageApiError as exc:
        assert exc.status in (400, 501) and exc.message
        return
    assert plan.width <= DEFAULT_LIMITS["maxWidth"] and plan.height <= DEFAULT_LIMITS["maxHeight"]
    assert plan.width * plan.height <= DEFAULT_LIMITS["maxArea"]


@pytest.fixture(scope="module")
def sample_server() -> Iterator[LocalIIIFServer]:
    with LocalIIIFServer(sample_dir()) as running:
        yield running


def _status(server: LocalIIIFServer, target: str) -> int:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    assert data, f"empty reply to {target}"
    return int(data.split(b" ", 2)[1])


SERVICE = "/iiif/{v}/133X-142-1_002.tif"


@settings(FUZZ, max_examples=60)
@given(
    st.sampled_from([2, 3]),
    regions,
    sizes,
    st.sampled_from(["0", "90", "x"]),
    st.sampled_from(["default.jpg", "gray.png", "x"]),
    st.sampled_from(["", "%2F..", "/..%2F..", "%00"]),
)
def test_served_image_paths_get_an_answer(
    sample_server: LocalIIIFServer,
    version: int,
    region: str,
    size: str,
    rotation: str,
    last: str,
    suffix: str,
) -> None:
    """Through HTTP: every request path is answered with a status, never a 500 or nothing."""
    from urllib.parse import quote

    path = SERVICE.format(v=version) + suffix
    target = "/".join(
        [path, *(quote(part, safe=",:^!") for part in (region, size, rotation, last))]
    )
    status = _status(sample_server, target)
    assert status in (200, 303, 400, 404, 413, 501), (target, status)
