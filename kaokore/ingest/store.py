"""Writing parsed curations into the database: works, canvases, services, faces, labels.

Why a module of its own: the same face can reach the database from a curation or from an
official file, so identity (the face key), the history of labels and deletions follow one
set of rules (:mod:`kaokore.db.repository`); this module maps the harvester's records onto
them. It does no I/O beyond the session it is given.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kaokore.db.models import Annotation, Canvas, Document, Face, ImageService, Work
from kaokore.db.repository import Assertion, sync_annotations, upsert
from kaokore.ingest.geometry import centred_square, intersect, scale_to_image
from kaokore.ingest.identity import face_key, normalise_manifest_url, service_key
from kaokore.ingest.manifest import find_canvas
from kaokore.ingest.records import (
    Curation,
    CurationFace,
    Defect,
    ImageServiceInfo,
    LabelValue,
    Manifest,
    ManifestCanvas,
    Selection,
)
from kaokore.vocab import RECORD_ID_KEYS

__all__ = [
    "CurationOutcome",
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


def work_key(manifest_url: str | None, pairs: tuple[LabelValue, ...]) -> str:
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


def assertions_of(pairs: tuple[LabelValue, ...]) -> list[Assertion]:
    return [
        Assertion(
            label=p.label, raw_value=p.raw_value, value=p.value, agent=p.agent, position=p.position
        )
        for p in pairs
    ]


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

    Faces this document asserted before and no longer lists lose this document's labels,
    and are flagged deleted when no source asserts anything about them any more.
    """
    outcome = CurationOutcome()
    seen: dict[str, Face] = {}
    complete = True
    rows: dict[tuple[str, str], Any] = {}
    preload = _Preloaded.of(session, document)
    for selection in curation.selections:
        manifest = manifests.get(selection.manifest_url)
        if manifest is None:
            complete = False
            continue
        for face in selection.faces:
            if max_faces is not None and len(seen) >= max_faces:
                complete = False
                break
            row = _store_face(
                session, selection, face, manifest, infos, document, now, outcome, rows, preload
            )
            if row is not None:
                seen[row.key] = row
    session.flush()  # one flush for every new face and label of the curation
    outcome.face_ids = sorted(row.id for row in seen.values())
    if complete:
        outcome.deleted = _retract_missing(session, document, set(outcome.face_ids), now)
    return outcome


