"""SPARQL over the faces as Linked Data (the graph of :mod:`kaokore.query.rdf`).

Why build the graph on demand: the database is the source of truth, and a graph built
from it for each query can never be stale. For repeated queries over a large collection,
export once (``kaokore export rdf --out faces.ttl``) and query the file (``graph=``).
The prefixes oa, as, sc, dctypes, dcterms, rdf, rdfs, xsd and kaokore are predefined.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from rdflib import Graph
from rdflib.term import Node

from kaokore.errors import UsageError
from kaokore.query.connect import DatabaseLike
from kaokore.query.rdf import DEFAULT_BASE, NAMESPACES, build_graph
from kaokore.query.rows import TabularResult

__all__ = ["load_graph", "run_sparql", "sparql"]


def _python(term: Node | None) -> Any:
    """A SPARQL result term as a plain Python value (numbers, text, IRIs as strings)."""
    if term is None:
        return None
    to_python = getattr(term, "toPython", None)
    value = to_python() if to_python is not None else term
    if isinstance(value, (int, float, bool, str)):
        return value
    return str(value)


def load_graph(path: Path) -> Graph:
    """A graph exported earlier (Turtle, JSON-LD, N-Triples or RDF/XML, by file suffix)."""
    formats = {
        ".ttl": "turtle",
        ".jsonld": "json-ld",
        ".json": "json-ld",
        ".nt": "nt",
        ".rdf": "xml",
        ".xml": "xml",
    }
    path = Path(path)
    if not path.exists():
        raise UsageError(f"No graph file {path}. Write one with `kaokore export rdf --out {path}`.")
    graph = Graph()
    with warnings.catch_warnings():
        # rdflib's own JSON-LD parser uses its deprecated ConjunctiveGraph internally.
        warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
        graph.parse(path, format=formats.get(path.suffix.lower(), "turtle"))
    return graph


def run_sparql(graph: Graph, query: str) -> TabularResult:
    """Run ``query`` on ``graph``: SELECT gives its variables, ASK one boolean, CONSTRUCT
    and DESCRIBE their triples as (subject, predicate, object) rows."""
    try:
        result = graph.query(query, initNs={prefix: ns for prefix, ns in NAMESPACES.items()})
    except Exception as exc:  # rdflib raises pyparsing errors and plain exceptions alike
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"SPARQL error: {first}") from exc
    if result.type == "ASK":
        return TabularResult(columns=("ask",), rows=((bool(result.askAnswer),),))
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        triples = result.graph if result.graph is not None else Graph()
        return TabularResult(
            columns=("subject", "predicate", "object"),
            rows=tuple(tuple(_python(term) for term in triple) for triple in triples),
        )
    columns = tuple(str(variable) for variable in result.vars or ())
    rows = tuple(tuple(_python(row[index]) for index in range(len(columns))) for row in result)  # type: ignore[index]
    return TabularResult(columns=columns, rows=rows)


def sparql(
    database: DatabaseLike | None,
    query: str,
    *,
    graph: Path | None = None,
    base: str = DEFAULT_BASE,
    **filters: Any,
) -> TabularResult:
    """Run a SPARQL query over the faces matching the filters (or over an exported file).

    Example::

        >>> from kaokore.query import sparql
        >>> sparql("kaokore-data/kaokore.db", '''
        ...     SELECT ?status (COUNT(DISTINCT ?face) AS ?faces) WHERE {
        ...       ?face a oa:Annotation ; oa:hasBody ?b .
        ...       ?b kaokore:label "身分" ; rdf:value ?status .
        ...     } GROUP BY ?status''', holder="Keio University").rows
    """
    if graph is not None:
        if filters:
            raise UsageError(
                "Filters select faces from the database; they cannot be used with --graph"
            )
        return run_sparql(load_graph(graph), query)
    if database is None:
        raise UsageError("Give a database or a graph file")
    return run_sparql(build_graph(database, base=base, **filters), query)
