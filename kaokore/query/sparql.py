"""SPARQL over the faces as Linked Data (the graph of :mod:`kaokore.query.rdf`).

Why build the graph on demand: the database is the source of truth, and a graph built
from it for each query can never be stale. For repeated queries over a large collection,
export once (``kaokore export rdf --out faces.ttl``) and query the file (``graph=``).
The prefixes oa, as, sc, dctypes, dcterms, rdf, rdfs, xsd and kaokore are predefined.

Why the query is bounded and kept at home: a query is text someone else may have written.
rdflib would follow ``SERVICE <url>`` and ``FROM <url>`` to the network and fetch a JSON-LD
file's remote ``@context``; here SERVICE and FROM are refused before evaluation, graph
loading from queries is switched off, and a graph file's contexts must be inline. The
evaluation runs under a watchdog (:mod:`kaokore.query.bounds`) that stops it after
``timeout`` seconds or ``max_memory`` bytes of growth, and rows are read lazily and cut
after ``max_rows``.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any, Final

import rdflib.plugins.sparql as rdflib_sparql
from rdflib import Graph
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Node

from kaokore.errors import ArgumentError, UsageError
from kaokore.query.bounds import DEFAULT_MAX_MEMORY, bounded
from kaokore.query.connect import DatabaseLike
from kaokore.query.filters import FaceFilter
from kaokore.query.rdf import DEFAULT_BASE, NAMESPACES, build_graph
from kaokore.query.readonly import DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT
from kaokore.query.rows import TabularResult

__all__ = ["check_query", "load_graph", "run_sparql", "sparql"]

# FROM <url> in a query would make rdflib download that graph: never.
rdflib_sparql.SPARQL_LOAD_GRAPHS = False

_FORMATS: Final = {
    ".ttl": "turtle",
    ".jsonld": "json-ld",
    ".json": "json-ld",
    ".nt": "nt",
    ".rdf": "xml",
    ".xml": "xml",
}


def _python(term: Node | None) -> Any:
    """A SPARQL result term as a plain Python value (numbers, text, IRIs as strings)."""
    if term is None:
        return None
    to_python = getattr(term, "toPython", None)
    value = to_python() if to_python is not None else term
    if isinstance(value, (int, float, bool, str)):
        return value
    return str(value)


def _names(node: Any) -> Iterator[str]:
    """The names of every algebra node under ``node`` (CompValue is a dict subclass)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            yield item.name
            stack.extend(item.values())
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def check_query(query: str) -> Query:
    """Parse ``query`` and refuse what would leave the local graph (SERVICE, FROM).

    Raises :class:`UsageError` with the parser's first line for a malformed query.
    """
    try:
        prepared = prepareQuery(query, initNs=dict(NAMESPACES.items()))
    except Exception as exc:  # rdflib raises pyparsing errors and plain exceptions alike
        raise UsageError(f"SPARQL error: {_first_line(exc)}") from exc
    names = set(_names(prepared.algebra))
    if "ServiceGraphPattern" in names:
        raise UsageError(
            "SERVICE is refused: kaokore sparql queries the local graph only and sends no "
            "request anywhere"
        )
    if "DatasetClause" in names or prepared.algebra.get("datasetClause"):
        raise UsageError(
            "FROM and FROM NAMED are refused: kaokore sparql queries the local graph only "
            "and loads no other graph"
        )
    return prepared


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _remote_contexts(document: Any) -> Iterator[str]:
    """Every ``@context`` (or ``@import``) in a JSON-LD document that names another document."""
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key in ("@context", "@import"):
                    contexts = value if isinstance(value, list) else [value]
                    for context in contexts:
                        if isinstance(context, str):
                            yield context
                        else:
                            stack.append(context)
                else:
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)


