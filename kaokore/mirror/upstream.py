"""A full-scale local upstream built from the real KaoKore data, shaped like CODH's.

Why: the bundled sample (33 hand-picked faces) never meets the real data's quirks; a
harvester is only known to take in the whole of the real data by harvesting it. This module
builds, from the official files of versions 1.2 and 1.3 and the real 256-px images, a mirror
for :class:`kaokore.server.app.LocalIIIFServer` (``kaokore serve DIR``) with:

* one ``cr:Curation`` per work (holder and record id), one selection per work, a change feed
  listing every curation;
* the three holders' shapes: NIJL (Presentation 2.1, Image API 2.1 level 2, ``within`` a
  string), Kyoto (Presentation 3.0, Image API 3.0 level 1 without upscaling, identifiers
  holding ``%2F``, canvases TWICE the image so regions must be scaled, ``within`` an
  object), Keio (Presentation 2.1, Image API 2.1 level 1, ``within`` an array holding the
  manifest without a label and the parent curation);
* every quirk of the real data kept: regions as ``urls.txt`` has them (the 8 that start
  outside the page included), the two bare ``=`` tags as metadata entries with an empty
  label, empty values (``タグ=``), stray spaces, numbers (a 制作年 of digits is a JSON
  number), the http/https duplicates of one crop (the member listed twice), record ids
  that disagree with the image path;
* pages as composite pages (:mod:`kaokore.server.composite`): each face's official image
  is pasted, stretched, into the part of its region inside the page, so an Image API
  request ``{region}/256,256/`` gives the official image back. Faces with no real image
  (unlabelled faces of 1.2, faces new in 1.3) get drawn pixels, marked ``synthetic``.

``truth.json`` says, for every url line of 1.2 and every face new in 1.3, its member id,
whether its pixels are real, whether its region reaches past the page, and its labels.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import quote

from kaokore.box import Box
from kaokore.ingest.official import OfficialVersion, TagLine, read_official, record_of
from kaokore.mirror.documents import PaintedCanvas, drawn_face
from kaokore.vocab import class_index

__all__ = [
    "FEED_PATH",
    "UpstreamSummary",
    "build_upstream",
    "build_upstream_from",
    "page_identifier",
]

Holder = Literal["nijl", "kyoto", "keio"]
BASE: Final = "{BASE}"
FEED_PATH: Final = "/api/face/as/collection.json"
#: Space around the faces of a page, so that only the real edge faces reach past it.
MARGIN: Final = 24
PAPER: Final = (236, 228, 208)
_NAMESPACE: Final = uuid.UUID("6b2f3c1e-4a57-4f0e-9d8e-3b1c2a7d9e10")
_CURATION_CONTEXT: Final = [
    "http://iiif.io/api/presentation/2/context.json",
    "http://codh.rois.ac.jp/iiif/curation/1/context.json",
]


@dataclass
class _Face:
    file_name: str  # the 1.2 file (or the 1.3 one for a face new in 1.3)
    version: str
    key: str
    holder: Holder
    page: str  # the official service URL
    region: Box
    tag: TagLine | None
    image: Path | None  # the real official image, when there is one
    duplicates: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class UpstreamSummary:
    """What was built: counts, and where the feed is."""

    root: Path
    faces: int
    real: int
    synthetic: int
    works: int
    pages: int
    edge_faces: int
    feed: str = FEED_PATH


def _holder(service_url: str) -> Holder:
    host = service_url.split("/")[2]
    if "keio" in host:
        return "keio"
    if "kulib.kyoto" in host:
        return "kyoto"
    return "nijl"


def page_identifier(service_url: str) -> str:
    """The identifier (decoded) the mirror serves an official service URL's page under."""
    return _identifier(_holder(service_url), service_url)


def _identifier(holder: Holder, service_url: str) -> str:
    """The page's identifier on the local server, in the holder's style (decoded)."""
    parts = service_url.split("/")
    if holder == "kyoto":
        return f"{parts[-2]}/{parts[-1]}"  # served with %2F, as RMDA's Image API 3 does
    if holder == "keio":
        tail = parts[parts.index("NRE") + 1 :] if "NRE" in parts else parts[-3:]
        return "_".join(part for part in tail if part != "tif")
    return parts[-1]


