"""``cr:Curation`` documents (IIIF Curation API 1.0): the expert-annotated faces.

Real curations vary more than the schema allows, and one reader accepts all of it:
selections with ``members`` (objects with metadata) and/or ``canvases`` (strings or
objects); ``within`` as a URL, an object (``sc:Manifest``, ``tl:Manifest``,
``codh:Manifest``; label optional) or an array holding the manifest and the parent curation;
metadata labels as strings or language-tagged values; values as strings, numbers, or (label
``Annotation``) ``oa:Annotation`` objects; ``agent`` human or machine (missing is human);
``#xywh=`` with or without ``pixel:``, 1x1 points included. Canvases named without a region
are not faces: they are recorded per selection but never become one.

Canvas ids are compared exactly after cutting the fragment (``.../page1`` is not a prefix
match of ``.../page10``). :func:`document_kind` tells a curation from a feed or a manifest by
content, for URLs whose role is not known in advance.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, Final

from kaokore.box import Box
from kaokore.db.records import Assertion
from kaokore.errors import DocumentError
from kaokore.ingest.feed import FEED_TYPES
from kaokore.ingest.jsonld import (
    as_dict,
    as_list,
    as_str,
    context_urls,
    join,
    node_id,
    node_types,
    require_object,
    text_and_lang,
)
from kaokore.ingest.records import (
    Agent,
    Curation,
    CurationFace,
    Defect,
    DefectOutcome,
    DocumentKind,
    Selection,
)

__all__ = [
    "CURATION_TYPES",
    "MANIFEST_TYPES",
    "document_kind",
    "looks_like_curation",
    "normalise_value",
    "parse_curation",
    "parse_xywh",
    "split_member_uri",
]

#: ``@type`` values that mark a curation.
CURATION_TYPES: Final = frozenset(
    {"cr:Curation", "http://codh.rois.ac.jp/iiif/curation/1#Curation"}
)
#: ``@type`` values that mark a manifest (Presentation 2 and 3, and CODH's own prefixes).
MANIFEST_TYPES: Final = frozenset(
    {
        "sc:Manifest",
        "Manifest",
        "tl:Manifest",
        "codh:Manifest",
        "http://iiif.io/api/presentation/2#Manifest",
        "http://iiif.io/api/presentation/3#Manifest",
    }
)
_KEIO_CALL_NUMBER: Final = "慶応義塾大学請求記号"
_HOLDER: Final = "所蔵"
_KEIO: Final = "慶應義塾大学"
#: The record id key of the versions before each holder got its own key.
_OLD_RECORD_KEY: Final = "原典ID"
_ANNOTATION_LABEL: Final = "Annotation"
_NUMBER: Final = r"\d+(?:\.\d+)?"
#: x and y may be negative: real regions start outside the page (the official 1.2 has 8).
_XYWH: Final = re.compile(rf"^(?:pixel:)?(-?{_NUMBER}),(-?{_NUMBER}),({_NUMBER}),({_NUMBER})$")


# --- the sniffer --------------------------------------------------------------------------


def document_kind(doc: object) -> DocumentKind:
    """Say what a decoded document is by its content: a curation, a feed, a manifest.

    Used where a URL's role is not known (a feed URL or a single curation URL given on the
    command line). IIIF Presentation 3 ``Collection`` is not mistaken for an Activity
    Streams ``Collection``: a feed either says so in its context or uses a feed-only shape.
    """
    if not isinstance(doc, dict):
        return "unknown"
    types = set(node_types(doc))
    if types & CURATION_TYPES or isinstance(doc.get("selections"), list):
        return "curation"
    if types & MANIFEST_TYPES or isinstance(doc.get("sequences"), list):
        return "manifest"
    if _looks_like_feed(doc, types):
        return "feed"
    return "unknown"


def _looks_like_feed(doc: Mapping[str, Any], types: set[str]) -> bool:
    local = {name.rsplit("#", 1)[-1].removeprefix("as:") for name in types}
    if not local & FEED_TYPES.keys():
        return False
    if local & {"OrderedCollection", "OrderedCollectionPage"}:
        return True
    contexts = " ".join(context_urls(doc))
    if "activitystreams" in contexts or "discovery" in contexts:
        return True
    iiif_prezi = "iiif.io/api/presentation" in contexts
    return not iiif_prezi and any(key in doc for key in ("first", "last", "partOf"))


def looks_like_curation(doc: object) -> bool:
    """True when :func:`document_kind` says ``curation``."""
    return document_kind(doc) == "curation"


# --- the reader ---------------------------------------------------------------------------


def parse_curation(doc: Mapping[str, Any], url: str) -> Curation:
    """Read a curation fetched from ``url`` into its selections, faces and defects.

    Isolation at the smallest unit: a member that cannot be read (no id, a region that is
    not ``x,y,w,h``) is left out with a :class:`Defect`, and the other members are read; a
    metadata entry that cannot be read (an empty label, no value, an unknown shape) is
    skipped with a defect and its face kept; a selection that cannot be read (no ``within``,
    neither members nor canvases) fails alone. Raises DocumentError, naming ``url`` and the
    field, only when the document is not readable as a curation at all (no selections list).
    """
    doc = require_object(doc, url)
    if "selections" not in doc:
        raise DocumentError("is not a curation: it has no selections", url=url, field="/selections")
    selections = as_list(doc["selections"], url, "/selections")
    try:
        label, _lang = text_and_lang(doc.get("label"), url, "/label")
    except DocumentError:
        label = None  # a curation's own label is decoration: never a reason to refuse it
    defects: list[Defect] = []
    read: list[Selection] = []
    for index, item in enumerate(selections):
        field = join("/selections", index)
        try:
            read.append(_selection(item, url, field, defects))
        except DocumentError as exc:
            defects.append(_defect(exc, url, field, "selection_unreadable", "left_out"))
    return Curation(url=url, label=label, selections=tuple(read), defects=tuple(defects))


def _defect(
    exc: DocumentError,
    url: str,
    field: str,
    code: str,
    outcome: DefectOutcome,
    member_uri: str | None = None,
) -> Defect:
    return Defect(
        url=url,
        pointer=exc.field or field,
        code=code,
        reason=exc.reason,
        outcome=outcome,
        member_uri=member_uri,
    )


def _selection(item: object, url: str, field: str, defects: list[Defect]) -> Selection:
    node = as_dict(item, url, field)
    range_id = as_str(node.get("@id", node.get("id")), url, join(field, "@id"))
    if "members" not in node and "canvases" not in node:
        raise DocumentError(
            "a selection needs members or canvases", url=url, field=join(field, "members")
        )
    manifest_url, manifest_label = _within(node.get("within"), url, join(field, "within"))
    faces: list[CurationFace] = []
    whole: list[str] = []
    seen: set[str] = set()
    for key in ("members", "canvases"):
        for face, canvas in _entries(node, key, url, field, defects):
            if face is not None and face.member_uri not in seen:
                seen.add(face.member_uri)
                faces.append(face)
            elif canvas is not None and canvas not in whole:
                whole.append(canvas)
    try:
        label, _lang = text_and_lang(node.get("label"), url, join(field, "label"))
    except DocumentError:
        label = None
    return Selection(
        range_id=range_id,
        label=label,
        manifest_url=manifest_url,
        manifest_label=manifest_label,
        faces=tuple(faces),
        whole_canvases=tuple(whole),
    )


def _entries(
    node: Mapping[str, Any], key: str, url: str, field: str, defects: list[Defect]
) -> Iterable[tuple[CurationFace | None, str | None]]:
    """Each member or canvas as a face, or as a whole canvas (no region).

    A member that cannot be read is left out with a defect; the others are read.
    """
    if node.get(key) is None:
        return
    entries = as_list(node[key], url, join(field, key))
    for index, entry in enumerate(entries):
        where = join(field, key, index)
        try:
            yield _entry(entry, url, where, defects)
        except DocumentError as exc:
            defects.append(
                _defect(exc, url, where, "member_unreadable", "left_out", _member_id(entry))
            )


def _member_id(entry: object) -> str | None:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict):
        value = entry.get("@id", entry.get("id"))
        return value if isinstance(value, str) else None
    return None


def _within(value: object, url: str, field: str) -> tuple[str, str | None]:
    """The manifest a selection belongs to, and its label if the curation gives one."""
    if isinstance(value, str):
        return as_str(value, url, field), None
    if isinstance(value, dict):
        return _within_object(value, url, field)
    if isinstance(value, list) and value:
        index = _manifest_index(value)
        return _within(value[index], url, join(field, index))
    raise DocumentError(
        "a selection needs within: the manifest URL, a manifest object or an array holding one",
        url=url,
        field=field,
    )


def _within_object(value: dict[str, Any], url: str, field: str) -> tuple[str, str | None]:
    types = set(node_types(value))
    if types & CURATION_TYPES:
        raise DocumentError("within names a curation, not a manifest", url=url, field=field)
    manifest_url = node_id(value)
    if manifest_url is None:
        raise DocumentError("the manifest has no @id", url=url, field=join(field, "@id"))
    try:
        label, _lang = text_and_lang(value.get("label"), url, join(field, "label"))
    except DocumentError:
        label = None
    return manifest_url, label


def _manifest_index(values: list[Any]) -> int:
    """Which item of a ``within`` array is the manifest (not the parent curation)."""
    for index, item in enumerate(values):
        if isinstance(item, dict) and set(node_types(item)) & MANIFEST_TYPES:
            return index
    for index, item in enumerate(values):
        if isinstance(item, str) or (
            isinstance(item, dict) and not set(node_types(item)) & CURATION_TYPES
        ):
            return index
    return 0


def _entry(
    entry: object, url: str, field: str, defects: list[Defect]
) -> tuple[CurationFace | None, str | None]:
    node: dict[str, Any] = {}
    if isinstance(entry, str):
        member_uri = as_str(entry, url, field)
    else:
        node = as_dict(entry, url, field)
        member_uri = as_str(node.get("@id", node.get("id")), url, join(field, "@id"))
    canvas_uri, region = split_member_uri(member_uri, url, join(field, "@id"))
    if region is None:
        return None, canvas_uri
    try:
        label, _lang = text_and_lang(node.get("label"), url, join(field, "label"))
    except DocumentError:
        label = None  # the member's label is decoration; its metadata carries the labels
    pairs = _pairs(node.get("metadata"), url, join(field, "metadata"), member_uri, defects)
    face = CurationFace(
        member_uri=member_uri,
        canvas_uri=canvas_uri,
        region=region,
        label=label,
        pairs=pairs,
        pointer=field,
    )
    return face, None


def split_member_uri(member_uri: str, url: str, field: str) -> tuple[str, Box | None]:
    """Cut ``canvas#xywh=x,y,w,h`` into the canvas URI and the region (None if no xywh)."""
    canvas_uri, _hash, fragment = member_uri.partition("#")
    for part in fragment.split("&"):
        name, equals, value = part.partition("=")
        if equals and name.strip() == "xywh":
            return canvas_uri, parse_xywh(value, url, field)
    return canvas_uri, None


