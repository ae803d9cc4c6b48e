"""Writing parsed curations into the database: works, canvases, services, faces, labels.

Why a module of its own: the same face can reach the database from a curation or from an
official file, so identity (the face key), the history of labels and deletions follow one
set of rules: this module turns the harvester's parsed curation into the typed records of
:mod:`kaokore.db.records` (no I/O), and :mod:`kaokore.db.bulk` writes them in bulk.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from kaokore.db.bulk import apply_document, retract_everything
from kaokore.db.models import Document, ImageService
from kaokore.db.records import (
    Assertion,
    CanvasRecord,
    DocumentLabels,
    FaceRecord,
    ServiceRecord,
    WorkRecord,
)
from kaokore.db.repository import upsert
from kaokore.ingest.geometry import centred_square, intersect, scale_to_image
from kaokore.ingest.identity import normalise_manifest_url, service_key
from kaokore.ingest.manifest import find_canvas
from kaokore.ingest.records import (
    Curation,
    CurationFace,
    Defect,
    ImageServiceInfo,
    Manifest,
    ManifestCanvas,
    Selection,
)
from kaokore.vocab import RECORD_ID_KEYS

__all__ = [
    "CurationOutcome",
    "curation_records",
    "retract_document",
    "store_curation",
    "store_service_info",
    "work_key",
]


@dataclass
class CurationOutcome:
    """What storing one curation changed, and the defects of the faces it met.

    ``defects`` are those only the store can see (a canvas the manifest lacks, a region
    outside its page): faces left out, or kept and flagged.
    """

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    defects: list[Defect] = field(default_factory=list)
    face_ids: list[int] = field(default_factory=list)


def work_key(manifest_url: str | None, pairs: tuple[Assertion, ...]) -> str:
    """A work's identity: ``record:{holder}:{record id}`` when the labels name them.

    The official files name works only by holder and record id, curations by manifest too;
    keying on the record makes both sources meet on one work row.
    """
    holder = next((p.value for p in pairs if p.label == "所蔵" and p.value), None)
    record = next((p.value for p in pairs if p.label in RECORD_ID_KEYS and p.value), None)
    if holder and record:
        return f"record:{holder}:{record}"
    if manifest_url:
        return normalise_manifest_url(manifest_url)
    raise ValueError("a work needs a manifest or a holder and record id")


def store_service_info(
    session: Session, info: ImageServiceInfo, document: Document | None
) -> ImageService:
    """Record what an info.json says about a service (size, level, limits)."""
    service: ImageService = upsert(
        session,
        ImageService,
        {"key": service_key(info.base_url)},
        {
            "base_url": info.base_url,
            "api_version": info.api_version,
            "level": info.level,
            "width": info.width,
            "height": info.height,
            "max_width": info.max_width,
            "max_height": info.max_height,
            "max_area": info.max_area,
            "sizes_json": [list(size) for size in info.sizes] or None,
            "tiles_json": [
                {"width": t.width, "height": t.height, "scaleFactors": list(t.scale_factors)}
                for t in info.tiles
            ]
            or None,
            "info_document_id": document.id if document is not None else None,
        },
    )
    return service


def _image_size(canvas: ManifestCanvas, info: ImageServiceInfo | None) -> tuple[int, int]:
    if info is not None:
        return info.width, info.height
    if canvas.image_width and canvas.image_height:
        return canvas.image_width, canvas.image_height
    return canvas.width, canvas.height


def store_curation(
    session: Session,
    *,
    curation: Curation,
    document: Document,
    manifests: dict[str, Manifest],
    infos: dict[str, ImageServiceInfo],
    now: dt.datetime,
    max_faces: int | None = None,
) -> CurationOutcome:
    """Store every face of ``curation`` whose manifest is in ``manifests``.

    The curation becomes typed records (:func:`curation_records`, no I/O) applied in bulk by
    :func:`kaokore.db.bulk.apply_document`. Faces this document asserted before and no
    longer lists lose this document's labels, and are flagged deleted when no source labels
    them any more.
    """
    session.flush()
    batch, defects = curation_records(
        curation=curation,
        document_id=document.id,
        document_url=document.url,
        manifests=manifests,
        infos=infos,
        now=now,
        max_faces=max_faces,
    )
    result = apply_document(session.connection(), batch)
    session.expire_all()  # rows changed under the session: read them afresh
    return CurationOutcome(
        new=result.new,
        updated=result.updated,
        unchanged=result.unchanged,
        deleted=result.deleted,
        defects=defects,
        face_ids=result.face_ids,
    )


def curation_records(
    *,
    curation: Curation,
    document_id: int,
    document_url: str,
    manifests: dict[str, Manifest],
    infos: dict[str, ImageServiceInfo],
    now: dt.datetime,
    max_faces: int | None = None,
) -> tuple[DocumentLabels, list[Defect]]:
    """The records a curation states, and the defects of its faces (left out or kept). Pure."""
    works: dict[str, WorkRecord] = {}
    canvases: dict[str, CanvasRecord] = {}
    services: dict[str, ServiceRecord] = {}
    faces: dict[str, FaceRecord] = {}
    defects: list[Defect] = []
    services_by_url: dict[str, ServiceRecord] = {}
    complete = True
    for selection in curation.selections:
        manifest = manifests.get(selection.manifest_url)
        if manifest is None:
            complete = False
            continue
        for face in selection.faces:
            if max_faces is not None and len(faces) >= max_faces:
                complete = False
                break
            record = _face_records(
                selection,
                face,
                manifest,
                infos,
                works,
                canvases,
                services,
                defects,
                document_url,
                services_by_url,
            )
            if record is not None:
                faces.setdefault(record.key, record)
    batch = DocumentLabels(
        document_id=document_id,
        now=now,
        works=tuple(works.values()),
        canvases=tuple(canvases.values()),
        services=tuple(services.values()),
        faces=tuple(faces.values()),
        complete=complete,
    )
    return batch, defects


def _face_records(
    selection: Selection,
    face: CurationFace,
    manifest: Manifest,
    infos: dict[str, ImageServiceInfo],
    works: dict[str, WorkRecord],
    canvases: dict[str, CanvasRecord],
    services: dict[str, ServiceRecord],
    defects: list[Defect],
    document_url: str,
    services_by_url: dict[str, ServiceRecord],
) -> FaceRecord | None:
    def defect(code: str, reason: str, *, kept: bool = False) -> None:
        defects.append(
            Defect(
                url=document_url,
                pointer=face.pointer,
                code=code,
                reason=reason if kept else f"{reason}; the face is left out",
                outcome="kept" if kept else "left_out",
                member_uri=face.member_uri,
            )
        )

    canvas = find_canvas(manifest, face.canvas_uri)
    if canvas is None:
        defect("canvas_not_found", f"canvas not found in {manifest.url}")
        return None
    if canvas.service is None:
        defect("no_image_service", f"{canvas.uri} has no image service")
        return None
    info = infos.get(canvas.service.base_url)
    image_w, image_h = _image_size(canvas, info)
    region = face.region
    page = f"the {canvas.width}x{canvas.height} page"
    if intersect(region, canvas.width, canvas.height) is None:
        defect("region_outside", f"region {region.iiif} lies outside {page}")
        return None
    scaled = scale_to_image(region, canvas.width, canvas.height, image_w, image_h)
    square = centred_square(scaled)
    # Cut at the image's edge, as the Image API does for a region reaching past it; the
    # crop stage resizes the cut to the square output (see kaokore.ingest.geometry).
    cut = intersect(square, image_w, image_h) or square
    if intersect(region, canvas.width, canvas.height) != region:
        reason = (
            f"region {region.iiif} reaches past the edge of {page}: kept, cut at the edge "
            "and resized to the square"
        )
        defect("region_partly_outside", reason, kept=True)
    work = work_key(manifest.url, face.pairs)
    works.setdefault(
        work,
        WorkRecord(
            key=work,
            values={
                "manifest_url": manifest.url,
                "iiif_version": manifest.iiif_version,
                "label": _work_title(face.pairs) or manifest.label or selection.manifest_label,
                "label_lang": manifest.label_lang,
                "holder": next((p.value for p in face.pairs if p.label == "所蔵"), None),
                "record_id": next((p.value for p in face.pairs if p.label in RECORD_ID_KEYS), None),
                "license": manifest.license,
                "attribution": manifest.attribution,
                "metadata_json": [
                    {"label": m.label, "value": m.value, "lang": m.lang} for m in manifest.metadata
                ]
                or None,
            },
        ),
    )
    canvases.setdefault(
        canvas.uri,
        CanvasRecord(
            uri=canvas.uri,
            work_key=work,
            values={
                "label": canvas.label,
                "width": canvas.width,
                "height": canvas.height,
                "position": canvas.position,
            },
        ),
    )
    known = services_by_url.get(canvas.service.base_url)
    skey = known.key if known is not None else service_key(canvas.service.base_url)
    services.setdefault(
        skey,
        ServiceRecord(
            key=skey,
            base_url=canvas.service.base_url,
            canvas_uri=canvas.uri,
            values={
                "api_version": canvas.service.api_version,
                "level": canvas.service.level if info is None else info.level,
                "width": image_w,
                "height": image_h,
            },
        ),
    )
    services_by_url.setdefault(canvas.service.base_url, services[skey])
    return FaceRecord(
        key=f"{skey}#{square.x},{square.y},{square.w},{square.h}",
        service_key=skey,
        work_key=work,
        canvas_uri=canvas.uri,
        values={
            "member_uri": face.member_uri,
            "region_x": region.x,
            "region_y": region.y,
            "region_w": region.w,
            "region_h": region.h,
            "square_x": cut.x,
            "square_y": cut.y,
            "square_w": cut.w,
            "square_h": cut.h,
            "range_id": selection.range_id,
            "range_label": selection.label,
        },
        assertions=face.pairs,
    )


def _work_title(pairs: tuple[Assertion, ...]) -> str | None:
    return next((p.value for p in pairs if p.label == "原典" and p.value), None)


def retract_document(session: Session, document: Document, now: dt.datetime) -> int:
    """A curation deleted upstream: withdraw its faces' labels; return faces flagged deleted."""
    document.status = "deleted"
    document.fetched_at = now
    session.flush()
    deleted = retract_everything(session.connection(), document.id, now)
    session.expire_all()
    return deleted