def load_graph(path: Path) -> Graph:
    """A graph exported earlier (Turtle, JSON-LD, N-Triples or RDF/XML, by file suffix).

    Nothing else is read: a JSON-LD ``@context`` must be inline (``kaokore export rdf``
    writes it so); one that names a URL or a file is refused, never fetched.
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"No graph file {path}. Write one with `kaokore export rdf --out {path}`.")
    rdf_format = _FORMATS.get(path.suffix.lower(), "turtle")
    graph = Graph()
    try:
        if rdf_format == "json-ld":
            document = json.loads(path.read_text(encoding="utf-8"))
            remote = next(_remote_contexts(document), None)
            if remote is not None:
                raise UsageError(
                    f"{path.name}: @context {remote!r} names another document; kaokore loads "
                    "no remote or file context. Inline it (kaokore export rdf writes one)"
                )
            with warnings.catch_warnings():
                # rdflib's JSON-LD parser uses its deprecated ConjunctiveGraph internally.
                warnings.filterwarnings(
                    "ignore", "ConjunctiveGraph is deprecated", DeprecationWarning
                )
                graph.parse(data=json.dumps(document), format="json-ld")
        else:
            graph.parse(path, format=rdf_format)
    except UsageError:
        raise
    except Exception as exc:  # parsers raise their own error types
        raise UsageError(
            f"{path.name} is not readable as {rdf_format}: {_first_line(exc)}"
        ) from exc
    return graph


def _rows(graph: Graph, prepared: Query, cap: int | None) -> tuple[TabularResult, bool]:
    try:
        result = graph.query(prepared)
        if result.type == "ASK":
            return TabularResult(columns=("ask",), rows=((bool(result.askAnswer),),)), False
        if result.type in ("CONSTRUCT", "DESCRIBE"):
            triples = iter(result.graph if result.graph is not None else Graph())
            taken = list(islice(triples, cap + 1 if cap is not None else None))
            columns: tuple[str, ...] = ("subject", "predicate", "object")
            rows = [tuple(_python(term) for term in triple) for triple in taken]
        else:
            columns = tuple(str(variable) for variable in result.vars or ())
            rows = [
                tuple(_python(row[index]) for index in range(len(columns)))  # type: ignore[index]
                for row in islice(result, cap + 1 if cap is not None else None)
            ]
    except Exception as exc:  # evaluation errors (types, unknown functions) are rdflib's own
        raise UsageError(f"SPARQL error: {_first_line(exc)}") from exc
    more = cap is not None and len(rows) > cap
    return TabularResult(columns=columns, rows=tuple(rows[:cap] if more else rows)), more


def run_sparql(
    graph: Graph,
    query: str,
    *,
    timeout: float | None = DEFAULT_TIMEOUT,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    max_memory: int | None = DEFAULT_MAX_MEMORY,
) -> TabularResult:
    """Run ``query`` on ``graph``: SELECT gives its variables, ASK one boolean, CONSTRUCT
    and DESCRIBE their triples as (subject, predicate, object) rows.

    Bounded by ``timeout`` seconds and ``max_memory`` bytes of growth
    (:class:`~kaokore.errors.QueryLimitError`); at most ``max_rows`` rows, ``truncated``
    saying whether more were cut.
    """
    prepared = check_query(query)
    cap = max_rows if max_rows else None
    result, more = bounded(
        lambda: _rows(graph, prepared, cap),
        timeout=timeout,
        max_memory=max_memory,
        what="The SPARQL query",
    )
    if more:
        return TabularResult(columns=result.columns, rows=result.rows, truncated=True)
    return result


def sparql(
    database: DatabaseLike | None,
    query: str,
    *,
    graph: Path | None = None,
    base: str = DEFAULT_BASE,
    timeout: float | None = DEFAULT_TIMEOUT,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    max_memory: int | None = DEFAULT_MAX_MEMORY,
    where: FaceFilter | None = None,
) -> TabularResult:
    """Run a SPARQL query over the faces matching ``where`` (or over an exported file).

    The query is checked first (SERVICE and FROM refused), then evaluated within
    ``timeout`` seconds and ``max_memory`` bytes; see :func:`run_sparql`.

    Example::

        >>> from kaokore.query import sparql
        >>> sparql("kaokore-data/kaokore.db", '''
        ...     SELECT ?status (COUNT(DISTINCT ?face) AS ?faces) WHERE {
        ...       ?face a oa:Annotation ; oa:hasBody ?b .
        ...       ?b kaokore:label "身分" ; rdf:value ?status .
        ...     } GROUP BY ?status''',
        ...     where=FaceFilter(holder="Keio University")).rows
    """
    check_query(query)
    bounds: dict[str, Any] = {"timeout": timeout, "max_rows": max_rows, "max_memory": max_memory}
    if graph is not None:
        if where is not None and not where.empty:
            raise ArgumentError(
                "where", where.describe(), "filters select faces from the database, not a graph"
            )
        loaded = bounded(
            lambda: load_graph(graph),
            timeout=timeout,
            max_memory=max_memory,
            what=f"Reading {Path(graph).name}",
        )
        return run_sparql(loaded, query, **bounds)
    if database is None:
        raise UsageError("Give a database or a graph file")
    return run_sparql(build_graph(database, where=where, base=base), query, **bounds)