def parse_xywh(value: str, url: str, field: str) -> Box:
    """A media-fragment ``xywh`` value (``pixel:`` optional) as a Box of whole pixels.

    Decimal values are rounded; ``x`` and ``y`` may be negative (a region reaching past the
    page's top or left edge, as real ones do); ``percent:``, negative or empty sizes are
    DocumentErrors.
    """
    match = _XYWH.match(value.strip())
    if match is None:
        raise DocumentError(
            f"the region {value!r} is not xywh=x,y,w,h in pixels", url=url, field=field
        )
    try:
        x, y, w, h = (round(float(group)) for group in match.groups())
    except (OverflowError, ValueError) as exc:  # 1e400 pixels
        raise DocumentError(
            f"the region {value[:60]!r} has a number out of range", url=url, field=field
        ) from exc
    if w < 1 or h < 1:
        raise DocumentError(f"the region {value!r} is empty", url=url, field=field)
    return Box(x=x, y=y, w=w, h=h)


# --- metadata -----------------------------------------------------------------------------


def _pairs(
    value: object, url: str, field: str, member_uri: str, defects: list[Defect]
) -> tuple[Assertion, ...]:
    """The label/value pairs of a member; an entry that cannot be read is skipped.

    The face keeps its other labels and the skipped entry becomes a ``kept`` defect. An
    entry with an empty label (the official files' bare ``=``) is skipped the same way; an
    empty value under a real label is kept as upstream wrote it (``タグ=`` and ``制作年=``
    say "none", on most faces).
    """
    if value is None:
        return ()
    try:
        entries = as_list(value, url, field)
    except DocumentError as exc:
        defects.append(_defect(exc, url, field, "metadata_unreadable", "kept", member_uri))
        return ()
    pairs: list[Assertion] = []
    counts: dict[str, int] = {}
    for index, entry in enumerate(entries):
        where = join(field, index)
        try:
            values = _entry_values(entry, url, where)
        except _EmptyLabel as exc:
            defects.append(_defect(exc, url, where, "empty_label", "kept", member_uri))
            continue
        except DocumentError as exc:
            defects.append(_defect(exc, url, where, "metadata_unreadable", "kept", member_uri))
            continue
        for label, raw, agent in values:
            position = counts.get(label, 0)
            counts[label] = position + 1
            pairs.append(
                Assertion(
                    label=label,
                    raw_value=raw,
                    value=normalise_value(label, raw),
                    agent=agent,
                    position=position,
                )
            )
    return _keio_record_ids(tuple(pairs))


