"""Reading JSON-LD values, and expanding documents against vendored contexts only.

Two jobs live here because every reader needs the first and the second must never touch
the network:

* small accessors for the shapes IIIF and Activity Streams documents share: ``@id`` or
  ``id``, ``@type`` or ``type``, plain or language-tagged text, and JSON-pointer paths for
  error messages;
* :func:`expand`, a JSON-LD expansion whose document loader (:func:`offline_loader`) serves
  the contexts copied into ``contexts/`` and refuses every other URL. The CODH hosts have long
  outages and the CODH curation context is not published at all, so kaokore never
  dereferences a context: a plain expansion of a curation against the IIIF v2 context alone
  silently drops ``selections``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from pyld import jsonld
from pyld.context_resolver import ContextResolver

from kaokore.errors import DocumentError

__all__ = [
    "require_object",
    "CONTEXT_FILES",
    "as_dict",
    "as_int",
    "as_list",
    "as_str",
    "context_urls",
    "expand",
    "join",
    "node_id",
    "node_types",
    "offline_loader",
    "pick_text",
    "text_and_lang",
]

#: Canonical context URL (without scheme) -> vendored file in ``kaokore/ingest/contexts``.
CONTEXT_FILES: dict[str, str] = {
    "iiif.io/api/presentation/2/context.json": "presentation2.json",
    "iiif.io/api/presentation/3/context.json": "presentation3.json",
    "iiif.io/api/image/2/context.json": "image2.json",
    "iiif.io/api/image/3/context.json": "image3.json",
    "www.w3.org/ns/activitystreams": "activitystreams.json",
    "www.w3.org/ns/activitystreams.jsonld": "activitystreams.json",
    "codh.rois.ac.jp/iiif/curation/1/context.json": "curation1.json",
}

#: Language preference when a value is given in several: Japanese, untagged, English.
_LANGUAGE_ORDER: tuple[str | None, ...] = ("ja", None, "en")


# --- paths and plain accessors ------------------------------------------------------------


def join(field: str, *parts: str | int) -> str:
    """Extend a JSON-pointer-like path (``""`` is the root) with keys or indices."""
    escaped = (str(part).replace("~", "~0").replace("/", "~1") for part in parts)
    return field + "".join(f"/{part}" for part in escaped)


def _fail(message: str, url: str, field: str) -> DocumentError:
    return DocumentError(message, url=url, field=field or "/")


def as_dict(value: object, url: str, field: str) -> dict[str, Any]:
    """Return ``value`` if it is a JSON object, else raise a DocumentError at ``field``."""
    if not isinstance(value, dict):
        raise _fail(f"expected an object, found {_kind(value)}", url, field)
    return value


def as_list(value: object, url: str, field: str) -> list[Any]:
    """Return ``value`` if it is a JSON array, else raise a DocumentError at ``field``."""
    if not isinstance(value, list):
        raise _fail(f"expected an array, found {_kind(value)}", url, field)
    return value


def as_str(value: object, url: str, field: str) -> str:
    """Return ``value`` if it is a non-empty string, else raise a DocumentError."""
    if not isinstance(value, str) or not value.strip():
        raise _fail(f"expected a non-empty string, found {_kind(value)}", url, field)
    return value


def as_int(value: object, url: str, field: str, *, minimum: int = 1) -> int:
    """Return a whole number (also given as ``1200.0`` or ``"1200"``) of at least ``minimum``.

    Real manifests carry sizes as floats or strings now and then; anything that is not a
    whole number is a malformed document.
    """
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    if number is None:
        raise _fail(f"expected a whole number, found {_kind(value)}", url, field)
    if number < minimum:
        raise _fail(f"expected a number of at least {minimum}, found {number}", url, field)
    return number


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return f"the string {value[:60]!r}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    return "an array" if isinstance(value, list) else "an object"


def node_id(value: object) -> str | None:
    """The URL a reference names: a string itself, or an object's ``id``/``@id``."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        for key in ("@id", "id"):
            found = value.get(key)
            if isinstance(found, str) and found.strip():
                return found.strip()
    return None


def require_object(doc: object, url: str) -> Mapping[str, Any]:
    """``doc`` if it is a JSON object; a DocumentError for an array, a number, null ..."""
    if not isinstance(doc, Mapping):
        raise DocumentError(
            f"expected a JSON object, found {type(doc).__name__}", url=url, field="/"
        )
    return doc


def node_types(node: Mapping[str, Any]) -> tuple[str, ...]:
    """The types of a node (``@type`` and ``type``, string or array), in document order."""
    found: list[str] = []
    for key in ("@type", "type"):
        value = node.get(key)
        values = value if isinstance(value, list) else [value]
        found.extend(item for item in values if isinstance(item, str))
    return tuple(found)


def context_urls(doc: Mapping[str, Any]) -> tuple[str, ...]:
    """The context URLs a document names in ``@context`` (inline contexts are skipped)."""
    value = doc.get("@context")
    values = value if isinstance(value, list) else [value]
    return tuple(item for item in values if isinstance(item, str))


# --- text in its many shapes --------------------------------------------------------------


