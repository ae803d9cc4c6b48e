"""IIIF Presentation manifests, 2.1 and 3.0, read into one model.

A face's ``#xywh=`` is in canvas coordinates, so the harvester needs each canvas's size and
the image service painted on it (with the image's own size where the manifest gives it,
since the two can differ). Both versions become :class:`~kaokore.ingest.records.Manifest`:

* 2.1: ``sequences[0].canvases[]``, each ``images[0].resource`` (an ``oa:Choice`` gives its
  ``default``) with ``service`` (object or array; ``@id``, ``profile``, ``@context``);
* 3.0: ``items[]`` canvases -> AnnotationPage -> painting Annotation -> ``body`` (a
  ``SpecificResource`` gives its ``source`` and an ``ImageApiSelector`` region; a ``Choice``
  its first item) with ``service`` of type ``ImageService2``/``ImageService3``, ``id`` or
  ``@id``.

Language maps are flattened keeping the language (ja, then untagged, then en, then the
first); HTML in values is kept as given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from kaokore.box import Box
from kaokore.errors import DocumentError
from kaokore.ingest.curation import MANIFEST_TYPES
from kaokore.ingest.jsonld import (
    as_dict,
    as_int,
    as_list,
    as_str,
    context_urls,
    join,
    node_id,
    node_types,
    require_object,
    text_and_lang,
)
from kaokore.ingest.records import ApiVersion, Manifest, ManifestCanvas, MetadataPair, ServiceRef

__all__ = ["find_canvas", "parse_manifest", "parse_service_ref"]

_LEVEL: Final = re.compile(r"level([0-2])(?:\.json)?$")
_IMAGE_API_MARKERS: Final = ("iiif.io/api/image/", "library.stanford.edu/iiif/image-api")


def parse_manifest(doc: Mapping[str, Any], url: str) -> Manifest:
    """Read a Presentation 2.1 or 3.0 manifest fetched from ``url``.

    Raises DocumentError naming ``url`` and the field for a document that is not a
    manifest (an AnnotationPage, a collection), has no canvases list, or has a canvas
    without an id or a size.
    """
    doc = require_object(doc, url)
    version = _presentation_version(doc, url)
    _check_type(doc, url, "/@type" if version == "2" else "/type")
    label, label_lang = text_and_lang(doc.get("label"), url, "/label")
    canvases = _canvases_v2(doc, url) if version == "2" else _canvases_v3(doc, url)
    return Manifest(
        url=url,
        iiif_version=version,
        label=label,
        label_lang=label_lang,
        metadata=tuple(_metadata(doc.get("metadata"), url, "/metadata")),
        license=_license(doc, url),
        attribution=_attribution(doc, url),
        canvases=tuple(canvases),
    )


def _presentation_version(doc: Mapping[str, Any], url: str) -> ApiVersion:
    """2 or 3, from the context; from the shape where the context does not say."""
    contexts = " ".join(context_urls(doc))
    if "iiif.io/api/presentation/3" in contexts:
        return "3"
    if "iiif.io/api/presentation/2" in contexts:
        return "2"
    if "sequences" in doc:
        return "2"
    if "items" in doc:
        return "3"
    raise DocumentError(
        "is not a IIIF manifest: no Presentation context, sequences or items",
        url=url,
        field="/@context",
    )


def _check_type(doc: Mapping[str, Any], url: str, field: str) -> None:
    types = node_types(doc)
    if types and not set(types) & MANIFEST_TYPES:
        raise DocumentError(f"is not a manifest but {', '.join(types)}", url=url, field=field)


# --- canvases -----------------------------------------------------------------------------


def _canvases_v2(doc: Mapping[str, Any], url: str) -> Iterable[ManifestCanvas]:
    if "sequences" not in doc:
        raise DocumentError("a 2.1 manifest needs sequences", url=url, field="/sequences")
    sequences = as_list(doc["sequences"], url, "/sequences")
    if not sequences:
        raise DocumentError("a 2.1 manifest needs a sequence", url=url, field="/sequences/0")
    sequence = as_dict(sequences[0], url, "/sequences/0")
    field = "/sequences/0/canvases"
    for position, item in enumerate(as_list(sequence.get("canvases"), url, field)):
        yield _canvas_v2(item, position, url, join(field, position))


def _canvas_v2(item: object, position: int, url: str, field: str) -> ManifestCanvas:
    canvas = as_dict(item, url, field)
    resource, resource_field = _resource_v2(canvas, url, field)
    return _canvas(
        canvas,
        position,
        url,
        field,
        id_key="@id",
        body=resource,
        body_field=resource_field,
        region=None,
    )


def _resource_v2(
    canvas: Mapping[str, Any], url: str, field: str
) -> tuple[dict[str, Any] | None, str]:
    """The image resource painted on a 2.1 canvas (``images[0].resource``), if any."""
    images = canvas.get("images")
    if not images:
        return None, field
    images_field = join(field, "images")
    image = as_dict(as_list(images, url, images_field)[0], url, join(images_field, 0))
    resource_field = join(images_field, 0, "resource")
    resource = as_dict(image.get("resource"), url, resource_field)
    if "oa:Choice" in node_types(resource) and isinstance(resource.get("default"), dict):
        return resource["default"], join(resource_field, "default")
    return resource, resource_field


def _canvases_v3(doc: Mapping[str, Any], url: str) -> Iterable[ManifestCanvas]:
    if "items" not in doc:
        hint = " (it has 2.1 sequences under a 3.0 context)" if "sequences" in doc else ""
        raise DocumentError(f"a 3.0 manifest needs items{hint}", url=url, field="/items")
    for position, item in enumerate(as_list(doc["items"], url, "/items")):
        yield _canvas_v3(item, position, url, join("/items", position))


def _canvas_v3(item: object, position: int, url: str, field: str) -> ManifestCanvas:
    canvas = as_dict(item, url, field)
    types = node_types(canvas)
    if types and "Canvas" not in types:
        raise DocumentError(
            f"expected a Canvas, found {', '.join(types)}", url=url, field=join(field, "type")
        )
    body, body_field = _painting_body(canvas, url, field)
    region = None
    if body is not None and "SpecificResource" in node_types(body):
        region = _selector_region(body, url, body_field)
        source = body.get("source")
        body_field = join(body_field, "source")
        body = source if isinstance(source, dict) else None
    if body is not None and "Choice" in node_types(body) and body.get("items"):
        items_field = join(body_field, "items")
        body_field = join(items_field, 0)
        body = as_dict(as_list(body["items"], url, items_field)[0], url, body_field)
    return _canvas(
        canvas, position, url, field, id_key="id", body=body, body_field=body_field, region=region
    )


def _painting_body(
    canvas: Mapping[str, Any], url: str, field: str
) -> tuple[dict[str, Any] | None, str]:
    """The body of the first painting annotation of a 3.0 canvas, if it has one."""
    pages = canvas.get("items")
    if not pages:
        return None, field
    page_field = join(field, "items", 0)
    page = as_dict(as_list(pages, url, join(field, "items"))[0], url, page_field)
    annotations = as_list(page.get("items", []), url, join(page_field, "items"))
    for index, item in enumerate(annotations):
        anno_field = join(page_field, "items", index)
        annotation = as_dict(item, url, anno_field)
        if annotation.get("motivation", "painting") not in ("painting", "sc:painting"):
            continue
        body = annotation.get("body")
        body_field = join(anno_field, "body")
        if isinstance(body, list):
            body, body_field = (body[0], join(body_field, 0)) if body else (None, body_field)
        return (as_dict(body, url, body_field) if body is not None else None), body_field
    return None, field


def _selector_region(body: Mapping[str, Any], url: str, field: str) -> Box | None:
    """The image region an ``ImageApiSelector`` paints (``x,y,w,h``); None otherwise."""
    selectors = body.get("selector")
    for selector in selectors if isinstance(selectors, list) else [selectors]:
        if isinstance(selector, dict) and "ImageApiSelector" in node_types(selector):
            region = selector.get("region")
            if isinstance(region, str) and region.count(",") == 3:
                try:
                    x, y, w, h = (int(part) for part in region.split(","))
                except ValueError:
                    raise DocumentError(
                        f"the selector region {region!r} is not x,y,w,h",
                        url=url,
                        field=join(field, "selector", "region"),
                    ) from None
                return Box(x=x, y=y, w=w, h=h)
    return None


def _canvas(
    canvas: Mapping[str, Any],
    position: int,
    url: str,
    field: str,
    *,
    id_key: str,
    body: Mapping[str, Any] | None,
    body_field: str,
    region: Box | None,
) -> ManifestCanvas:
    uri = as_str(canvas.get(id_key, canvas.get("id", canvas.get("@id"))), url, join(field, id_key))
    label, _lang = text_and_lang(canvas.get("label"), url, join(field, "label"))
    service = None
    image_width = image_height = None
    if body is not None:
        service = _body_service(body, url, body_field)
        image_width = _optional_size(body, "width", url, body_field)
        image_height = _optional_size(body, "height", url, body_field)
    return ManifestCanvas(
        uri=uri,
        label=label,
        width=as_int(canvas.get("width"), url, join(field, "width")),
        height=as_int(canvas.get("height"), url, join(field, "height")),
        position=position,
        service=service,
        image_width=image_width,
        image_height=image_height,
        image_region=region,
    )


def _optional_size(node: Mapping[str, Any], key: str, url: str, field: str) -> int | None:
    value = node.get(key)
    return None if value is None else as_int(value, url, join(field, key))


def _body_service(body: Mapping[str, Any], url: str, field: str) -> ServiceRef | None:
    value = body.get("service")
    candidates = value if isinstance(value, list) else [value]
    for index, candidate in enumerate(candidates):
        if isinstance(candidate, dict):
            where = (
                join(field, "service", index) if isinstance(value, list) else join(field, "service")
            )
            ref = parse_service_ref(candidate, url, where)
            if ref is not None:
                return ref
    return None


def parse_service_ref(node: Mapping[str, Any], url: str, field: str) -> ServiceRef | None:
    """An Image API service reference, or None if ``node`` is another kind of service.

    The version comes from the type (``ImageService2``/``3``), the context, or the profile
    (a ``.../image/2/levelN.json`` URI is 2; a bare ``levelN`` is 3); the level from the
    profile. Either stays None where the reference does not say.
    """
    types = node_types(node)
    contexts = " ".join(context_urls(node))
    profile = _profile_name(node.get("profile"))
    image_types = [name for name in types if name.startswith("ImageService")]
    is_image = (
        bool(image_types)
        or any(
            marker in text for marker in _IMAGE_API_MARKERS for text in (contexts, profile or "")
        )
        or bool(profile and _LEVEL.fullmatch(profile))
    )
    if not is_image:
        return None
    base = node_id(node)
    if base is None:
        raise DocumentError("the image service has no id", url=url, field=join(field, "@id"))
    return ServiceRef(
        base_url=_service_base(base),
        api_version=_service_version(image_types, contexts, profile),
        level=_level(profile),
    )


def _profile_name(profile: object) -> str | None:
    """The profile URI or name (2.1 allows an array whose first string is the URI)."""
    values = profile if isinstance(profile, list) else [profile]
    return next((value for value in values if isinstance(value, str)), None)


def _service_version(
    image_types: list[str], contexts: str, profile: str | None
) -> ApiVersion | None:
    if "ImageService3" in image_types or "iiif.io/api/image/3" in contexts:
        return "3"
    if "ImageService2" in image_types or "iiif.io/api/image/2" in contexts:
        return "2"
    if profile and "iiif.io/api/image/2/" in profile:
        return "2"
    if profile and profile.startswith("level"):
        return "3"
    return None


def _level(profile: str | None) -> int | None:
    if profile is None:
        return None
    match = _LEVEL.search(profile)
    return int(match.group(1)) if match else None


def _service_base(base: str) -> str:
    """The service's base URL as given, less a trailing slash or ``/info.json``."""
    base = base.strip()
    base = base.removesuffix("/info.json")
    return base.rstrip("/")


