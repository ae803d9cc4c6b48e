"""Databases for the research-query tests.

* ``official_db`` (session): the official KaoKore 1.3 files imported with
  :func:`kaokore.ingest.official.import_official`; skipped when ``../shared`` is absent.
* ``official_tags`` (session): the same ``original_tags.txt`` parsed here with plain Python,
  so every expected count is computed independently of the database and of kaokore.
* ``small_db`` (session): a hand-made database that runs everywhere: two works with IIIF
  manifests and canvases, a face known only from an image service, crops in a blob store,
  a machine tag, a changed label (history) and a built release.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

from kaokore.config import Settings
from kaokore.db import BlobStore, Database, open_database
from kaokore.db.models import (
    Annotation,
    Blob,
    Canvas,
    Document,
    Face,
    ImageService,
    Release,
    ReleaseMember,
    Work,
)
from kaokore.db.repository import Assertion, sync_annotations
from kaokore.db.writer import labels_changed
from kaokore.ingest.curation import normalise_value
from tests.conftest import PG_ENV, _drop_pg_database, _fresh_pg_database, shared_path

KEIO_CALL_NUMBER = "慶応義塾大学請求記号"


@dataclass
class TagLine:
    """One line of original_tags.txt: the file name and its values per key (normalised)."""

    name: str
    values: dict[str, list[str]] = field(default_factory=dict)

    def get(self, key: str) -> list[str]:
        return self.values.get(key, [])

    def first(self, key: str) -> str | None:
        values = [v for v in self.get(key) if v != ""]
        return values[0] if values else None


def parse_original_tags(path: Path) -> list[TagLine]:
    """Plain parsing: ``NNNNNNNN.jpg:key=value;...``, values stripped, Keio '@' -> '-'."""
    lines: list[TagLine] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        name, _, rest = raw.partition(":")
        line = TagLine(name=name)
        for pair in rest.split(";"):
            key, _, value = pair.partition("=")
            if not key:
                continue
            value = value.strip()
            if key == KEIO_CALL_NUMBER:
                value = value.replace("@", "-")
            line.values.setdefault(key, []).append(value)
        lines.append(line)
    return lines


@pytest.fixture(scope="session")
def official_v13() -> Path:
    return shared_path("data", "kaokore", "official", "v1.3")


@pytest.fixture(scope="session")
def official_tags(official_v13: Path) -> list[TagLine]:
    return parse_original_tags(official_v13 / "original_tags.txt")


@pytest.fixture(scope="session")
def official_db(official_v13: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    from kaokore.ingest.official import import_official

    home = tmp_path_factory.mktemp("official-home")
    database = open_database(Settings(home=home, db_url=f"sqlite:///{home / 'kaokore.db'}"))
    import_official(database, official_v13)
    yield database
    database.close()


# --- the hand-made database ----------------------------------------------------------------

NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
LATER = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
MANIFEST_A = "https://example.org/iiif/book-a/manifest.json"
MANIFEST_B = "https://example.org/iiif/book-b/manifest.json"
CURATION = "https://example.org/curation/faces.json"


def _face_image(colour: tuple[int, int, int], stripes: int) -> bytes:
    image = Image.new("RGB", (96, 96), colour)
    draw = ImageDraw.Draw(image)
    for i in range(stripes):
        draw.line((0, i * 12, 95, 95 - i * 12), fill=(20, 20, 20), width=3)
    draw.ellipse((30, 30, 66, 66), outline=(0, 0, 0), width=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass(frozen=True)
class SmallDb:
    database: Database
    home: Path
    #: Face ids by name: a1, a2, a3 (work A), b1, b2 (work B), solo (no canvas).
    ids: dict[str, int]


@pytest.fixture(scope="session")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmallDb]:
    home = tmp_path_factory.mktemp("small-home")
    database = open_database(Settings(home=home, db_url=f"sqlite:///{home / 'kaokore.db'}"))
    yield fill_small_db(database, home)
    database.close()


@pytest.fixture(scope="session")
def small_pg_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmallDb]:
    """The hand-made database on PostgreSQL (``KAOKORE_TEST_PG``), dropped afterwards."""
    admin_url = os.environ.get(PG_ENV)
    if not admin_url:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}=postgresql+psycopg://... (CI sets it)")
    url, name = _fresh_pg_database(admin_url)
    home = tmp_path_factory.mktemp("small-pg-home")
    database = open_database(Settings(home=home, db_url=url))
    try:
        yield fill_small_db(database, home)
    finally:
        database.close()
        _drop_pg_database(admin_url, name)


def fill_small_db(database: Database, home: Path) -> SmallDb:
    """Write the hand-made faces into an empty database at head."""
    store = BlobStore(home / "blobs")
    ids: dict[str, int] = {}
    with database.session() as session:
        document = Document(url=CURATION, kind="curation", status="ok")
        session.add(document)
        work_a = Work(
            key=MANIFEST_A,
            manifest_url=MANIFEST_A,
            label="絵巻甲",
            holder="京都大学",
            record_id="RB00000001",
        )
        work_b = Work(
            key=MANIFEST_B,
            manifest_url=MANIFEST_B,
            label="絵巻乙",
            holder="慶應義塾大学",
            record_id="110X-1-1",
        )
        work_c = Work(
            key="record:国文学研究資料館:10.20730/1",
            label="草子丙",
            holder="国文学研究資料館",
            record_id="10.20730/1",
        )
        session.add_all([work_a, work_b, work_c])
        session.flush()
        canvases = {
            "a1": Canvas(
                uri="https://example.org/iiif/book-a/canvas/p1",
                work_id=work_a.id,
                width=2000,
                height=1000,
                position=0,
            ),
            "a10": Canvas(
                uri="https://example.org/iiif/book-a/canvas/p10",
                work_id=work_a.id,
                width=2000,
                height=1000,
                position=9,
            ),
            "b1": Canvas(
                uri="https://example.org/iiif/book-b/canvas/p1",
                work_id=work_b.id,
                width=1500,
                height=1500,
                position=0,
            ),
        }
        session.add_all(canvases.values())
        session.flush()
        services = {
            "a1": ImageService(
                base_url="https://img.example.org/iiif/a1",
                key="/iiif/a1",
                canvas_id=canvases["a1"].id,
                width=4000,
                height=2000,
            ),
            "a10": ImageService(
                base_url="https://img.example.org/iiif/a10",
                key="/iiif/a10",
                canvas_id=canvases["a10"].id,
                width=2000,
                height=1000,
            ),
            "b1": ImageService(
                base_url="https://img.example.org/iiif/b1",
                key="/iiif/b1",
                canvas_id=canvases["b1"].id,
                width=1500,
                height=1500,
            ),
            "c1": ImageService(base_url="https://img.example.org/iiif/c1", key="/iiif/c1"),
        }
        session.add_all(services.values())
        session.flush()

        def face(
            name: str,
            page: str,
            square: tuple[int, int, int, int],
            region: tuple[int, int, int, int] | None,
            work: Work,
            image: bytes | None,
        ) -> Face:
            blob_sha = None
            if image is not None:
                sha, rel = store.put(image, ".png")
                if session.get(Blob, sha) is None:
                    session.add(
                        Blob(
                            sha256=sha,
                            path=rel,
                            media_type="image/png",
                            width=96,
                            height=96,
                            bytes=len(image),
                        )
                    )
                blob_sha = sha
            canvas = canvases.get(page)
            row = Face(
                key=f"{services[page].key}#{','.join(map(str, square))}",
                canvas_id=canvas.id if canvas else None,
                image_service_id=services[page].id,
                work_id=work.id,
                member_uri=(
                    f"{canvas.uri}#xywh={','.join(map(str, region))}" if canvas and region else None
                ),
                region_x=region[0] if region else None,
                region_y=region[1] if region else None,
                region_w=region[2] if region else None,
                region_h=region[3] if region else None,
                square_x=square[0],
                square_y=square[1],
                square_w=square[2],
                square_h=square[3],
                blob_sha256=blob_sha,
                crop_status="ok" if blob_sha else "pending",
                curation_document_id=document.id if canvas else None,
                first_seen=NOW,
                last_seen=NOW,
            )
            session.add(row)
            session.flush()
            ids[name] = row.id
            return row

        red, red2, blue = (
            _face_image((200, 60, 50), 3),
            _face_image((205, 62, 48), 3),
            _face_image((40, 60, 200), 7),
        )
        faces = {
            "a1": face("a1", "a1", (200, 100, 120, 120), (100, 50, 60, 60), work_a, red),
            "a2": face("a2", "a1", (1000, 400, 200, 200), None, work_a, blue),
            "a3": face("a3", "a10", (10, 10, 50, 50), (10, 10, 50, 50), work_a, None),
            "b1": face("b1", "b1", (300, 300, 90, 90), (300, 300, 90, 90), work_b, red2),
            "b2": face("b2", "b1", (700, 300, 80, 80), (700, 300, 80, 80), work_b, blue),
            "solo": face("solo", "c1", (-5, 20, 100, 100), None, work_c, None),
        }

        def labels(pairs: list[tuple[str, str]], machine: tuple[str, ...] = ()) -> list[Assertion]:
            out: list[Assertion] = []
            counts: dict[str, int] = {}
            for key, value in pairs:
                position = counts.get(key, 0)
                counts[key] = position + 1
                agent = (
                    "machine"
                    if (key, value) in [tuple(m.split("=", 1)) for m in machine]
                    else "human"
                )
                out.append(
                    Assertion(
                        label=key,
                        raw_value=value,
                        value=normalise_value(key, value),
                        agent=agent,
                        position=position,
                    )
                )
            return out

        common_a = [
            ("原典", "絵巻甲"),
            ("所蔵", "京都大学"),
            ("京都大学貴重資料デジタルアーカイブレコードID", "RB00000001"),
        ]
        common_b = [
            ("原典", "絵巻乙"),
            ("所蔵", "慶應義塾大学"),
            ("慶応義塾大学請求記号", "110X@1@1"),
        ]
        plan = {
            "a1": common_a
            + [
                ("性別", "男"),
                ("身分", "貴族"),
                ("向き", "横"),
                ("タグ", "少年"),
                ("タグ", "笛"),
                ("制作年", "from 1600"),
                ("制作年", "to 1700"),
                ("制作年", "江戸前期"),
            ],
            "a2": common_a
            + [
                ("性別", "女"),
                ("身分", "貴族"),
                ("向き", "四分の三"),
                ("タグ", ""),
                ("制作年", "江戸前期"),
            ],
            "a3": common_a
            + [
                ("性別", "男"),
                ("身分", "庶民"),
                ("向き", "後"),
                ("タグ", "鬼"),
                ("制作年", "不明 "),
            ],
            "b1": common_b
            + [
                ("性別", "男"),
                ("身分", "武士"),
                ("向き", "横"),
                ("タグ", "鬼"),
                ("タグ", "bot"),
                ("制作年", "1651"),
                ("制作年", "慶安4"),
            ],
            "b2": common_b
            + [("性別", "女"), ("身分", "化身"), ("向き", "正面"), ("制作年", "室町末近世初")],
            "solo": [
                ("原典", "草子丙"),
                ("所蔵", "国文学研究資料館"),
                ("DOI", "10.20730/1"),
                ("性別", "不明"),
                ("身分", "僧侶"),
                ("向き", "横"),
                ("制作年", ""),
            ],
        }
        machine = {"b1": ("タグ=bot",)}
        for name, pairs in plan.items():
            sync_annotations(
                session,
                faces[name],
                labels(pairs, machine.get(name, ())),
                document=document,
                now=NOW,
            )
        session.flush()
        # a2 was first labelled commoner, then corrected to noble: one retracted row.
        for row in session.scalars(
            select(Annotation).where(
                Annotation.face_id == faces["a2"].id, Annotation.label == "身分"
            )
        ):
            row.asserted_at = LATER
        session.add(
            Annotation(
                face_id=faces["a2"].id,
                label="身分",
                raw_value="庶民",
                value="庶民",
                agent="human",
                position=0,
                document_id=document.id,
                asserted_at=NOW,
                retracted_at=LATER,
            )
        )
        labels_changed(session, ids.values())
        release = Release(version="1.0", kind="built", built_at=NOW)
        session.add(release)
        session.flush()
        for number, name in enumerate(("a1", "b1", "solo")):
            session.add(
                ReleaseMember(
                    release_id=release.id,
                    face_id=ids[name],
                    file_name=f"{number:08d}.jpg",
                    split="train",
                )
            )
    return SmallDb(database=database, home=home, ids=ids)
