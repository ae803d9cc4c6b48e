"""No exception escapes a document (issue 14): each hostile kind, listed in a change feed
before a good curation, is recorded as that document's failure and the harvest goes on."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from kaokore.cli import app
from kaokore.db import Database
from kaokore.db.models import Document, Face
from kaokore.mirror import sample_dir
from kaokore.server.app import LocalIIIFServer
from tests.ingest.harvest_helpers import copy_mirror, ground_truth, run_ingest

GOOD = "api/face/curation/json/d51e17fb-45b8-427c-9d0c-e09d1831ae37"
TEMPLATE = "api/face/curation/json/89af6ab9-8162-5da1-baef-ad4bcdbadccf"
MANIFEST = "keio/iiif/133X-142-1/manifest.json"

Edit = Callable[[Any], Any]


def _services(manifest: Any, new_id: str) -> Any:
    for canvas in manifest["sequences"][0]["canvases"]:
        canvas["images"][0]["resource"]["service"]["@id"] = new_id
    return manifest


def _canvas_sizes(manifest: Any, width: Any) -> Any:
    for canvas in manifest["sequences"][0]["canvases"]:
        canvas["width"] = width
        canvas["images"][0]["resource"]["width"] = width
    return manifest


def _member_xywh(curation: Any, xywh: str) -> Any:
    for selection in curation["selections"]:
        for member in selection["members"]:
            member["@id"] = member["@id"].split("#")[0] + "#xywh=" + xywh
    return curation


# Each: (name, change to the curation, change to its manifest, or a raw body for one of them).
HOSTILE: list[tuple[str, Edit | bytes | None, Edit | bytes | None]] = [
    ("service-file-url", None, lambda m: _services(m, "file:///etc")),
    ("service-relative", None, lambda m: _services(m, "../../etc/passwd")),
    ("service-other-scheme", None, lambda m: _services(m, "ftp://127.0.0.1/x")),
    ("service-not-a-string", None, lambda m: _services(m, {"nested": ["x"]})),
    ("manifest-not-json", None, b"<html>502 Bad Gateway</html>"),
    ("manifest-a-list", None, b"[1, 2, 3]"),
    ("manifest-deep", None, b"[" * 100_000 + b"]" * 100_000),
    ("manifest-huge-width", None, lambda m: _canvas_sizes(m, 10**400)),
    ("manifest-width-text", None, lambda m: _canvas_sizes(m, "wide")),
    ("curation-not-json", b"\xff\xfe garbage", None),
    ("curation-a-number", b"42", None),
    ("curation-selections-text", lambda c: dict(c, selections="many"), None),
    ("curation-member-null", lambda c: dict(c, selections=[{"members": [None]}]), None),
    ("curation-huge-xywh", lambda c: _member_xywh(c, "0,0,99999999999999999999999,5"), None),
    ("curation-negative-xywh", lambda c: _member_xywh(c, "-5,-5,-10,-10"), None),
    ("curation-deep", b'{"selections": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", None),
]


def _write(path: Path, body: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(body, bytes):
        path.write_bytes(body)
    else:
        path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")


def build_hostile_feed(mirror: Path) -> list[str]:
    """A feed at /hostile/collection.json: every hostile curation, then the good one."""
    template = json.loads((sample_dir() / f"{TEMPLATE}.json").read_text(encoding="utf-8"))
    manifest = json.loads((sample_dir() / MANIFEST).read_text(encoding="utf-8"))
    objects: list[str] = []
    for name, curation_change, manifest_change in HOSTILE:
        manifest_path = f"hostile/{name}/manifest.json"
        curation_path = f"hostile/{name}/curation"
        curation = copy.deepcopy(template)
        curation["@id"] = "{BASE}/" + curation_path
        for selection in curation["selections"]:
            selection["within"][0]["@id"] = "{BASE}/" + manifest_path
        if callable(curation_change):
            curation = curation_change(curation)
        _write(
            mirror / f"{curation_path}.json",
            curation_change if isinstance(curation_change, bytes) else curation,
        )
        body = copy.deepcopy(manifest)
        body["@id"] = "{BASE}/" + manifest_path
        if callable(manifest_change):
            body = manifest_change(body)
        _write(
            mirror / manifest_path, manifest_change if isinstance(manifest_change, bytes) else body
        )
        objects.append(curation_path)
    objects.append(GOOD)
    page = {
        "@context": "http://iiif.io/api/discovery/1/context.json",
        "id": "{BASE}/hostile/page-1.json",
        "type": "OrderedCollectionPage",
        "partOf": {"id": "{BASE}/hostile/collection.json", "type": "OrderedCollection"},
        "orderedItems": [
            {
                "id": f"{{BASE}}/hostile/activity/{number}",
                "type": "Create",
                "object": {"id": "{BASE}/" + obj, "type": "cr:Curation"},
                "endTime": f"2020-01-01T00:{number // 60:02d}:{number % 60:02d}Z",
            }
            for number, obj in enumerate(objects)
        ],
    }
    collection = {
        "@context": "http://iiif.io/api/discovery/1/context.json",
        "id": "{BASE}/hostile/collection.json",
        "type": "OrderedCollection",
        "totalItems": len(objects),
        "first": {"id": "{BASE}/hostile/page-1.json", "type": "OrderedCollectionPage"},
        "last": {"id": "{BASE}/hostile/page-1.json", "type": "OrderedCollectionPage"},
    }
    _write(mirror / "hostile/page-1.json", page)
    _write(mirror / "hostile/collection.json", collection)
    return objects


@pytest.fixture
def hostile_server(tmp_path: Path) -> LocalIIIFServer:
    mirror = copy_mirror(tmp_path / "mirror")
    build_hostile_feed(mirror)
    with LocalIIIFServer(mirror) as running:
        yield running


def test_each_hostile_document_is_recorded_and_the_good_curation_is_stored(
    database: Database, hostile_server: LocalIIIFServer
) -> None:
    feed = hostile_server.url("/hostile/collection.json")
    report = run_ingest(database, [feed], document_concurrency=1)
    good_url = hostile_server.url("/" + GOOD)
    with database.session() as session:
        documents = {row.url: row for row in session.scalars(select(Document))}
        good = documents[good_url]
        assert good.status == "ok", good.error
        stored = session.scalars(select(Face).where(Face.deleted.is_(False))).all()
    expected = {
        face["member_id"].replace("{BASE}", hostile_server.base_url)
        for face in ground_truth()["faces"]
        if face["curation"].endswith(GOOD.rsplit("/", 1)[1])
    }
    good_faces = [face for face in stored if face.member_uri in expected]
    assert len(expected) > 5 and {face.member_uri for face in good_faces} == expected
    assert all(face.crop_status == "ok" for face in good_faces)
    recorded = [f"{failure.url} {failure.reason}" for failure in report.failures]
    recorded += report.defect_examples
    recorded += [f"{url} {row.error}" for url, row in documents.items() if row.error]
    for name, _curation, _manifest in HOSTILE:
        assert any(f"/hostile/{name}/" in line for line in recorded), (name, recorded)


@pytest.mark.slow
def test_the_cli_ends_with_exit_1_and_no_traceback(
    hostile_server: LocalIIIFServer, tmp_path: Path
) -> None:
    runner = CliRunner()
    home = tmp_path / "home"
    result = runner.invoke(
        app, ["--home", str(home), "ingest", hostile_server.url("/hostile/collection.json")]
    )
    assert "Traceback" not in result.stderr
    assert result.exit_code == 1, result.stderr[-2000:]


def test_an_error_in_one_crop_is_that_crops_failure(
    database: Database, hostile_server: LocalIIIFServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crop whose encoding raises something unexpected is recorded; the others are stored."""
    from kaokore.ingest import crops

    real_encode = crops._encode_and_store
    calls = {"n": 0}

    def flaky(*args: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("an unexpected bug")
        return real_encode(*args)

    monkeypatch.setattr(crops, "_encode_and_store", flaky)
    report = run_ingest(database, [hostile_server.url("/" + GOOD)], crop_concurrency=1)
    crop_failures = [failure for failure in report.failures if failure.stage == "crops"]
    assert len(crop_failures) == 1, crop_failures
    assert "RuntimeError: an unexpected bug" in crop_failures[0].reason
    with database.session() as session:
        statuses = sorted(face.crop_status for face in session.scalars(select(Face)))
    assert statuses.count("failed") == 1 and statuses.count("ok") == len(statuses) - 1
    # The next run fetches the failed crop and nothing else.
    monkeypatch.setattr(crops, "_encode_and_store", real_encode)
    again = run_ingest(database, [hostile_server.url("/" + GOOD)])
    assert again.counts["crops"]["new"] == 1 and not again.failures