# --- descriptive properties ---------------------------------------------------------------


def _metadata(value: object, url: str, field: str) -> Iterable[MetadataPair]:
    if value is None:
        return
    for index, entry in enumerate(as_list(value, url, field)):
        entry_field = join(field, index)
        node = as_dict(entry, url, entry_field)
        label, _lang = text_and_lang(node.get("label"), url, join(entry_field, "label"))
        text, lang = text_and_lang(node.get("value"), url, join(entry_field, "value"))
        if label is None:
            raise DocumentError(
                "a metadata entry needs a label", url=url, field=join(entry_field, "label")
            )
        yield MetadataPair(label=label, value=text or "", lang=lang)


def _license(doc: Mapping[str, Any], url: str) -> str | None:
    """2.1 ``license`` (a URL or an array of them: the first) or 3.0 ``rights``."""
    for key in ("rights", "license"):
        value = doc.get(key)
        values = value if isinstance(value, list) else [value]
        found = [item for item in values if isinstance(item, str) and item.strip()]
        if found:
            return found[0].strip()
        if value is not None:
            raise DocumentError("expected a licence URL", url=url, field=f"/{key}")
    return None


def _attribution(doc: Mapping[str, Any], url: str) -> str | None:
    """2.1 ``attribution``, or the value of 3.0 ``requiredStatement``."""
    if doc.get("attribution") is not None:
        text, _lang = text_and_lang(doc["attribution"], url, "/attribution")
        return text
    statement = doc.get("requiredStatement")
    if statement is None:
        return None
    node = as_dict(statement, url, "/requiredStatement")
    text, _lang = text_and_lang(node.get("value"), url, "/requiredStatement/value")
    return text


# --- lookup -------------------------------------------------------------------------------


def find_canvas(manifest: Manifest, canvas_uri: str) -> ManifestCanvas | None:
    """The canvas a curation member names, matched exactly after cutting the fragment.

    Never by prefix (``.../page1`` must not match ``.../page10``). Where no id matches
    exactly, one that differs only in scheme or a ``www.`` host prefix is accepted: the
    curation and manifest hosts disagree on these (``dl.ndl.go.jp``/``www.dl.ndl.go.jp``).
    """
    wanted = canvas_uri.split("#", 1)[0]
    for canvas in manifest.canvases:
        if canvas.uri == wanted:
            return canvas
    loose = _loose(wanted)
    matches = [canvas for canvas in manifest.canvases if _loose(canvas.uri) == loose]
    return matches[0] if len(matches) == 1 else None


def _loose(uri: str) -> str:
    parts = urlsplit(uri)
    host = parts.netloc.lower().removeprefix("www.")
    query = f"?{parts.query}" if parts.query else ""
    return f"{host}{parts.path}{query}"
