"""Build the bundled sample mirror ``kaokore/mirror/bundled/`` from ``../shared``.

Why: tests, docs and ``kaokore serve`` need a small, realistic upstream that works offline.
This script makes one, deterministically, from the real KaoKore 1.2 faces and their real
expert tags: three works (one per holder), 33 faces pasted onto plain paper-coloured
pages, published as the CODH chain (change feed -> cr:Curation -> manifest -> image
service), with every URL written as ``{BASE}`` so the server can fill in its own address.

    python tools/make_sample.py                   # ../shared -> kaokore/mirror/bundled
    python tools/make_sample.py --shared DIR --out DIR

The three works exercise the three service shapes a harvester meets:

* 国文学研究資料館「大職冠」: Presentation 2.1, Image API 2.1 level 2, canvas = image;
  ``within`` is a string; 10 canvases ``p1``..``p10`` with faces on p1, p3 and p10 (so a
  canvas id is a prefix of another).
* 京都大学「弁慶物語」: Presentation 3.0, Image API 3.0 level 1, no upscaling, maxWidth 1200;
  the canvas is TWICE the image (regions must be scaled); identifiers hold ``%2F``;
  ``within`` is an object; one metadata value is a number (制作年 1651).
* 慶應義塾大学「俵藤太」: Presentation 2.1, Image API 2.1 level 0 with ``sizes`` and
  ``tiles`` (crops must be cut locally or stitched); two selections whose ``within`` is an
  array [manifest, parent curation]; one metadata entry has ``agent: machine``.

Two faces (身分=僧侶, so no KaoKore label) have no image in the KaoKore release; their
pixels are a synthetic drawing, marked ``"synthetic": true`` in ``faces.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import shutil
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from kaokore.mirror.documents import PaintedCanvas, drawn_face

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = Path(os.environ.get("KAOKORE_SHARED", REPO.parent / "shared"))
DEFAULT_OUT = REPO / "kaokore" / "mirror" / "bundled"
BASE = "{BASE}"
JPEG_QUALITY = 90
FACE_SIZES = range(140, 222, 2)  # even sides, so a member box shrunk by 2k stays centred
CURATION_CONTEXT = [
    "http://iiif.io/api/presentation/2/context.json",
    "http://codh.rois.ac.jp/iiif/curation/1/context.json",
]
LICENCE = "https://creativecommons.org/licenses/by-sa/4.0/"
ATTRIBUTION = (
    "KaoKore Dataset (CODH), doi:10.20676/00000353, CC BY-SA 4.0; "
    "page images are composites made for kaokore's tests"
)
GENDER = {"男": 0, "女": 1}
STATUS = {"貴族": 0, "武士": 1, "化身": 2, "庶民": 3}
SQUARE_RULE = (
    "crop_box_image is the square with the centre of member_box_image and side "
    "max(w, h), in page-image pixels (member box scaled by image/canvas size first)"
)


@dataclass(frozen=True)
class Work:
    """One work (原典) of the sample and how it is published."""

    key: str
    holder: str
    title: str
    record_key: str  # the holder's record-id metadata label
    record_id: str
    curation_uuid: str
    presentation: int
    image_api: int
    level: int
    canvas_scale: int
    image_size: tuple[int, int]
    canvases: int
    pages: dict[int, list[int]]  # canvas number -> KaoKore 1.2 face numbers
    within: str  # "string" | "object" | "array"
    paper: tuple[int, int, int]

    def manifest_path(self) -> str:
        if self.key == "nijl":
            return f"pmjt/book/{self.record_id.split('/')[-1]}/manifest.json"
        if self.key == "kyoto":
            return f"rmda/iiif/metadata_manifest/{self.record_id}/manifest.json"
        return f"keio/iiif/{self.record_id.replace('@', '-')}/manifest.json"

    def canvas_id(self, n: int) -> str:
        if self.key == "nijl":
            return f"{BASE}/pmjt/iiif/{self.record_id.split('/')[-1]}/canvas/p{n}"
        if self.key == "kyoto":
            return f"{BASE}/rmda/iiif/{self.record_id}/canvas/{n}"
        return f"{BASE}/keio/iiif/{self.record_id.replace('@', '-')}/canvas/{n:03d}"

    def identifier(self, n: int) -> str:
        """The decoded Image API identifier of canvas ``n``."""
        if self.key == "nijl":
            book = self.record_id.split("/")[-1]
            return f"{book}_{n:05d}.tif"
        if self.key == "kyoto":
            return f"{self.record_id}/{self.record_id}_{n:05d}_0.ptif"
        return f"{self.record_id.replace('@', '-')}_{n:03d}.tif"

    def service_id(self, n: int) -> str:
        encoded = self.identifier(n).replace("/", "%2F")
        return f"{BASE}/iiif/{self.image_api}/{encoded}"

    def page_file(self, n: int) -> str:
        if n not in self.pages:
            return f"images/{self.key}/blank.jpg"
        stem = self.identifier(n).split("/")[-1].rsplit(".", 1)[0]
        return f"images/{self.key}/{stem}.jpg"

    @property
    def curation_id(self) -> str:
        return f"{BASE}/api/face/curation/json/{self.curation_uuid}"

    @property
    def canvas_size(self) -> tuple[int, int]:
        return self.image_size[0] * self.canvas_scale, self.image_size[1] * self.canvas_scale


WORKS = (
    Work(
        key="nijl",
        holder="国文学研究資料館",
        title="大職冠",
        record_key="DOI",
        record_id="10.20730/200016463",
        curation_uuid="d51e17fb-45b8-427c-9d0c-e09d1831ae37",  # the real 大職冠 curation id
        presentation=2,
        image_api=2,
        level=2,
        canvas_scale=1,
        image_size=(1600, 1100),
        canvases=10,
        pages={1: [3232, 3233, 3243, 3244], 3: [3401, 3403, 3406], 10: [3445, 3448, 3312, 3451]},
        within="string",
        paper=(236, 226, 200),
    ),
    Work(
        key="kyoto",
        holder="京都大学",
        title="弁慶物語",
        record_key="京都大学貴重資料デジタルアーカイブレコードID",
        record_id="RB00013189",
        curation_uuid=str(uuid.uuid5(uuid.NAMESPACE_URL, "kaokore-sample/kyoto/RB00013189")),
        presentation=3,
        image_api=3,
        level=1,
        canvas_scale=2,
        image_size=(1500, 1050),
        canvases=10,
        pages={3: [486, 488, 491, 494], 6: [495, 497, 498, 499], 10: [500, 503, 505]},
        within="object",
        paper=(240, 232, 212),
    ),
    Work(
        key="keio",
        holder="慶應義塾大学",
        title="俵藤太",
        record_key="慶応義塾大学請求記号",
        record_id="133X@142@1",
        curation_uuid=str(uuid.uuid5(uuid.NAMESPACE_URL, "kaokore-sample/keio/133X@142@1")),
        presentation=2,
        image_api=2,
        level=0,
        canvas_scale=1,
        image_size=(1300, 900),
        canvases=12,
        pages={2: [7803, 7804, 7805, 7807], 6: [7825, 7826, 7827, 7830], 8: [7847, 7856, 7860]},
        within="array",
        paper=(230, 221, 198),
    ),
)
KEIO_TILES = [{"width": 512, "height": 512, "scaleFactors": [1, 2, 4, 8]}]


# -- reading the official files ----------------------------------------------------------


def read_official(shared: Path) -> tuple[list[list[tuple[str, str]]], list[str]]:
    """(pairs per face, url per face) of KaoKore 1.2; line i is face %08d.jpg."""
    official = shared / "data" / "kaokore" / "official" / "v1.2"
    tags: list[list[tuple[str, str]]] = []
    for i, line in enumerate(
        official.joinpath("original_tags.txt").read_text("utf-8").splitlines()
    ):
        name, _, rest = line.partition(":")
        assert name == f"{i:08d}.jpg", (i, name)
        pairs = [tuple(p.split("=", 1)) for p in rest.split(";") if p]
        tags.append([(k, v) for k, v in pairs])
    urls = official.joinpath("urls.txt").read_text("utf-8").splitlines()
    return tags, urls


def first(pairs: list[tuple[str, str]], key: str) -> str:
    return next(v for k, v in pairs if k == key)


# -- pixels ------------------------------------------------------------------------------


def fingerprint(img: Image.Image) -> str:
    """16x16 grey thumbnail as hex: lets tests check crops without ../shared."""
    small = img.convert("L").resize((16, 16), Image.Resampling.BOX)
    return small.tobytes().hex()


def layout(work: Work, canvas: int, count: int) -> list[tuple[int, int, int]]:
    """(x, y, side) of each face on a page: one column each, jittered, never overlapping."""
    rng = random.Random(f"kaokore-sample/{work.key}/{canvas}")
    width, height = work.image_size
    margin = 24
    cell = width // count
    squares = []
    for i in range(count):
        side = rng.choice(FACE_SIZES)
        x = i * cell + rng.randint(margin, cell - side - margin)
        y = rng.randint(margin, height - side - margin)
        squares.append((x, y, side))
    return squares


def member_box(rng: random.Random, x: int, y: int, side: int) -> tuple[int, int, int, int]:
    """The annotated box: the face square, sometimes narrower or shorter (as drawn by hand)."""
    shape = rng.choice(["square", "narrow", "short", "square"])
    shrink = 2 * rng.choice([6, 10, 16])
    w = side - shrink if shape == "narrow" else side
    h = side - shrink if shape == "short" else side
    return x + (side - w) // 2, y + (side - h) // 2, w, h


def save_jpeg(img: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format="JPEG", quality=JPEG_QUALITY, optimize=False, progressive=False)


# -- documents ---------------------------------------------------------------------------


def write_json(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def member_metadata(
    work: Work, pairs: list[tuple[str, str]], *, numeric_year: bool, machine_tag: bool
) -> list[dict[str, Any]]:
    """The real original_tags pairs in their order, plus the holder's record-id label."""
    out: list[dict[str, Any]] = []
    for key, value in pairs:
        entry: dict[str, Any] = {"label": key, "value": value}
        if numeric_year and key == "制作年" and value.isdigit():
            entry["value"] = int(value)
        out.append(entry)
        if key == "原典ID":
            out.append({"label": work.record_key, "value": value})
    if machine_tag:
        out.append({"label": "tag", "value": "顔", "agent": "machine"})
    return out


