"""A small research database for compiler tests, filled through the models and the blob store.

Why direct inserts and not an ingest: the compiler reads the database, whatever filled it, and
its tests must not depend on the harvester. The faces cover the cases a build must handle:
works with several pages, a face without a canvas, a face without a KaoKore label (僧侶),
crops pending or failed, a grayscale crop, an oblong crop at a page edge, and (when
``../shared`` is present) real KaoKore images. Every timestamp is fixed, so two databases
filled alike have the same state.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image

from kaokore.config import Settings
from kaokore.db import (
    Annotation,
    Blob,
    BlobStore,
    Canvas,
    Database,
    Face,
    ImageService,
    Release,
    ReleaseMember,
    Work,
    open_database,
)
from kaokore.db.writer import labels_changed
from kaokore.vocab import class_index
from tests.conftest import SHARED_DIR

T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
GENDERS = ("男", "女")
STATUSES = ("貴族", "武士", "化身", "庶民")
REAL_IMAGES = SHARED_DIR / "data" / "kaokore" / "images_256"


def jpeg(seed: int, size: tuple[int, int] = (256, 256), mode: str = "RGB") -> bytes:
    """A small synthetic JPEG: a seeded colour with noise, so every face looks different."""
    rng = random.Random(seed)
    colour = tuple(rng.randrange(40, 220) for _ in range(3))
    image = Image.new("RGB", size, colour)
    pixels = image.load()
    assert pixels is not None
    for _ in range(200):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        pixels[x, y] = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    if mode != "RGB":
        image = image.convert(mode)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


@dataclass
class Filler:
    """Adds works, pages and faces to a database, with crops in its blob store."""

    database: Database
    store: BlobStore
    faces: dict[str, int] = field(default_factory=dict)
    labels: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    _tick: int = 0

    def _now(self) -> dt.datetime:
        self._tick += 1
        return T0 + dt.timedelta(minutes=self._tick)

    def _blob(self, session: object, data: bytes) -> str:
        sha, relative = self.store.put(data)
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
        if session.get(Blob, sha) is None:  # type: ignore[attr-defined]
            session.add(  # type: ignore[attr-defined]
                Blob(
                    sha256=sha,
                    path=relative,
                    media_type="image/jpeg",
                    width=width,
                    height=height,
                    bytes=len(data),
                    request_url=f"https://img.example.org/crop/{sha[:8]}.jpg",
                    created_at=T0,
                )
            )
        return sha

    def add_face(
        self,
        name: str,
        *,
        work: str | None = "w0",
        page: int | None = 0,
        gender: str = "男",
        status: str = "貴族",
        crop: bytes | None = None,
        crop_status: str = "ok",
        tags: tuple[str, ...] = (),
        square: tuple[int, int, int, int] = (100, 100, 120, 120),
    ) -> int:
        """Add one face; ``crop`` None with status ok makes a synthetic crop."""
        with self.database.session() as session:
            work_row = None
            if work is not None:
                work_row = (
                    session.query(Work)
                    .filter_by(key=f"https://example.org/{work}/manifest.json")
                    .one_or_none()
                )
                if work_row is None:
                    work_row = Work(
                        key=f"https://example.org/{work}/manifest.json",
                        manifest_url=f"https://example.org/{work}/manifest.json",
                        label=f"作品{work}",
                        holder="国文学研究資料館",
                        record_id=f"10.20730/{work}",
                        license="https://creativecommons.org/licenses/by-sa/4.0/",
                    )
                    session.add(work_row)
                    session.flush()
            canvas = None
            service_key = (
                f"iiif/{work or 'loose'}/{name}" if page is None else f"iiif/{work}/p{page}"
            )
            if page is not None and work_row is not None:
                uri = f"https://example.org/{work}/canvas/p{page}"
                canvas = session.query(Canvas).filter_by(uri=uri).one_or_none()
                if canvas is None:
                    canvas = Canvas(
                        uri=uri,
                        work_id=work_row.id,
                        label=f"p{page}",
                        width=2000,
                        height=3000,
                        position=page,
                    )
                    session.add(canvas)
                    session.flush()
            service = session.query(ImageService).filter_by(key=service_key).one_or_none()
            if service is None:
                service = ImageService(
                    base_url=f"https://img.example.org/{service_key}",
                    key=service_key,
                    canvas_id=canvas.id if canvas else None,
                    api_version="2",
                    level=2,
                    width=2000,
                    height=3000,
                )
                session.add(service)
                session.flush()
            x, y, w, h = square
            blob_sha = None
            if crop_status == "ok":
                blob_sha = self._blob(
                    session, crop if crop is not None else jpeg(len(self.faces) + 7)
                )
            face = Face(
                key=f"{service_key}#{x},{y},{w},{h}",
                canvas_id=canvas.id if canvas else None,
                image_service_id=service.id,
                work_id=work_row.id if work_row else None,
                member_uri=f"{canvas.uri}#xywh={x},{y},{w},{h}" if canvas else None,
                region_x=x if canvas else None,
                region_y=y if canvas else None,
                region_w=w if canvas else None,
                region_h=h if canvas else None,
                square_x=max(x, 0),
                square_y=max(y, 0),
                square_w=w + min(x, 0),
                square_h=h + min(y, 0),
                blob_sha256=blob_sha,
                crop_status=crop_status,
                crop_error="HTTP 404 from img.example.org" if crop_status == "failed" else None,
                first_seen=self._now(),
                last_seen=self._now(),
            )
            session.add(face)
            session.flush()
            at = self._now()
            pairs = [
                ("性別", gender),
                ("身分", status),
                ("向き", "横"),
                ("原典", f"作品{work}"),
                ("所蔵", "国文学研究資料館"),
            ]
            pairs += [("タグ", tag) for tag in tags]
            for position, (label, value) in enumerate(pairs):
                session.add(
                    Annotation(
                        face_id=face.id,
                        label=label,
                        raw_value=value,
                        value=value,
                        position=position,
                        asserted_at=at,
                    )
                )
            session.add(
                Annotation(
                    face_id=face.id,
                    label="tag",
                    raw_value="bot",
                    value="bot",
                    agent="machine",
                    asserted_at=at,
                )
            )
            labels_changed(session, [face.id])
            self.faces[name] = face.id
            self.labels[name] = (class_index("gender", gender), class_index("status", status))
            return face.id

    def add_many(self, count: int, *, start: int = 0, works: int = 4, pages: int = 3) -> None:
        """``count`` labelled faces spread over ``works`` works of ``pages`` pages each."""
        for index in range(start, start + count):
            self.add_face(
                f"f{index:03d}",
                work=f"w{index % works}",
                page=(index // works) % pages,
                gender=GENDERS[index % 2],
                status=STATUSES[index % 4],
                square=(10 * index, 20 + index, 100 + index, 100 + index),
                tags=("少年",) if index % 5 == 0 else (),
            )

    def relabel(self, name: str, label: str, value: str) -> None:
        """Retract the current ``label`` of a face and assert ``value`` instead."""
        with self.database.session() as session:
            face_id = self.faces[name]
            for row in session.query(Annotation).filter_by(
                face_id=face_id, label=label, retracted_at=None
            ):
                row.retracted_at = self._now()
            session.add(
                Annotation(
                    face_id=face_id,
                    label=label,
                    raw_value=value,
                    value=value,
                    asserted_at=self._now(),
                )
            )
            labels_changed(session, [face_id])

    def add_official(self, version: str, sets: dict[str, str]) -> None:
        """An imported official version holding the named faces, in those sets."""
        with self.database.session() as session:
            release = Release(kind="official", version=version, built_at=T0)
            session.add(release)
            session.flush()
            for number, (name, set_name) in enumerate(sorted(sets.items())):
                gender, status = self.labels[name]
                session.add(
                    ReleaseMember(
                        release_id=release.id,
                        face_id=self.faces[name],
                        file_name=f"{number:08d}.jpg",
                        split=set_name if gender is not None and status is not None else None,
                        gender=gender,
                        status=status,
                    )
                )


def fill_standard(filler: Filler) -> None:
    """The standard test collection: 24 ordinary faces and the special cases."""
    filler.add_many(24)
    filler.add_face("unlabelled", work="w1", page=1, status="僧侶")
    filler.add_face("pending", work="w2", page=0, crop_status="pending")
    filler.add_face("failed", work="w2", page=1, crop_status="failed")
    filler.add_face("gray", work="w3", page=2, gender="女", status="庶民", crop=jpeg(99, mode="L"))
    filler.add_face(
        "edge",
        work="w3",
        page=1,
        status="武士",
        crop=jpeg(98, size=(300, 200)),
        square=(-40, 500, 120, 120),
    )
    filler.add_face("loose", work=None, page=None, gender="女", status="化身")
    if REAL_IMAGES.is_dir():
        for index in range(3):
            data = (REAL_IMAGES / f"{index:08d}.jpg").read_bytes()
            filler.add_face(
                f"real{index}", work="w4", page=index, crop=data, status=STATUSES[index]
            )


@pytest.fixture
def database(
    kaokore_home: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Database]:
    """An empty database at head (SQLite, and PostgreSQL when configured), home in tmp.

    ``KAOKORE_DB`` points at it too, so CLI invocations in the test use the same database.
    """
    monkeypatch.setenv("KAOKORE_DB", database_url)
    db = open_database(Settings(home=kaokore_home, db_url=database_url))
    yield db
    db.close()


@pytest.fixture
def filler(database: Database) -> Filler:
    """A :class:`Filler` on the empty test database."""
    return Filler(database=database, store=BlobStore(database.settings.blob_dir))


@pytest.fixture
def filled(filler: Filler) -> Filler:
    """The test database filled with the standard collection."""
    fill_standard(filler)
    return filler


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by relative path, with its bytes."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
