"""The Linked Data export parses back, and SPARQL counts equal SQL counts."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from rdflib import Graph

from kaokore.db import Database
from kaokore.errors import UsageError
from kaokore.query import export_rdf, sparql, sql
from kaokore.query.filters import FaceFilter
from kaokore.query.rdf import OA
from tests.query.conftest import SmallDb, TagLine

STATUS_COUNTS = """
SELECT ?status (COUNT(DISTINCT ?face) AS ?faces) WHERE {
  ?body kaokore:label "身分" ; rdf:value ?status .
  ?face oa:hasBody ?body .
} GROUP BY ?status
"""


@pytest.mark.parametrize("fmt", ["turtle", "json-ld"])
@pytest.mark.filterwarnings(
    "ignore:ConjunctiveGraph is deprecated:DeprecationWarning"
)  # rdflib's json-ld parser
def test_export_parses_back(small_db: SmallDb, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / ("faces.ttl" if fmt == "turtle" else "faces.jsonld")
    assert export_rdf(small_db.database, format=fmt, out=out) is None
    graph = Graph()
    graph.parse(out, format=fmt)
    annotations = set(graph.subjects(predicate=None, object=OA.Annotation))
    assert len(annotations) == 6
    if fmt == "json-ld":
        assert "@context" in json.loads(out.read_text(encoding="utf-8"))


def test_selectors_bodies_and_agents(small_db: SmallDb) -> None:
    result = sparql(
        small_db.database,
        """
        SELECT ?id ?source ?xywh WHERE {
          ?face kaokore:faceId ?id ; oa:hasTarget ?t .
          ?t oa:hasSource ?source ; oa:hasSelector ?s .
          ?s a oa:FragmentSelector ; rdf:value ?xywh ; dcterms:conformsTo ?spec .
        } ORDER BY ?id
        """,
    )
    by_id = {row[0]: row[1:] for row in result.rows}
    assert by_id[small_db.ids["a1"]] == (
        "https://example.org/iiif/book-a/canvas/p1",
        "xywh=100,50,60,60",
    )
    assert by_id[small_db.ids["solo"]] == ("https://img.example.org/iiif/c1", "xywh=-5,20,100,100")
    machine = sparql(
        small_db.database,
        "SELECT ?v WHERE { ?b as:generator kaokore:machine ; rdf:value ?v . ?f oa:hasBody ?b }",
    )
    assert machine.rows == (("bot",),)
    manifests = sparql(
        small_db.database,
        "SELECT DISTINCT ?m WHERE { ?f dcterms:isPartOf ?w . ?w rdfs:seeAlso ?m . ?m a sc:Manifest } ORDER BY ?m",
    )
    assert [r[0] for r in manifests.rows] == [
        "https://example.org/iiif/book-a/manifest.json",
        "https://example.org/iiif/book-b/manifest.json",
    ]


def test_sparql_counts_equal_sql_counts_small(small_db: SmallDb) -> None:
    by_sparql = dict(sparql(small_db.database, STATUS_COUNTS).rows)
    by_sql = dict(
        sql(small_db.database, "SELECT status, count(*) FROM faces_current GROUP BY status").rows
    )
    assert by_sparql == by_sql


def test_sparql_counts_equal_sql_counts_official(
    official_db: Database, official_tags: list[TagLine]
) -> None:
    """On the real metadata, restricted to two works to keep the graph small (rdflib fills
    a graph at some 10,000 triples a second)."""
    works = ["大職冠", "源氏物語絵巻"]
    by_sparql = dict(sparql(official_db, STATUS_COUNTS, where=FaceFilter(work=works)).rows)
    by_sql = dict(
        sql(
            official_db,
            "SELECT status, count(*) FROM faces_current "
            "WHERE work IN ('大職冠', '源氏物語絵巻') GROUP BY status",
        ).rows
    )
    expected = Counter(line.first("身分") for line in official_tags if line.first("原典") in works)
    assert by_sparql == by_sql == expected


@pytest.mark.parametrize("name", ["faces.ttl", "faces.jsonld"])
def test_sparql_over_an_exported_file(small_db: SmallDb, tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    export_rdf(
        small_db.database, out=out, format="json-ld" if name.endswith("jsonld") else "turtle"
    )
    result = sparql(None, "SELECT (COUNT(?f) AS ?n) WHERE { ?f a oa:Annotation }", graph=out)
    assert result.rows == ((6,),)
    ask = sparql(None, "ASK { ?f kaokore:yearFrom 1651 }", graph=out)
    assert ask.rows == ((True,),)


def test_bad_sparql_is_a_usage_error(small_db: SmallDb) -> None:
    with pytest.raises(UsageError, match="SPARQL error"):
        sparql(small_db.database, "SELEKT ?x WHERE {}")