def painted_canvases(work: Work) -> list[PaintedCanvas]:
    return [
        PaintedCanvas(
            work.canvas_id(n),
            work.service_id(n),
            str(n),
            work.image_size,
            scale=work.canvas_scale,
            level=work.level,
        )
        for n in range(1, work.canvases + 1)
    ]


def manifest_v2(work: Work) -> dict[str, Any]:
    canvases = [canvas.v2() for canvas in painted_canvases(work)]
    manifest = f"{BASE}/{work.manifest_path()}"
    return {
        "@context": "http://iiif.io/api/presentation/2/context.json",
        "@id": manifest,
        "@type": "sc:Manifest",
        "label": work.title,
        "metadata": [
            {"label": "原典", "value": work.title},
            {"label": "所蔵", "value": work.holder},
            {"label": work.record_key, "value": work.record_id},
        ],
        "attribution": ATTRIBUTION,
        "license": LICENCE,
        "sequences": [
            {"@id": f"{manifest}/sequence/normal", "@type": "sc:Sequence", "canvases": canvases}
        ],
    }


def manifest_v3(work: Work) -> dict[str, Any]:
    items = [canvas.v3() for canvas in painted_canvases(work)]
    return {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        "id": f"{BASE}/{work.manifest_path()}",
        "type": "Manifest",
        "label": {"ja": [work.title]},
        "metadata": [
            {"label": {"ja": ["原典"]}, "value": {"ja": [work.title]}},
            {"label": {"ja": ["所蔵"]}, "value": {"ja": [work.holder]}},
            {"label": {"ja": [work.record_key]}, "value": {"none": [work.record_id]}},
        ],
        "requiredStatement": {"label": {"en": ["Attribution"]}, "value": {"en": [ATTRIBUTION]}},
        "rights": "http://creativecommons.org/licenses/by-sa/4.0/",
        "items": items,
    }