def _keio_record_ids(pairs: tuple[Assertion, ...]) -> tuple[Assertion, ...]:
    """Keio's older ``原典ID`` is a call number too (``132X@200@3@2``): restored like
    ``慶応義塾大学請求記号``, as the official import does, so both doors agree."""
    if not any(p.label == _HOLDER and p.value == _KEIO for p in pairs):
        return pairs
    return tuple(
        replace(p, value=p.value.replace("@", "-")) if p.label == _OLD_RECORD_KEY else p
        for p in pairs
    )


class _EmptyLabel(DocumentError):
    """A metadata entry whose label is empty: skipped, its face kept."""


def _entry_values(entry: object, url: str, field: str) -> list[tuple[str, str, Agent]]:
    """The (label, raw value, agent) triples of one metadata entry (arrays give several)."""
    node = as_dict(entry, url, field)
    label, _lang = text_and_lang(node.get("label"), url, join(field, "label"))
    if label is None or not label.strip():
        value = node.get("value")
        shown = f" (its value is {value!r})" if value not in (None, "") else ""
        raise _EmptyLabel(
            f"a metadata entry with an empty label{shown} is skipped; the face is kept",
            url=url,
            field=join(field, "label"),
        )
    label = label.strip()
    agent = _agent(node.get("agent"), url, join(field, "agent"))
    if "value" not in node:
        raise DocumentError(
            f"the metadata entry {label!r} has no value; it is skipped, the face kept",
            url=url,
            field=join(field, "value"),
        )
    raws = _values(node["value"], label, url, join(field, "value"))
    return [(label, raw, agent) for raw in raws]


