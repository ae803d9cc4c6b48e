"""Hostile SPARQL (issue 14): nothing leaves the local graph, and every query is bounded."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kaokore.cli import app
from kaokore.errors import QueryLimitError, UsageError
from kaokore.query import export_rdf, sparql
from kaokore.query.bounds import bounded
from tests.query.conftest import SmallDb
from tests.query.test_hostile_sql import any_db, fingerprint  # noqa: F401  (fixture)

runner = CliRunner()


class _Counter(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        type(self).hits.append(self.path)
        body = b'{"@context": {"x": "http://example.org/x"}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/ld+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        self.do_GET()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server that records every request it gets."""
    _Counter.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Counter.hits
    finally:
        server.shutdown()
        server.server_close()


def invoke(small_db: SmallDb, *args: str) -> tuple[int, str, str]:
    url = small_db.database.engine.url.render_as_string(hide_password=False)
    result = runner.invoke(app, ["--db", url, "--home", str(small_db.home), *args])
    return result.exit_code, result.stdout, result.stderr


def test_service_is_refused_and_sends_nothing(
    any_db: SmallDb,  # noqa: F811
    listener: tuple[str, list[str]],
) -> None:
    base, hits = listener
    before = fingerprint(any_db.database)
    query = f"SELECT * WHERE {{ SERVICE <{base}/sparql> {{ ?s ?p ?o }} }}"
    with pytest.raises(UsageError, match="SERVICE is refused"):
        sparql(any_db.database, query)
    code, _, err = invoke(any_db, "sparql", query)
    assert code == 2 and err.count("\n") == 1 and "SERVICE is refused" in err
    nested = (
        f"SELECT * WHERE {{ ?a ?b ?c OPTIONAL {{ SERVICE SILENT <{base}/x> {{ ?s ?p ?o }} }} }}"
    )
    with pytest.raises(UsageError, match="SERVICE is refused"):
        sparql(any_db.database, nested)
    with pytest.raises(UsageError, match="FROM and FROM NAMED are refused"):
        sparql(any_db.database, f"SELECT * FROM <{base}/g> WHERE {{ ?s ?p ?o }}")
    with pytest.raises(UsageError, match="FROM and FROM NAMED are refused"):
        sparql(
            any_db.database, f"SELECT * FROM NAMED <{base}/g> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
        )
    assert hits == []
    assert fingerprint(any_db.database) == before


def test_graph_file_never_fetches_a_context(
    small_db: SmallDb, tmp_path: Path, listener: tuple[str, list[str]]
) -> None:
    base, hits = listener
    exported = json.loads(export_rdf(small_db.database, format="json-ld") or "{}")
    assert isinstance(exported.get("@context"), dict)  # our own export is self-contained
    good = tmp_path / "faces.jsonld"
    good.write_text(json.dumps(exported), encoding="utf-8")
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?f a oa:Annotation }"
    assert sparql(None, count, graph=good).rows == ((6,),)
    for name, context in [
        ("remote.jsonld", f"{base}/context.jsonld"),
        ("list.jsonld", [{"oa": "http://www.w3.org/ns/oa#"}, f"{base}/more.jsonld"]),
        ("file.jsonld", "other.jsonld"),
        ("import.jsonld", {"@import": f"{base}/imported.jsonld"}),
    ]:
        hostile = dict(exported, **{"@context": context})
        path = tmp_path / name
        path.write_text(json.dumps(hostile), encoding="utf-8")
        with pytest.raises(UsageError, match="names another document"):
            sparql(None, count, graph=path)
        code, _, err = invoke(small_db, "sparql", count, "--graph", str(path))
        assert code == 2 and err.count("\n") == 1 and "loads no remote or file context" in err
    # A context deep inside the document is found too.
    deep = dict(exported)
    deep["@graph"] = [{"@context": f"{base}/deep.jsonld", "@id": "http://example.org/a"}]
    path = tmp_path / "deep.jsonld"
    path.write_text(json.dumps(deep), encoding="utf-8")
    with pytest.raises(UsageError, match="names another document"):
        sparql(None, count, graph=path)
    assert hits == []


CARTESIAN = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@pytest.mark.slow
def test_cartesian_rows_are_read_lazily_and_cut(small_db: SmallDb) -> None:
    started = time.monotonic()
    result = sparql(small_db.database, CARTESIAN, max_rows=500)
    assert len(result.rows) == 500 and result.truncated
    assert time.monotonic() - started < 20
    code, _, err = invoke(small_db, "sparql", CARTESIAN, "--max-rows", "3", "-f", "csv")
    assert code == 0 and "cut after 3 rows (--max-rows)" in err


@pytest.mark.slow
def test_a_materialising_query_is_stopped_by_time_and_memory(small_db: SmallDb) -> None:
    ordered = CARTESIAN + " ORDER BY ?i ?h ?g"
    started = time.monotonic()
    with pytest.raises(QueryLimitError, match="time limit of 1 s"):
        sparql(small_db.database, ordered, timeout=1, max_memory=None)
    assert time.monotonic() - started < 15
    with pytest.raises(QueryLimitError, match="more than 32 MiB of memory"):
        sparql(small_db.database, ordered, timeout=120, max_memory=32 * 2**20)
    code, _, err = invoke(small_db, "sparql", ordered, "--timeout", "0.5")
    assert code == 2 and err.count("\n") == 1 and "--timeout" in err
    # The process goes on answering afterwards.
    assert sparql(small_db.database, "ASK { ?s ?p ?o }").rows == ((True,),)


def test_bounded_leaves_no_interrupt_behind() -> None:
    """A bound that fires as the work ends must not hit the code that runs next."""
    for _ in range(50):
        assert bounded(lambda: sum(range(1000)), timeout=0.001, max_memory=None) in (499500,)
    time.sleep(0.05)  # an interrupt left pending would be raised here
