"""The face database as Linked Data: W3C Web Annotations, with rdflib.

Why Web Annotation: a face *is* an annotation in the W3C sense (a region of a IIIF canvas
with things said about it), and the Curation Viewer, Mirador and triple stores all read it.
The shape, for each face:

* ``<face> a oa:Annotation``, motivated by ``oa:identifying``, with ``kaokore:faceId`` and
  ``dcterms:identifier`` (the face key), ``dcterms:isPartOf <work>``, and
  ``kaokore:yearFrom``/``kaokore:yearTo`` when its 制作年 values give a range;
* its target an ``oa:SpecificResource`` whose ``oa:hasSource`` is the canvas (or, for faces
  known only from the official files, the image service) and whose ``oa:hasSelector`` is an
  ``oa:FragmentSelector`` ``xywh=x,y,w,h`` that ``dcterms:conformsTo`` Media Fragments
  (canvas coordinates on a canvas, image pixels on an image);
* one ``oa:TextualBody`` per current label: ``rdf:value`` (the Japanese value, a plain
  literal), ``kaokore:label`` (the key, 身分), ``kaokore:key`` (its English name, status),
  ``rdfs:label`` (the English value, where one exists), and its agent:
  ``dcterms:creator kaokore:human`` or ``as:generator kaokore:machine``;
* works with ``rdfs:label`` (原典), ``dcterms:identifier`` (record id), ``kaokore:holder``
  and ``rdfs:seeAlso`` their IIIF manifest (``sc:Manifest``); canvases ``dcterms:isPartOf``
  the manifest; holders with Japanese and English ``rdfs:label``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import quote

from rdflib import BNode, Graph, Namespace, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.namespace import DCTERMS, RDF, RDFS, XSD

from kaokore.errors import ArgumentError
from kaokore.query.connect import DatabaseLike, using_database
from kaokore.query.faces import load_rows, select_faces
from kaokore.query.filters import FaceFilter
from kaokore.query.names import english_value
from kaokore.query.rows import FaceRow
from kaokore.vocab import KEY_ENGLISH

__all__ = [
    "AS",
    "DEFAULT_BASE",
    "KAOKORE",
    "NAMESPACES",
    "OA",
    "SC",
    "RdfFormat",
    "build_graph",
    "export_rdf",
    "faces_graph",
]

OA: Final = Namespace("http://www.w3.org/ns/oa#")
AS: Final = Namespace("https://www.w3.org/ns/activitystreams#")
SC: Final = Namespace("http://iiif.io/api/presentation/2#")
DCTYPES: Final = Namespace("http://purl.org/dc/dcmitype/")
#: The project's own terms (label, key, agent, faceId, yearFrom, yearTo, holder).
KAOKORE: Final = Namespace("https://w3id.org/kaokore/ns#")
#: Where face, work and holder IRIs are minted unless told otherwise.
DEFAULT_BASE: Final = "https://w3id.org/kaokore/id/"
MEDIA_FRAGMENTS: Final = URIRef("http://www.w3.org/TR/media-frags/")

#: Prefixes bound in exported graphs and predefined in ``kaokore sparql`` queries.
NAMESPACES: Final[dict[str, Namespace]] = {
    "oa": OA,
    "as": AS,
    "sc": SC,
    "dctypes": DCTYPES,
    "dcterms": Namespace(str(DCTERMS)),
    "rdf": Namespace(str(RDF)),
    "rdfs": Namespace(str(RDFS)),
    "xsd": Namespace(str(XSD)),
    "kaokore": KAOKORE,
}

RdfFormat = Literal["turtle", "json-ld", "nt", "xml"]
_RDFLIB_FORMATS: Final[dict[str, str]] = {
    "turtle": "turtle",
    "ttl": "turtle",
    "json-ld": "json-ld",
    "jsonld": "json-ld",
    "nt": "nt",
    "ntriples": "nt",
    "xml": "xml",
}


def _iri(base: str, kind: str, name: str) -> URIRef:
    return URIRef(f"{base}{kind}/{quote(name, safe='')}")


def _new_graph() -> Graph:
    # SimpleMemory: no per-triple context bookkeeping, about a third faster to fill.
    graph = Graph(store="SimpleMemory")
    for prefix, namespace in NAMESPACES.items():
        graph.bind(prefix, namespace, override=True)
    return graph


def _add_work(graph: Graph, row: FaceRow, base: str, seen: set[str]) -> URIRef | None:
    if row.work_key is None and row.work is None:
        return None
    work = _iri(base, "work", row.work_key or f"title:{row.work}")
    if str(work) in seen:
        return work
    seen.add(str(work))
    graph.add((work, RDF.type, KAOKORE.Work))
    if row.work:
        graph.add((work, RDFS.label, RdfLiteral(row.work, lang="ja")))
    if row.record_id:
        graph.add((work, DCTERMS.identifier, RdfLiteral(row.record_id)))
    if row.manifest_url:
        manifest = URIRef(row.manifest_url)
        graph.add((work, RDFS.seeAlso, manifest))
        graph.add((manifest, RDF.type, SC.Manifest))
    if row.holder:
        holder = _iri(base, "holder", row.holder)
        graph.add((work, KAOKORE.holder, holder))
        if str(holder) not in seen:
            seen.add(str(holder))
            graph.add((holder, RDF.type, KAOKORE.Holder))
            graph.add((holder, RDFS.label, RdfLiteral(row.holder, lang="ja")))
            english = english_value("所蔵", row.holder)
            if english:
                graph.add((holder, RDFS.label, RdfLiteral(english, lang="en")))
    return work


def _target(graph: Graph, row: FaceRow) -> BNode | None:
    if row.canvas_uri:
        source = URIRef(row.canvas_uri)
        graph.add((source, RDF.type, SC.Canvas))
        if row.manifest_url:
            graph.add((source, DCTERMS.isPartOf, URIRef(row.manifest_url)))
        box = row.region or row.square
    elif row.image_service:
        source = URIRef(row.image_service)
        graph.add((source, RDF.type, DCTYPES.StillImage))
        box = row.square
    else:
        return None
    target = BNode()
    selector = BNode()
    graph.add((target, RDF.type, OA.SpecificResource))
    graph.add((target, OA.hasSource, source))
    graph.add((target, OA.hasSelector, selector))
    graph.add((selector, RDF.type, OA.FragmentSelector))
    graph.add((selector, DCTERMS.conformsTo, MEDIA_FRAGMENTS))
    graph.add((selector, RDF.value, RdfLiteral("xywh={},{},{},{}".format(*box))))
    return target


def faces_graph(rows: Iterable[FaceRow], *, base: str = DEFAULT_BASE) -> Graph:
    """An rdflib graph of ``rows`` (see the module docstring for the shape)."""
    graph = _new_graph()
    graph.add((KAOKORE.human, RDF.type, AS.Person))
    graph.add((KAOKORE.human, RDFS.label, RdfLiteral("expert annotator", lang="en")))
    graph.add((KAOKORE.machine, RDF.type, AS.Application))
    graph.add((KAOKORE.machine, RDFS.label, RdfLiteral("machine annotator", lang="en")))
    seen: set[str] = set()
    for row in rows:
        face = _iri(base, "face", row.key)
        graph.add((face, RDF.type, OA.Annotation))
        graph.add((face, OA.motivatedBy, OA.identifying))
        graph.add((face, KAOKORE.faceId, RdfLiteral(row.face_id)))
        graph.add((face, DCTERMS.identifier, RdfLiteral(row.key)))
        if row.member_uri:
            graph.add((face, RDFS.seeAlso, URIRef(row.member_uri)))
        work = _add_work(graph, row, base, seen)
        if work is not None:
            graph.add((face, DCTERMS.isPartOf, work))
        target = _target(graph, row)
        if target is not None:
            graph.add((face, OA.hasTarget, target))
        if row.period.year_from is not None:
            graph.add((face, KAOKORE.yearFrom, RdfLiteral(row.period.year_from)))
        if row.period.year_to is not None:
            graph.add((face, KAOKORE.yearTo, RdfLiteral(row.period.year_to)))
        emitted: set[tuple[str, str, str]] = set()
        for label in row.labels:
            identity = (label.label, label.value, label.agent)
            if not label.label or label.value == "" or identity in emitted:
                continue
            emitted.add(identity)
            body = BNode()
            graph.add((face, OA.hasBody, body))
            graph.add((body, RDF.type, OA.TextualBody))
            graph.add((body, RDF.value, RdfLiteral(label.value)))
            graph.add((body, KAOKORE.label, RdfLiteral(label.label)))
            key = KEY_ENGLISH.get(label.label)
            if key:
                graph.add((body, KAOKORE.key, RdfLiteral(key)))
            english = english_value(label.label, label.value)
            if english:
                graph.add((body, RDFS.label, RdfLiteral(english, lang="en")))
            if label.agent == "machine":
                graph.add((body, AS.generator, KAOKORE.machine))
            else:
                graph.add((body, DCTERMS.creator, KAOKORE.human))
    return graph


def build_graph(
    database: DatabaseLike,
    *,
    where: FaceFilter | None = None,
    base: str = DEFAULT_BASE,
    limit: int | None = None,
) -> Graph:
    """The graph of the faces matching ``where`` (as in :func:`kaokore.query.faces`)."""
    with using_database(database) as db, db.session() as session:
        rows = load_rows(session, select_faces(session, where or FaceFilter(), limit=limit))
    return faces_graph(rows, base=base)


def export_rdf(
    database: DatabaseLike,
    *,
    where: FaceFilter | None = None,
    format: str = "turtle",
    out: Path | None = None,
    base: str = DEFAULT_BASE,
    limit: int | None = None,
) -> str | None:
    """Serialise the faces matching ``where`` as Turtle or JSON-LD (also ``nt``, ``xml``).

    Writes ``out`` and returns None when given; returns the text otherwise.
    """
    rdflib_format = _RDFLIB_FORMATS.get(format.lower())
    if rdflib_format is None:
        raise ArgumentError("format", format, "use turtle or json-ld (or nt, xml)")
    graph = build_graph(database, where=where, base=base, limit=limit)
    options: dict[str, Any] = {}
    if rdflib_format == "json-ld":
        options["context"] = {prefix: str(ns) for prefix, ns in NAMESPACES.items()}
        options["auto_compact"] = True
    text = str(graph.serialize(format=rdflib_format, **options))
    if out is None:
        return text
    Path(out).write_text(text, encoding="utf-8")
    return None