def text_and_lang(value: object, url: str, field: str) -> tuple[str | None, str | None]:
    """Read a label or value given as any IIIF text shape; return ``(text, language)``.

    Accepted: a string; a number; ``{"@value", "@language"}``; an array of those (the
    preferred language wins, several untagged strings are joined with ``"; "``); a
    Presentation 3 language map ``{"ja": ["..."], "none": ["..."]}``. None gives
    ``(None, None)``. Anything else is a DocumentError at ``field``.
    """
    if value is None:
        return None, None
    candidates = _candidates(value, url, field)
    if not candidates:
        return None, None
    return pick_text(candidates)


def _candidates(value: object, url: str, field: str) -> list[tuple[str | None, str]]:
    """Flatten a text value into ``(language, text)`` candidates, in document order."""
    if isinstance(value, str):
        return [(None, value)]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [(None, _number_text(value))]
    if isinstance(value, list):
        found: list[tuple[str | None, str]] = []
        for index, item in enumerate(value):
            found.extend(_candidates(item, url, join(field, index)))
        return found
    if isinstance(value, dict):
        if "@value" in value:
            return _tagged(value, url, field)
        return _language_map(value, url, field)
    raise _fail(f"expected text, found {_kind(value)}", url, field)


def _tagged(value: dict[str, Any], url: str, field: str) -> list[tuple[str | None, str]]:
    text = value["@value"]
    if isinstance(text, int | float) and not isinstance(text, bool):
        text = _number_text(text)
    if not isinstance(text, str):
        raise _fail(f"expected text in @value, found {_kind(text)}", url, join(field, "@value"))
    lang = value.get("@language")
    return [(_language(lang), text)]


def _language_map(value: dict[str, Any], url: str, field: str) -> list[tuple[str | None, str]]:
    found: list[tuple[str | None, str]] = []
    for lang, texts in value.items():
        items = texts if isinstance(texts, list) else [texts]
        for index, text in enumerate(items):
            if not isinstance(text, str):
                where = join(field, lang, index) if isinstance(texts, list) else join(field, lang)
                raise _fail(f"expected text in a language map, found {_kind(text)}", url, where)
            found.append((_language(lang), text))
    return found


def _language(lang: object) -> str | None:
    if not isinstance(lang, str) or lang in ("", "none", "@none"):
        return None
    return lang


def _number_text(number: int | float) -> str:
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return str(number)


def pick_text(candidates: list[tuple[str | None, str]]) -> tuple[str, str | None]:
    """Choose one language (ja, then untagged, then en, then the first) and join its texts."""
    languages = [lang for lang, _text in candidates]
    chosen = next((lang for lang in _LANGUAGE_ORDER if lang in languages), languages[0])
    texts = [text for lang, text in candidates if lang == chosen]
    return "; ".join(texts), chosen


# --- offline JSON-LD expansion ------------------------------------------------------------


def _context_key(url: str) -> str:
    """The lookup key of a context URL: no scheme, no fragment, no trailing slash."""
    bare = url.split("#", 1)[0].strip()
    for scheme in ("https://", "http://"):
        if bare.startswith(scheme):
            bare = bare[len(scheme) :]
            break
    return bare.rstrip("/")


@cache
def _vendored(filename: str) -> str:
    """The text of a vendored context (read once; callers parse their own copy)."""
    return resources.files("kaokore.ingest").joinpath("contexts", filename).read_text("utf-8")


def offline_loader(url: str, options: object = None) -> dict[str, Any]:
    """A pyld document loader that serves vendored contexts and never fetches.

    Any URL that is not one of :data:`CONTEXT_FILES` (http or https) raises a
    DocumentError naming it, so an expansion fails loudly instead of reaching the network.
    """
    filename = CONTEXT_FILES.get(_context_key(url))
    if filename is None:
        raise DocumentError(
            "is not a vendored JSON-LD context; kaokore never fetches contexts. "
            f"Known contexts: {', '.join(sorted(CONTEXT_FILES))}",
            url=url,
            field="/@context",
        )
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": json.loads(_vendored(filename)),
    }


def expand(doc: Mapping[str, Any], url: str) -> list[dict[str, Any]]:
    """Expand ``doc`` (fetched from ``url``) with vendored contexts only.

    The loader is passed per call (never installed globally), with a private context cache,
    so no other pyld user in the process can change what kaokore's expansion sees. A context
    that is not vendored, or a document pyld rejects, raises a DocumentError for ``url``.
    """
    options = {
        "base": url,
        "documentLoader": offline_loader,
        "contextResolver": ContextResolver({}, offline_loader),
    }
    try:
        expanded = jsonld.expand(dict(doc), options)
    except jsonld.JsonLdError as exc:
        cause = _document_error_in(exc)
        if cause is not None:
            raise DocumentError(
                f"uses the context {cause.url}, which is not vendored; kaokore never "
                "fetches contexts",
                url=url,
                field="/@context",
            ) from exc
        raise DocumentError(f"is not valid JSON-LD: {exc.args[0]}", url=url, field="/") from exc
    return list(expanded)


def _document_error_in(exc: BaseException) -> DocumentError | None:
    """The DocumentError the offline loader raised, somewhere in an exception's chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, DocumentError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