def _store_face(
    session: Session,
    selection: Selection,
    face: CurationFace,
    manifest: Manifest,
    infos: dict[str, ImageServiceInfo],
    document: Document,
    now: dt.datetime,
    outcome: CurationOutcome,
    rows: dict[tuple[str, str], Any],
    preload: _Preloaded,
) -> Face | None:
    canvas = find_canvas(manifest, face.canvas_uri)
    if canvas is None:
        _defect(outcome, document, face, "canvas_not_found", f"canvas not found in {manifest.url}")
        return None
    if canvas.service is None:
        _defect(outcome, document, face, "no_image_service", f"{canvas.uri} has no image service")
        return None
    info = infos.get(canvas.service.base_url)
    image_w, image_h = _image_size(canvas, info)
    region = face.region
    page = f"the {canvas.width}x{canvas.height} page"
    if intersect(region, canvas.width, canvas.height) is None:
        _defect(
            outcome, document, face, "region_outside", f"region {region.iiif} lies outside {page}"
        )
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
        _defect(outcome, document, face, "region_partly_outside", reason, kept=True)

    work: Work = _cached_upsert(
        session,
        rows,
        Work,
        {"key": work_key(manifest.url, face.pairs)},
        {
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
    )
    canvas_row: Canvas = _cached_upsert(
        session,
        rows,
        Canvas,
        {"uri": canvas.uri},
        {
            "work_id": work.id,
            "label": canvas.label,
            "width": canvas.width,
            "height": canvas.height,
            "position": canvas.position,
        },
    )
    service_row: ImageService = _cached_upsert(
        session,
        rows,
        ImageService,
        {"key": service_key(canvas.service.base_url)},
        {
            "base_url": canvas.service.base_url,
            "canvas_id": canvas_row.id,
            "api_version": canvas.service.api_version,
            "level": canvas.service.level if info is None else info.level,
            "width": image_w,
            "height": image_h,
        },
    )
    key = face_key(canvas.service.base_url, square)
    existing = preload.faces.get(key)
    if existing is None:
        with session.no_autoflush:  # new rows of this curation are in ``preload`` already
            existing = session.scalars(select(Face).where(Face.key == key)).one_or_none()
    values = {
        "canvas_id": canvas_row.id,
        "image_service_id": service_row.id,
        "work_id": work.id,
        "member_uri": face.member_uri,
        "region_x": region.x,
        "region_y": region.y,
        "region_w": region.w,
        "region_h": region.h,
        "square_x": cut.x,
        "square_y": cut.y,
        "square_w": cut.w,
        "square_h": cut.h,
        "curation_document_id": document.id,
        "range_id": selection.range_id,
        "range_label": selection.label,
    }
    if existing is None:
        row = Face(key=key, first_seen=now, last_seen=now, **values)
        session.add(row)
        preload.faces[key] = row
        preload.annotations[key] = []
        changed_structure = True
    else:
        row = existing
        changed_structure = row.deleted or any(getattr(row, k) != v for k, v in values.items())
        for name, value in values.items():
            setattr(row, name, value)
        if row.deleted:
            row.deleted, row.deleted_at = False, None
        row.last_seen = now
    current = preload.annotations.get(key)
    change = sync_annotations(
        session, row, assertions_of(face.pairs), document=document, now=now, current=current
    )
    if existing is None:
        outcome.new += 1
    elif changed_structure or change.changed:
        outcome.updated += 1
    else:
        outcome.unchanged += 1
    return row


def _defect(
    outcome: CurationOutcome,
    document: Document,
    face: CurationFace,
    code: str,
    reason: str,
    *,
    kept: bool = False,
) -> None:
    outcome.defects.append(
        Defect(
            url=document.url,
            pointer=face.pointer,
            code=code,
            reason=reason if kept else f"{reason}; the face is left out",
            outcome="kept" if kept else "left_out",
            member_uri=face.member_uri,
        )
    )


@dataclass
class _Preloaded:
    """The faces a curation asserted before, and its current labels on them, in two queries.

    Re-reading a curation then costs no query per unchanged face.
    """

    faces: dict[str, Face]
    #: The document's current labels per face key (a face asserted before by another source
    #: is missing here, and its labels are then read by ``sync_annotations``).
    annotations: dict[str, list[Annotation]]

    @classmethod
    def of(cls, session: Session, document: Document) -> _Preloaded:
        faces = {
            face.key: face
            for face in session.scalars(
                select(Face).where(Face.curation_document_id == document.id)
            )
        }
        key_of = {face.id: face.key for face in faces.values()}
        annotations: dict[str, list[Annotation]] = {key: [] for key in faces}
        for row in session.scalars(
            select(Annotation).where(
                Annotation.document_id == document.id, Annotation.retracted_at.is_(None)
            )
        ):
            if row.face_id in key_of:
                annotations[key_of[row.face_id]].append(row)
        return cls(faces=faces, annotations=annotations)


def _cached_upsert(
    session: Session,
    rows: dict[tuple[str, str], Any],
    model: type[Any],
    lookup: dict[str, Any],
    values: dict[str, Any],
) -> Any:
    """``upsert`` once per row and curation: its faces share works, canvases and services."""
    cache_key = (model.__tablename__, repr(sorted(lookup.items())))
    row = rows.get(cache_key)
    if row is None:
        row = rows[cache_key] = upsert(session, model, lookup, values)
    return row


def _work_title(pairs: tuple[LabelValue, ...]) -> str | None:
    return next((p.value for p in pairs if p.label == "原典" and p.value), None)


def _retract_missing(session: Session, document: Document, seen: set[int], now: dt.datetime) -> int:
    gone = session.scalars(
        select(Face).where(Face.curation_document_id == document.id, Face.deleted.is_(False))
    ).all()
    deleted = 0
    for face in gone:
        if face.id in seen:
            continue
        if _retract_face(session, face, document, now):
            deleted += 1
    return deleted


def _retract_face(session: Session, face: Face, document: Document, now: dt.datetime) -> bool:
    """Withdraw ``document``'s labels from ``face``; flag it deleted if nothing else holds it."""
    sync_annotations(session, face, [], document=document, now=now)
    session.flush()
    if any(row.retracted_at is None for row in face.annotations):
        return False
    face.deleted, face.deleted_at = True, now
    return True


def retract_document(session: Session, document: Document, now: dt.datetime) -> int:
    """A curation deleted upstream: withdraw its faces' labels; return faces flagged deleted."""
    document.status = "deleted"
    document.fetched_at = now
    return _retract_missing(session, document, set(), now)
