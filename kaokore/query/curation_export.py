"""Any query result as a IIIF curation: a ``cr:Curation`` or a Presentation 3 AnnotationPage.

Why: the IIIF Curation Viewer (and CODH's face board) open curations, so a set of faces a
historian found (warriors of 1600-1650, the nearest faces to one face) can be looked at
on the pages they come from, shared, and read back by ``kaokore ingest`` as the same faces.

The curation follows the Curation API 1.0 as CODH's face collection writes it: one
``sc:Range`` selection per manifest, ``within`` that manifest, ``members`` whose ``@id`` is
``canvas#xywh=x,y,w,h`` (canvas coordinates) and whose ``metadata`` are the face's current
labels as label/value pairs, in order, with ``agent: machine`` on machine labels.

Choice for faces without a canvas (known only from the official ``urls.txt``): a curation
member must be a canvas of a manifest, or the Curation Viewer cannot show it, so such faces
are left out of a curation and counted in :attr:`CurationExport.skipped`. The annotation
page has no such limit: it targets the image itself (the Image API ``full`` image with a
``#xywh=`` fragment in image pixels) when there is no canvas.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from kaokore.errors import ArgumentError
from kaokore.query.connect import DatabaseLike, using_database
from kaokore.query.faces import load_rows, select_faces
from kaokore.query.filters import FaceFilter
from kaokore.query.rows import FaceRow, Label

__all__ = [
    "CURATION_CONTEXT",
    "CurationExport",
    "ExportShape",
    "annotation_page",
    "canvas_region",
    "curation_document",
    "export_curation",
]

CURATION_CONTEXT: Final = [
    "http://iiif.io/api/presentation/2/context.json",
    "http://codh.rois.ac.jp/iiif/curation/1/context.json",
]
PRESENTATION3_CONTEXT: Final = "http://iiif.io/api/presentation/3/context.json"
ExportShape = Literal["curation", "annotation-page"]


@dataclass(frozen=True, kw_only=True, slots=True)
class CurationExport:
    """An exported document, how many faces it holds and how many could not be included."""

    document: dict[str, Any]
    faces: int
    skipped: int

    def to_json(self) -> str:
        return json.dumps(self.document, ensure_ascii=False, indent=2) + "\n"


def canvas_region(row: FaceRow) -> tuple[int, int, int, int] | None:
    """The face's region on its canvas: as the curation gave it, or the square scaled from
    image pixels to canvas coordinates (by ``canvas.width / image.width``, where known)."""
    if row.canvas_uri is None:
        return None
    if row.region is not None:
        return row.region
    x, y, w, h = row.square
    sx = sy = 1.0
    if row.canvas_width and row.image_width:
        sx = row.canvas_width / row.image_width
    if row.canvas_height and row.image_height:
        sy = row.canvas_height / row.image_height
    return round(x * sx), round(y * sy), max(1, round(w * sx)), max(1, round(h * sy))


def _metadata(labels: Sequence[Label]) -> list[dict[str, Any]]:
    """Label/value pairs in (label, position) order, without duplicates from two sources."""
    seen: set[tuple[str, str, str, int]] = set()
    entries: list[dict[str, Any]] = []
    for label in sorted(labels, key=lambda item: (item.label, item.position)):
        identity = (label.label, label.raw_value, label.agent, label.position)
        if not label.label.strip() or identity in seen:
            continue
        seen.add(identity)
        entry: dict[str, Any] = {"label": label.label, "value": label.raw_value}
        if label.agent != "human":
            entry["agent"] = label.agent
        entries.append(entry)
    return entries


def _default_id(rows: Sequence[FaceRow], kind: str) -> str:
    name = "\n".join(row.key for row in rows)
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'kaokore:{kind}:{name}')}"


def curation_document(
    rows: Sequence[FaceRow], *, curation_id: str | None = None, label: str = "kaokore faces"
) -> CurationExport:
    """A ``cr:Curation`` of ``rows`` (faces without a canvas and manifest are skipped)."""
    curation_id = curation_id or _default_id(rows, "curation")
    groups: dict[str, list[FaceRow]] = {}
    skipped = 0
    for row in rows:
        if row.canvas_uri is None or row.manifest_url is None:
            skipped += 1
            continue
        groups.setdefault(row.manifest_url, []).append(row)
    selections = []
    for index, (manifest, members) in enumerate(groups.items(), start=1):
        title = members[0].work
        within: dict[str, Any] = {"@id": manifest, "@type": "sc:Manifest"}
        if title:
            within["label"] = title
        selections.append(
            {
                "@id": f"{curation_id}/range/r{index}",
                "@type": "sc:Range",
                "label": title or f"Faces from {manifest}",
                "within": within,
                "members": [_member(row) for row in members],
            }
        )
    document = {
        "@context": list(CURATION_CONTEXT),
        "@type": "cr:Curation",
        "@id": curation_id,
        "label": label,
        "selections": selections,
    }
    return CurationExport(document=document, faces=len(rows) - skipped, skipped=skipped)


def _member(row: FaceRow) -> dict[str, Any]:
    region = canvas_region(row)
    assert region is not None and row.canvas_uri is not None
    return {
        "@id": "{}#xywh={},{},{},{}".format(row.canvas_uri, *region),
        "@type": "sc:Canvas",
        "label": _member_label(row),
        "metadata": _metadata(row.labels),
    }


def _member_label(row: FaceRow) -> str:
    parts = [part for part in (row.work, row.status, row.gender) if part]
    return f"face {row.face_id}" + (f" ({', '.join(parts)})" if parts else "")


def annotation_page(
    rows: Sequence[FaceRow], *, page_id: str | None = None, label: str = "kaokore faces"
) -> CurationExport:
    """A IIIF Presentation 3 ``AnnotationPage``: one ``Annotation`` per face, motivated by
    ``identifying``, its labels as ``TextualBody`` items (``purpose: tagging``) and its
    target the canvas region (``partOf`` the manifest) or the image region."""
    page_id = page_id or _default_id(rows, "annotation-page")
    items = []
    skipped = 0
    for row in rows:
        target = _page_target(row)
        if target is None:
            skipped += 1
            continue
        bodies = [
            {
                "type": "TextualBody",
                "purpose": "tagging",
                "value": entry["value"],
                "label": {"none": [entry["label"]]},
                **(
                    {"generator": {"id": "https://w3id.org/kaokore/ns#machine", "type": "Software"}}
                    if entry.get("agent") == "machine"
                    else {}
                ),
            }
            for entry in _metadata(row.labels)
            if entry["value"] != ""
        ]
        items.append(
            {
                "id": f"{page_id}/face/{row.face_id}",
                "type": "Annotation",
                "motivation": "identifying",
                "label": {"none": [_member_label(row)]},
                "body": bodies,
                "target": target,
            }
        )
    document = {
        "@context": PRESENTATION3_CONTEXT,
        "id": page_id,
        "type": "AnnotationPage",
        "label": {"none": [label]},
        "items": items,
    }
    return CurationExport(document=document, faces=len(items), skipped=skipped)


def _page_target(row: FaceRow) -> Any:
    region = canvas_region(row)
    if row.canvas_uri is not None and region is not None:
        target: dict[str, Any] = {
            "type": "SpecificResource",
            "source": {"id": row.canvas_uri, "type": "Canvas"},
            "selector": {
                "type": "FragmentSelector",
                "conformsTo": "http://www.w3.org/TR/media-frags/",
                "value": "xywh={},{},{},{}".format(*region),
            },
        }
        if row.manifest_url:
            target["source"]["partOf"] = [{"id": row.manifest_url, "type": "Manifest"}]
        return target
    if row.image_service is not None:
        return {
            "type": "SpecificResource",
            "source": {
                "id": f"{row.image_service}/full/max/0/default.jpg",
                "type": "Image",
                "service": [{"id": row.image_service, "type": "ImageService2"}],
            },
            "selector": {
                "type": "FragmentSelector",
                "conformsTo": "http://www.w3.org/TR/media-frags/",
                "value": "xywh={},{},{},{}".format(*row.square),
            },
        }
    return None


def export_curation(
    database: DatabaseLike,
    *,
    shape: ExportShape = "curation",
    out: Path | None = None,
    curation_id: str | None = None,
    label: str | None = None,
    limit: int | None = None,
    where: FaceFilter | None = None,
) -> CurationExport:
    """Export the faces matching ``where`` (as in :func:`kaokore.query.faces`) as a curation
    (``shape="curation"``) or a Presentation 3 annotation page; write ``out`` if given."""
    if shape not in ("curation", "annotation-page"):
        raise ArgumentError("shape", shape, "use curation or annotation-page")
    face_filter = where or FaceFilter()
    with using_database(database) as db, db.session() as session:
        rows = load_rows(session, select_faces(session, face_filter, limit=limit))
    title = label or f"kaokore: {face_filter.describe()}"
    if shape == "curation":
        result = curation_document(rows, curation_id=curation_id, label=title)
    else:
        result = annotation_page(rows, page_id=curation_id, label=title)
    if out is not None:
        Path(out).write_text(result.to_json(), encoding="utf-8")
    return result