def _faces(v12: OfficialVersion, v13: OfficialVersion | None, images: Path | None) -> list[_Face]:
    faces: dict[str, _Face] = {}
    # 1.2's faces first, with their real images; then the faces 1.3 adds (drawn pixels).
    for official, folder in ((v12, images), (v13, None)):
        if official is None:
            continue
        tags = official.tags_by_number()
        for line in official.urls:
            if line.face_key is None or line.region is None or line.request is None:
                continue
            known = faces.get(line.face_key)
            if known is not None:
                if official is v12:  # the http/https copy of a crop: one face, two files
                    known.duplicates.append(line.file_name)
                continue
            image = folder / line.file_name if folder is not None else None
            faces[line.face_key] = _Face(
                file_name=line.file_name,
                version=official.version,
                key=line.face_key,
                holder=_holder(line.request.service_url),
                page=line.request.service_url,
                region=line.region,
                tag=tags.get(line.number),
                image=image if image is not None and image.is_file() else None,
            )
    return list(faces.values())


def _work_of(face: _Face) -> tuple[str, str, str]:
    """(work key, title, record id) from the face's tags."""
    tag = face.tag
    record = record_of(tag) if tag is not None else None
    title = ((tag.first("原典") if tag is not None else None) or "").strip() or "不明"
    record_id = record[1] if record is not None else title
    return f"{face.holder}:{record_id}", title, record_id


def _metadata(tag: TagLine | None) -> list[dict[str, Any]]:
    """The tags as member metadata, in file order, quirks kept."""
    if tag is None:
        return []
    entries: list[dict[str, Any]] = []
    for pair in tag.pairs:
        value: Any = pair.raw_value
        if pair.key == "制作年" and value.isdigit():
            value = int(value)  # a number, as some real curations have it
        entries.append({"label": pair.key, "value": value})
    return entries


def _labels(tag: TagLine | None) -> tuple[int | None, int | None]:
    if tag is None:
        return None, None
    gender, status = tag.first("性別"), tag.first("身分")
    return (
        class_index("gender", gender.strip()) if gender else None,
        class_index("status", status.strip()) if status else None,
    )