def within(work: Work) -> Any:
    manifest = f"{BASE}/{work.manifest_path()}"
    if work.within == "string":
        return manifest
    if work.within == "object":
        return {"@id": manifest, "@type": "sc:Manifest", "label": work.title}
    return [
        {"@id": manifest, "@type": "sc:Manifest"},  # label missing, as in real files
        {"@id": work.curation_id, "@type": "cr:Curation", "label": f"顔コレ: {work.title}"},
    ]


def feed(works: tuple[Work, ...]) -> dict[str, Any]:
    """IIIF Change Discovery 1.0: a collection and two pages, oldest first."""
    root = f"{BASE}/api/face/as"
    context = "http://iiif.io/api/discovery/1/context.json"

    def activity(n: int, kind: str, work: Work, when: str) -> dict[str, Any]:
        return {
            "id": f"{root}/activity/{n}",
            "type": kind,
            "object": {"id": work.curation_id, "type": "cr:Curation"},
            "endTime": when,
        }

    nijl, kyoto, keio = works
    pages = [
        [
            activity(1, "Create", nijl, "2019-03-01T09:00:00Z"),
            activity(2, "Create", kyoto, "2019-03-02T09:00:00Z"),
            activity(3, "Create", keio, "2019-03-03T09:00:00Z"),
        ],
        [
            activity(4, "Update", kyoto, "2020-06-01T12:00:00Z"),
            activity(5, "Update", nijl, "2021-01-15T08:30:00Z"),
        ],
    ]
    docs: dict[str, Any] = {
        "collection.json": {
            "@context": context,
            "id": f"{root}/collection.json",
            "type": "OrderedCollection",
            "totalItems": sum(len(p) for p in pages),
            "first": {"id": f"{root}/page-1.json", "type": "OrderedCollectionPage"},
            "last": {"id": f"{root}/page-{len(pages)}.json", "type": "OrderedCollectionPage"},
        }
    }
    start = 0
    for i, items in enumerate(pages, start=1):
        page: dict[str, Any] = {
            "@context": context,
            "id": f"{root}/page-{i}.json",
            "type": "OrderedCollectionPage",
            "partOf": {"id": f"{root}/collection.json", "type": "OrderedCollection"},
            "startIndex": start,
        }
        if i > 1:
            page["prev"] = {"id": f"{root}/page-{i - 1}.json", "type": "OrderedCollectionPage"}
        if i < len(pages):
            page["next"] = {"id": f"{root}/page-{i + 1}.json", "type": "OrderedCollectionPage"}
        page["orderedItems"] = items
        docs[f"page-{i}.json"] = page
        start += len(items)
    return docs