def _agent(value: object, url: str, field: str) -> Agent:
    if value is None:
        return "human"
    if isinstance(value, str) and value.strip().lower() in ("human", "machine"):
        return "machine" if value.strip().lower() == "machine" else "human"
    raise DocumentError(f"agent must be human or machine, found {value!r}", url=url, field=field)


def _values(value: object, label: str, url: str, field: str) -> list[str]:
    """A metadata value as raw texts: one for a scalar, one per item of a plain array.

    An array of language-tagged values is one value in several languages (the preferred
    one is kept); ``oa:Annotation`` objects give their text bodies.
    """
    if value is None:
        return [""]
    if isinstance(value, list):
        if value and all(isinstance(item, dict) and "@value" in item for item in value):
            return [_text(value, url, field)]
        texts: list[str] = []
        for index, item in enumerate(value):
            texts.extend(_values(item, label, url, join(field, index)))
        return texts
    if isinstance(value, dict) and _is_annotation(value):
        return _annotation_texts(value, url, field)
    return [_text(value, url, field)]


def _text(value: object, url: str, field: str) -> str:
    text, _lang = text_and_lang(value, url, field)
    return text if text is not None else ""


def _is_annotation(node: Mapping[str, Any]) -> bool:
    types = {name.rsplit("#", 1)[-1].removeprefix("oa:") for name in node_types(node)}
    return "Annotation" in types or "resource" in node or "body" in node


def _annotation_texts(node: Mapping[str, Any], url: str, field: str) -> list[str]:
    """The text bodies of an annotation: ``resource.chars`` (v2) or ``body.value`` (v3)."""
    for key, text_key in (("resource", "chars"), ("body", "value")):
        bodies = node.get(key)
        if bodies is None:
            continue
        items = bodies if isinstance(bodies, list) else [bodies]
        texts = [_annotation_body_text(item, text_key, url, join(field, key)) for item in items]
        return [text for text in texts if text is not None]
    raise DocumentError(
        "an annotation value has no resource or body", url=url, field=join(field, "resource")
    )


def _annotation_body_text(item: object, text_key: str, url: str, field: str) -> str | None:
    if isinstance(item, str):
        return None  # a body that is only a link carries no text
    body = as_dict(item, url, field)
    for key in (text_key, "chars", "value", "@value"):
        text = body.get(key)
        if isinstance(text, str):
            return text
    return None


def normalise_value(label: str, raw: str) -> str:
    """The comparable form of a value: stripped, and Keio call numbers with ``-`` restored.

    The face collection writes Keio call numbers with ``@`` for ``-`` (``132X@200@3@2``).
    """
    value = raw.strip()
    if label == _KEIO_CALL_NUMBER:
        value = value.replace("@", "-")
    return value