def _write(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def build_upstream(shared: Path, out: Path) -> UpstreamSummary:
    """Build the mirror into ``out`` from ``shared`` (the folder holding ``data/kaokore``)."""
    data = shared / "data" / "kaokore"
    return build_upstream_from(
        data / "official" / "v1.2", data / "official" / "v1.3", data / "images_256", out
    )


def build_upstream_from(
    first: Path, later: Path | None, images: Path | None, out: Path
) -> UpstreamSummary:
    """Build the mirror from an official folder (its faces and tags, its images where
    ``images`` has them) and the faces a ``later`` version adds (drawn pixels)."""
    v12 = read_official(first, version="1.2")
    v13 = read_official(later, version="1.3") if later is not None else None
    faces = _faces(v12, v13, images)
    out.mkdir(parents=True, exist_ok=True)
    (out / "pages").mkdir(parents=True, exist_ok=True)
    if images is not None:
        (out / "pages" / "faces").symlink_to(images.resolve(), target_is_directory=True)
    # A page is its identifier: versions name one page by several URLs (http and https,
    # an old and a new host), and a face keeps the URL its version gave.
    pages: dict[str, list[_Face]] = defaultdict(list)
    for face in faces:
        pages[f"{face.holder}:{_identifier(face.holder, face.page)}"].append(face)
    services: dict[str, dict[str, Any]] = {}
    page_info: dict[str, tuple[str, int, int]] = {}  # service url -> (identifier, w, h)
    edge = 0
    for _page, members in sorted(pages.items()):
        holder = members[0].holder
        identifier = _identifier(holder, members[0].page)
        width = max(f.region.x + f.region.w for f in members) + MARGIN
        height = max(f.region.y + f.region.h for f in members) + MARGIN
        pieces: list[tuple[int, list[Any]]] = []
        for face in members:
            inside = _clip(face.region, width, height)
            reaches_past = inside != face.region
            edge += reaches_past and face.version == "1.2"
            if face.image is not None:
                source = f"faces/{face.file_name}"
            else:
                source = _draw(out / "pages", face)
            order = 1 if reaches_past else 0  # the edge faces are painted last, on top
            box = [source, inside.x, inside.y, inside.w, inside.h]
            pieces.append((order * 10**9 - inside.w * inside.h, box))
        pieces.sort(key=lambda item: item[0])
        safe = hashlib.sha1(identifier.encode()).hexdigest()[:16]
        relative = f"pages/{holder}-{safe}.page.json"
        _write(
            out / relative,
            {
                "width": width,
                "height": height,
                "background": list(PAPER),
                "pieces": [piece for _order, piece in pieces],
            },
        )
        services[identifier] = _service(holder, relative)
        for face in members:
            page_info[face.page] = (identifier, width, height)
    _write(out / "services.json", {"defaults": {"level": 2}, "services": services})
    works: dict[str, list[_Face]] = defaultdict(list)
    for face in faces:
        works[_work_of(face)[0]].append(face)
    truth: dict[str, Any] = {}
    curations: list[str] = []
    for work_key in sorted(works):
        members = works[work_key]
        _key, title, record_id = _work_of(members[0])
        holder = members[0].holder
        curation = _publish_work(out, holder, title, record_id, members, page_info, truth)
        curations.append(curation)
    _write_feed(out, curations)
    _write(out / "truth.json", truth)
    real = sum(1 for face in faces if face.image is not None)
    return UpstreamSummary(
        root=out,
        faces=len(faces),
        real=real,
        synthetic=len(faces) - real,
        works=len(works),
        pages=len(pages),
        edge_faces=edge,
    )


def _clip(region: Box, width: int, height: int) -> Box:
    x0, y0 = max(region.x, 0), max(region.y, 0)
    x1, y1 = min(region.x + region.w, width), min(region.y + region.h, height)
    return Box(x=x0, y=y0, w=x1 - x0, h=y1 - y0)


def _draw(out: Path, face: _Face) -> str:
    digest = hashlib.sha1(face.key.encode()).hexdigest()[:20]
    relative = f"drawn/{digest}.jpg"
    path = out / relative
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        drawn_face(face.key, PAPER).save(path, format="JPEG", quality=90)
    return relative


def _service(holder: Holder, file: str) -> dict[str, Any]:
    if holder == "kyoto":
        return {"file": file, "level": 1, "versions": [3], "upscale": False}
    if holder == "keio":
        return {"file": file, "level": 1, "versions": [2]}
    return {"file": file, "level": 2, "versions": [2]}


def _publish_work(
    out: Path,
    holder: Holder,
    title: str,
    record_id: str,
    members: list[_Face],
    page_info: dict[str, tuple[str, int, int]],
    truth: dict[str, Any],
) -> str:
    """Write one work's manifest and curation; record its faces in ``truth``."""
    slug = quote(record_id.replace("/", "_"), safe="")
    curation_id = str(uuid.uuid5(_NAMESPACE, f"{holder}:{record_id}"))
    curation_url = f"{BASE}/api/face/curation/json/{curation_id}"
    scale = 2 if holder == "kyoto" else 1  # Kyoto's canvases are twice their images
    version = 3 if holder == "kyoto" else 2
    manifest_path = {
        "nijl": f"pmjt/book/{slug}/manifest.json",
        "kyoto": f"rmda/iiif/metadata_manifest/{slug}/manifest.json",
        "keio": f"keio/iiif/{slug}/manifest.json",
    }[holder]
    manifest_url = f"{BASE}/{manifest_path}"
    identifiers = sorted({page_info[face.page] for face in members})
    canvases: list[tuple[str, str, int, int]] = []  # canvas id, service, width, height
    for identifier, width, height in identifiers:
        canvas = f"{BASE}/{holder}/canvas/{quote(identifier, safe='')}"
        service = f"{BASE}/iiif/{version}/{quote(identifier, safe='')}"
        canvases.append((canvas, service, width, height))
    canvas_of = {
        face.page: f"{BASE}/{holder}/canvas/{quote(page_info[face.page][0], safe='')}"
        for face in members
    }
    manifest = (
        _manifest_v3(manifest_url, title, record_id, canvases, scale)
        if version == 3
        else _manifest_v2(manifest_url, title, record_id, canvases)
    )
    _write(out / manifest_path, manifest)
    items: list[dict[str, Any]] = []
    for number, face in enumerate(members, start=1):
        r = face.region
        xywh = f"{r.x * scale},{r.y * scale},{r.w * scale},{r.h * scale}"
        member_id = f"{canvas_of[face.page]}#xywh={xywh}"
        member = {
            "@id": member_id,
            "@type": "sc:Canvas",
            "label": f"{title} ({number})",
            "metadata": _metadata(face.tag),
        }
        items.append(member)
        gender, status = _labels(face.tag)
        _identifier_, width, height = page_info[face.page]
        reaches = _clip(r, width, height) != r
        for file_name in [face.file_name, *face.duplicates]:
            truth[f"{face.version}/{file_name}"] = {
                "member": member_id,
                "curation": curation_url,
                "synthetic": face.image is None,
                "edge": reaches,
                "gender": gender,
                "status": status,
            }
        if face.duplicates:
            items.append(dict(member))  # the http/https duplicate: listed twice, one face
    within: Any = manifest_url
    if holder == "kyoto":
        within = {"@id": manifest_url, "@type": "sc:Manifest", "label": title}
    elif holder == "keio":
        within = [
            {"@id": manifest_url, "@type": "sc:Manifest"},
            {"@id": curation_url, "@type": "cr:Curation", "label": f"顔コレ: {title}"},
        ]
    curation = {
        "@context": _CURATION_CONTEXT,
        "@type": "cr:Curation",
        "@id": curation_url,
        "label": f"顔コレ: {title}",
        "selections": [
            {
                "@id": f"{curation_url}/range1",
                "@type": "sc:Range",
                "label": title,
                "within": within,
                "members": items,
            }
        ],
    }
    _write(out / "api" / "face" / "curation" / "json" / f"{curation_id}.json", curation)
    return curation_url


def _manifest_v2(
    url: str, title: str, record_id: str, canvases: list[tuple[str, str, int, int]]
) -> dict[str, Any]:
    return {
        "@context": "http://iiif.io/api/presentation/2/context.json",
        "@id": url,
        "@type": "sc:Manifest",
        "label": title,
        "metadata": [{"label": "原典", "value": title}, {"label": "ID", "value": record_id}],
        "license": "https://creativecommons.org/licenses/by-sa/4.0/",
        "sequences": [
            {
                "@type": "sc:Sequence",
                "canvases": [
                    PaintedCanvas(canvas, service, str(n), (width, height), level=1).v2()
                    for n, (canvas, service, width, height) in enumerate(canvases, start=1)
                ],
            }
        ],
    }


def _manifest_v3(
    url: str,
    title: str,
    record_id: str,
    canvases: list[tuple[str, str, int, int]],
    scale: int,
) -> dict[str, Any]:
    return {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        "id": url,
        "type": "Manifest",
        "label": {"ja": [title]},
        "metadata": [{"label": {"ja": ["原典"]}, "value": {"ja": [title]}}],
        "rights": "http://creativecommons.org/licenses/by-sa/4.0/",
        "items": [
            PaintedCanvas(canvas, service, str(n), (width, height), scale=scale, level=1).v3()
            for n, (canvas, service, width, height) in enumerate(canvases, start=1)
        ],
    }


def _write_feed(out: Path, curations: list[str]) -> None:
    """IIIF Change Discovery 1.0: one collection, one page of Create activities."""
    collection = f"{BASE}{FEED_PATH}"
    page = f"{BASE}/api/face/as/page-1.json"
    _write(
        out / FEED_PATH.lstrip("/"),
        {
            "@context": "http://iiif.io/api/discovery/1/context.json",
            "id": collection,
            "type": "OrderedCollection",
            "totalItems": len(curations),
            "first": {"id": page, "type": "OrderedCollectionPage"},
            "last": {"id": page, "type": "OrderedCollectionPage"},
        },
    )
    _write(
        out / "api" / "face" / "as" / "page-1.json",
        {
            "@context": "http://iiif.io/api/discovery/1/context.json",
            "id": page,
            "type": "OrderedCollectionPage",
            "partOf": {"id": collection, "type": "OrderedCollection"},
            "startIndex": 0,
            "orderedItems": [
                {
                    "id": f"{BASE}/api/face/as/activity/{n}",
                    "type": "Create",
                    "object": {"id": url, "type": "cr:Curation"},
                    "endTime": f"2019-03-01T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z",
                }
                for n, url in enumerate(curations)
            ],
        },
    )


if __name__ == "__main__":  # pragma: no cover - python -m kaokore.mirror.upstream SHARED OUT
    import sys

    print(build_upstream(Path(sys.argv[1]), Path(sys.argv[2])))