ATTRIBUTION_MD = """\
# Sample mirror: attribution and licence

This folder is a tiny offline stand-in for CODH's face collection, built by
`tools/make_sample.py` from `../shared` for kaokore's tests, docs and `kaokore serve`.

**Faces.** {n_real} of the {n_faces} faces are real images of the KaoKore Dataset version 1.2
(the file of each is named in `faces.json`, key `image_256`), with their real expert tags
(`original_tags.txt` of version 1.2) copied into the curations.
Licence: Creative Commons Attribution-ShareAlike 4.0 International (CC BY-SA 4.0),
<https://creativecommons.org/licenses/by-sa/4.0/>.
Attribution: "KaoKore Dataset" (created by ROIS-DS Center for Open Data in the Humanities
(CODH), based on the Collection of Facial Expressions, with images from the National Institute
of Japanese Literature, Kyoto University Rare Materials Digital Archive and Keio University
Media Center), doi:10.20676/00000353. Works: {works}.

**Page images** (`images/`) are derived composites made for testing: each real 256 px face is
resized and pasted onto a plain paper-coloured page; the layout, the page sizes and the
canvases are invented. They are shared under the same licence (CC BY-SA 4.0).
{n_synth} faces (身分=僧侶, which carry no KaoKore label and have no image in the release) are
synthetic drawings, marked `"synthetic": true` in `faces.json`.

**Documents** (curations, manifests, the change feed) follow the public formats of the IIIF
Curation Platform, IIIF Presentation 2.1/3.0, Image API 2.1/3.0 and Change Discovery 1.0; their
URLs are placeholders (`{{BASE}}`) and do not exist upstream, except that the 大職冠 curation
reuses the id of the real one.

CODH asks that derived datasets carrying the image data are not redistributed: this sample
exists for local tests only, and keeps this attribution next to the images.
"""


# -- main --------------------------------------------------------------------------------


def build(shared: Path, out: Path) -> dict[str, Any]:
    tags, urls = read_official(shared)
    faces_dir = shared / "data" / "kaokore" / "images_256"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    services: dict[str, Any] = {}
    faces: list[dict[str, Any]] = []
    works_meta: list[dict[str, Any]] = []
    for work in WORKS:
        rng = random.Random(f"kaokore-sample/{work.key}/boxes")
        width, height = work.image_size
        blank = Image.new("RGB", work.image_size, work.paper)
        ImageDraw.Draw(blank).rectangle(
            (12, 12, width - 13, height - 13), outline=(180, 160, 130), width=2
        )
        save_jpeg(blank, out / work.page_file(0))
        selections: dict[int, list[dict[str, Any]]] = {}
        for n in range(1, work.canvases + 1):
            entry: dict[str, Any] = {
                "file": work.page_file(n),
                "level": work.level,
                "versions": [work.image_api],
            }
            if work.key == "kyoto":
                entry.update({"maxWidth": 1200, "upscale": False})
            if work.key == "keio":
                entry["tiles"] = KEIO_TILES
                entry["sizes"] = [[math.ceil(width / f), math.ceil(height / f)] for f in (8, 4, 2)]
            services[work.identifier(n)] = entry
            if n not in work.pages:
                continue
            page = blank.copy()
            numbers = work.pages[n]
            for number, (x, y, side) in zip(numbers, layout(work, n, len(numbers)), strict=True):
                pairs = tags[number]
                name = f"{number:08d}.jpg"
                source = faces_dir / name
                synthetic = not source.exists()
                if synthetic:
                    assert first(pairs, "身分") not in STATUS, f"{name} is labelled but missing"
                    face = drawn_face(f"{work.key}/{number}", work.paper)
                    digest = None
                else:
                    face = Image.open(source).convert("RGB")
                    digest = hashlib.sha256(source.read_bytes()).hexdigest()
                page.paste(face.resize((side, side), Image.Resampling.LANCZOS), (x, y))
                bx, by, bw, bh = member_box(rng, x, y, side)
                s = work.canvas_scale
                canvas_box = [bx * s, by * s, bw * s, bh * s]
                member_id = f"{work.canvas_id(n)}#xywh=" + ",".join(map(str, canvas_box))
                index = sum(f["work"] == work.key for f in faces)
                gender, status = first(pairs, "性別"), first(pairs, "身分")
                member = {
                    "@id": member_id,
                    "@type": "sc:Canvas",
                    "label": f"{work.title} {n} ({index + 1})",
                    "metadata": member_metadata(
                        work,
                        pairs,
                        numeric_year=work.key == "kyoto"
                        and number == numbers[0]
                        and n == min(work.pages),
                        machine_tag=work.key == "keio"
                        and number == numbers[0]
                        and n == min(work.pages),
                    ),
                }
                selection = 2 if work.key == "keio" and n == max(work.pages) else 1
                selections.setdefault(selection, []).append(member)
                labelled = gender in GENDER and status in STATUS
                faces.append(
                    {
                        "face": f"{work.key}-{index:02d}",
                        "work": work.key,
                        "curation": work.curation_id,
                        "selection": f"{work.curation_id}/range{selection}",
                        "manifest": f"{BASE}/{work.manifest_path()}",
                        "canvas": work.canvas_id(n),
                        "member_id": member_id,
                        "member_box_canvas": canvas_box,
                        "canvas_size": list(work.canvas_size),
                        "service": work.service_id(n),
                        "identifier": work.identifier(n),
                        "image_api": work.image_api,
                        "level": work.level,
                        "page_file": work.page_file(n),
                        "page_size": list(work.image_size),
                        "member_box_image": [bx, by, bw, bh],
                        "crop_box_image": [x, y, side, side],
                        "image_256": None if synthetic else name,
                        "image_256_sha256": digest,
                        "synthetic": synthetic,
                        "kaokore_v1_2": {
                            "file": name,
                            "url": urls[number],
                            "tags": [[k, v] for k, v in pairs],
                        },
                        "label": {"gender": GENDER[gender], "status": STATUS[status]}
                        if labelled
                        else None,
                        "thumb16": fingerprint(face),
                    }
                )
            save_jpeg(page, out / work.page_file(n))
        curation = {
            "@context": CURATION_CONTEXT,
            "@type": "cr:Curation",
            "@id": work.curation_id,
            "label": f"顔コレ: {work.title}",
            "selections": [
                {
                    "@id": f"{work.curation_id}/range{k}",
                    "@type": "sc:Range",
                    "label": work.title if len(selections) == 1 else f"{work.title} ({k})",
                    "members": members,
                    "within": within(work),
                }
                for k, members in sorted(selections.items())
            ],
        }
        curation_file = f"api/face/curation/json/{work.curation_uuid}.json"
        write_json(out / curation_file, curation)
        manifest = manifest_v3(work) if work.presentation == 3 else manifest_v2(work)
        write_json(out / work.manifest_path(), manifest)
        works_meta.append(
            {
                "work": work.key,
                "holder": work.holder,
                "title": work.title,
                "record_id": work.record_id,
                "curation": work.curation_id,
                "curation_file": curation_file,
                "manifest": f"{BASE}/{work.manifest_path()}",
                "manifest_file": work.manifest_path(),
                "presentation": work.presentation,
                "image_api": work.image_api,
                "level": work.level,
                "canvas_scale": work.canvas_scale,
                "canvases": work.canvases,
                "within": work.within,
            }
        )
    for name, doc in feed(WORKS).items():
        write_json(out / "api" / "face" / "as" / name, doc)
    write_json(out / "services.json", {"defaults": {"level": 2}, "services": services})
    feed_url = f"{BASE}/api/face/as/collection.json"
    (out / "sources.txt").write_text(feed_url + "\n", encoding="utf-8")
    truth = {
        "description": "Ground truth of the kaokore sample mirror (made by tools/make_sample.py).",
        "base_placeholder": BASE,
        "feed": feed_url,
        "square_rule": SQUARE_RULE,
        "works": works_meta,
        "faces": faces,
    }
    write_json(out / "faces.json", truth)
    n_synth = sum(f["synthetic"] for f in faces)
    (out / "ATTRIBUTION.md").write_text(
        ATTRIBUTION_MD.format(
            n_real=len(faces) - n_synth,
            n_faces=len(faces),
            n_synth=n_synth,
            works="; ".join(f"{w.holder}「{w.title}」({w.record_id})" for w in WORKS),
        ),
        encoding="utf-8",
    )
    return truth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the ../shared folder")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="the mirror folder to (re)write"
    )
    args = parser.parse_args(argv)
    if not (args.shared / "data" / "kaokore" / "images_256").is_dir():
        print(
            f"Error: no KaoKore images under {args.shared}/data/kaokore/images_256", file=sys.stderr
        )
        return 2
    truth = build(args.shared, args.out)
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"wrote {args.out}: {len(truth['faces'])} faces, {size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
