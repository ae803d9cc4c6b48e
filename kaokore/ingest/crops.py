"""The crop stage: cut each pending face out of its image service into the blob store.

Why the checks: upstream servers answer with HTML error pages, truncated JPEGs and, in the
worst case, images built to exhaust memory. A crop is stored only after every fetched piece
decodes within a pixel budget at about the size that was asked for; a failure is recorded
on the face with its reason and retried by the next ingest, and a good crop stored earlier
is never replaced by a bad one.
"""

from __future__ import annotations

import asyncio
import io
import threading
import warnings
from collections import defaultdict, deque
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kaokore.box import Box
from kaokore.config import DEFAULT_MAX_IMAGE_PIXELS
from kaokore.db import BlobStore, Database
from kaokore.db.bulk import record_crops
from kaokore.db.claims import Claims
from kaokore.db.defects import DefectEntry, replace_defects
from kaokore.db.models import Face, ImageService
from kaokore.db.records import CropRecord
from kaokore.errors import (
    DiskFullError,
    FetchError,
    HarvestError,
    KaokoreError,
    ReadOnlyDatabase,
    operational_error,
)
from kaokore.ingest.client import FetchResult, PoliteClient, TransientFetchError
from kaokore.ingest.documents import DocumentFetcher
from kaokore.ingest.geometry import execute_plan, intersect, plan_crop
from kaokore.ingest.imageservice import parse_info
from kaokore.ingest.records import CropPlan, ImageServiceInfo, TileRequest
from kaokore.ingest.report import HarvestReport
from kaokore.ingest.store import store_service_info

__all__ = ["CROP_SIZE", "decode_image", "fetch_crops"]

#: Side of the stored crops in pixels: the size of KaoKore's images.
CROP_SIZE = 256
#: JPEG quality of stored crops; fixed so that the same pieces give the same bytes.
CROP_QUALITY = 95
#: How far (in pixels) a server's answer may differ from the size asked for.
SIZE_TOLERANCE = 2
#: ``Face.crop_status`` of a face whose square lies wholly outside its image: an upstream
#: defect, recorded once and not retried (a changed region makes a new face key anyway).
LEFT_OUT = "left_out"


def decode_image(
    data: bytes, *, url: str, max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
) -> Image.Image:
    """Decode ``data`` fully, refusing decompression bombs and non-images.

    A non-image is transient (an HTML error page may be replaced by the image on a retry);
    a bomb is permanent.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                width, height = probe.size
                if width * height > max_pixels:
                    raise FetchError(
                        f"image of {width}x{height} pixels is above the {max_pixels}-pixel limit "
                        "(decompression bomb?)",
                        url=url,
                    )
                probe.load()
                return probe.convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise FetchError(f"decompression bomb refused: {exc}", url=url) from exc
    except UnidentifiedImageError as exc:
        raise TransientFetchError(f"not an image ({data[:40]!r}...)", url=url) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise TransientFetchError(f"image does not decode: {exc}", url=url) from exc


class _DecodedPiece:
    """Checks a fetched piece (inside the client's retry loop) and keeps the decoded image."""

    def __init__(self, request: TileRequest) -> None:
        self.request = request
        self.image: Image.Image | None = None

    def __call__(self, result: FetchResult) -> None:
        assert result.body is not None
        image = decode_image(result.body, url=self.request.url)
        expected = (self.request.width, self.request.height)
        if (
            abs(image.width - expected[0]) > SIZE_TOLERANCE
            or abs(image.height - expected[1]) > SIZE_TOLERANCE
        ):
            raise FetchError(
                f"image is {image.width}x{image.height}, expected {expected[0]}x{expected[1]}",
                url=self.request.url,
            )
        self.image = image


@dataclass(frozen=True)
class _Job:
    face_id: int
    face_key: str
    square: Box
    service_id: int


async def fetch_crops(
    database: Database,
    client: PoliteClient,
    blobs: BlobStore,
    report: HarvestReport,
    *,
    documents: DocumentFetcher,
    face_ids: Sequence[int] | None = None,
    limit: int | None = None,
    crop_size: int = CROP_SIZE,
    concurrency: int = 16,
    advance: Callable[[int], None] | None = None,
    set_total: Callable[[int], None] | None = None,
    exclude: Collection[int] = (),
    claims: Claims | None = None,
) -> None:
    """Fetch crops for faces still pending or failed (all, or those in ``face_ids``).

    ``exclude`` names faces this run already tried (their failures wait for the next run);
    ``claims`` shares the run's claims (and their connection) instead of opening new ones.
    """
    jobs_by_service = await asyncio.to_thread(_pending_jobs, database, face_ids, limit, exclude)
    total = sum(len(jobs) for jobs in jobs_by_service.values())
    if set_total is not None:
        set_total(total)
    if not total:
        return
    infos = await _service_infos(database, client, documents, report, list(jobs_by_service))
    own_claims = claims is None
    claims = Claims(database) if claims is None else claims
    writer = _CropWriter(database, claims)

    async def run(job: _Job) -> None:
        if _taken_elsewhere(database, claims, job):
            report.warnings.append(f"{job.face_key}: crop left to another ingest")
        elif isinstance(info := infos.get(job.service_id), str):
            _record_failure(database, job, info)
            claims.release(_claim_key(job))
            report.fail("crops", job.face_key, info)
        elif info is not None:
            try:
                await _fetch_one(database, client, blobs, report, job, info, crop_size, writer)
            except Exception as exc:  # no exception escapes a crop (issue 14)
                reason = str(isolated_crop_error(exc, job.face_key))
                _record_failure(database, job, reason)
                claims.release(_claim_key(job))
                report.fail("crops", job.face_key, reason)
        if advance is not None:
            advance(1)

    queue = deque(job for jobs in jobs_by_service.values() for job in jobs)

    async def worker() -> None:
        # A few workers over one queue, not a task per face: starting a thousand tasks at
        # once would hold the loop while the host's answers wait.
        while queue:
            await run(queue.popleft())

    try:
        await asyncio.gather(*(worker() for _ in range(min(concurrency, total))))
        await asyncio.to_thread(writer.flush)
    finally:
        writer.flush()  # what a failure or a cancellation left unwritten (nothing otherwise)
        if own_claims:
            claims.close()


def isolated_crop_error(exc: Exception, face_key: str) -> Exception:
    """The reason to record for one crop; a full disk or read-only database is raised again."""
    operational = operational_error(exc)
    if isinstance(operational, (DiskFullError, ReadOnlyDatabase)):
        raise exc
    if isinstance(exc, KaokoreError):
        return exc
    text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    return HarvestError(f"{face_key}: {type(exc).__name__}: {text}".rstrip(": "))


def _claim_key(job: _Job) -> str:
    return f"crop:{job.face_key}"


def _taken_elsewhere(database: Database, claims: Claims, job: _Job) -> bool:
    """Claim the face's crop; False if this run should fetch it (claimed, still pending)."""
    if not claims.claim(_claim_key(job)):
        return True
    if claims.exclusive:
        with database.session() as session:
            if session.scalar(select(Face.crop_status).where(Face.id == job.face_id)) == "ok":
                claims.release(_claim_key(job))
                return True
    return False


def _pending_jobs(
    database: Database,
    face_ids: Sequence[int] | None,
    limit: int | None,
    exclude: Collection[int] = (),
) -> dict[int, list[_Job]]:
    query = (
        select(
            Face.id,
            Face.key,
            Face.square_x,
            Face.square_y,
            Face.square_w,
            Face.square_h,
            Face.image_service_id,
        )
        .where(
            Face.deleted.is_(False),
            Face.crop_status.not_in(("ok", LEFT_OUT)),
            Face.image_service_id.is_not(None),
        )
        .order_by(Face.id)
    )
    if face_ids is not None:
        query = query.where(Face.id.in_(list(face_ids)))
    if limit is not None:
        query = query.limit(limit)
    jobs: dict[int, list[_Job]] = defaultdict(list)
    with database.session() as session:
        for face_id, key, x, y, w, h, service_id in session.execute(query):
            assert service_id is not None  # the query keeps faces with a service only
            if face_id in exclude:
                continue
            jobs[service_id].append(_Job(face_id, key, Box(x=x, y=y, w=w, h=h), service_id))
    return jobs


async def _service_infos(
    database: Database,
    client: PoliteClient,
    documents: DocumentFetcher,
    report: HarvestReport,
    service_ids: list[int],
) -> dict[int, ImageServiceInfo | str]:
    """The parsed info.json of each service (conditionally fetched), or why it failed."""
    write_lock = threading.Lock()

    def base_urls() -> dict[int, str]:
        with database.session() as session:
            rows = session.scalars(select(ImageService).where(ImageService.id.in_(service_ids)))
            return {row.id: row.base_url for row in rows}

    services = await asyncio.to_thread(base_urls)

    async def one(service_id: int, base_url: str) -> tuple[int, ImageServiceInfo | str]:
        url = f"{base_url}/info.json"
        try:
            fetched = await documents.fetch_json(url, kind="info")
            info = await asyncio.to_thread(parse_info, fetched.data, url)
        except Exception as exc:  # any error is this document's (issue 14)
            error = isolated_crop_error(exc, url)
            reason = f"image service info {url}: {error}"
            documents.record_failure(url, "info", error)
            return service_id, reason

        def store() -> None:
            with write_lock, database.session() as session:
                document = documents.commit_document(session, fetched)
                store_service_info(session, info, document)

        await asyncio.to_thread(store)  # the loop keeps the host's requests in flight
        report.count("documents", "unchanged" if not fetched.changed else "new")
        return service_id, info

    pairs = await asyncio.gather(*(one(sid, url) for sid, url in services.items()))
    return dict(pairs)


async def _fetch_one(
    database: Database,
    client: PoliteClient,
    blobs: BlobStore,
    report: HarvestReport,
    job: _Job,
    info: ImageServiceInfo,
    crop_size: int,
    writer: _CropWriter,
) -> None:
    if intersect(job.square, info.width, info.height) is None:
        _left_out(database, report, job, info)
        writer.claims.release(_claim_key(job))
        return
    try:
        plan = plan_crop(info, job.square, target=crop_size)
    except ValueError as exc:
        reason = f"no crop possible for square {job.square}: {exc}"
        _record_failure(database, job, reason)
        writer.claims.release(_claim_key(job))
        report.fail("crops", job.face_key, reason)
        return
    pieces: list[Image.Image] = []
    try:
        for request in plan.requests:
            piece = _DecodedPiece(request)
            await client.fetch(request.url, accept="image/jpeg,image/*", validate=piece)
            assert piece.image is not None
            pieces.append(piece.image)
    except FetchError as exc:
        _record_failure(database, job, str(exc))
        writer.claims.release(_claim_key(job))
        report.fail("crops", plan.requests[0].url if plan.requests else job.face_key, str(exc))
        return
    # Pillow releases the GIL while it resizes and encodes: a thread keeps the loop free.
    sha256, relative, data, size = await asyncio.to_thread(_encode_and_store, blobs, plan, pieces)
    crop = CropRecord(
        face_id=job.face_id,
        sha256=sha256,
        path=relative,
        width=size[0],
        height=size[1],
        bytes=len(data),
        request_url=" ".join(r.url for r in plan.requests),
    )
    await writer.add(job, crop)
    report.count("crops", "new")


def _encode_and_store(
    blobs: BlobStore, plan: CropPlan, pieces: list[Image.Image]
) -> tuple[str, str, bytes, tuple[int, int]]:
    crop = execute_plan(plan, pieces)
    buffer = io.BytesIO()
    crop.save(buffer, format="JPEG", quality=CROP_QUALITY, subsampling=0, optimize=False)
    data = buffer.getvalue()
    sha256, relative = blobs.put(data, ".jpg")
    return sha256, relative, data, crop.size


class _CropWriter:
    """Records stored crops in batches: one transaction per batch, not per face.

    A crop is on disk before its row is written, so a batch lost to a crash only means the
    next ingest fetches those faces again and finds their blobs already stored. A batch is
    written in a worker thread, so the event loop keeps the host's requests in flight.
    """

    def __init__(self, database: Database, claims: Claims, batch: int = 32) -> None:
        self.database = database
        self.claims = claims
        self.batch = batch
        self.pending: list[tuple[_Job, CropRecord]] = []
        self.lock = threading.Lock()  # one batch written at a time

    async def add(self, job: _Job, crop: CropRecord) -> None:
        self.pending.append((job, crop))
        if len(self.pending) >= self.batch:
            batch, self.pending = self.pending, []
            await asyncio.to_thread(self._write, batch)

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        self._write(batch)

    def _write(self, batch: list[tuple[_Job, CropRecord]]) -> None:
        if not batch:
            return
        with self.lock:
            _record_crops(self.database, [crop for _job, crop in batch])
        for job, _crop in batch:
            self.claims.release(_claim_key(job))


def _record_crops(database: Database, crops: list[CropRecord]) -> None:
    """Point faces at their stored crops (see :func:`kaokore.db.bulk.record_crops`)."""
    for _attempt in range(3):
        try:
            with database.session() as session:
                record_crops(session.connection(), crops)
            return
        except IntegrityError:  # another ingest stored the same blob at the same moment
            continue


def _left_out(database: Database, report: HarvestReport, job: _Job, info: ImageServiceInfo) -> None:
    """A square wholly outside its image: a defect that leaves the face without a crop."""
    url = f"{info.base_url}/info.json"
    reason = (
        f"the square {job.square.iiif} lies wholly outside the {info.width}x{info.height} "
        "image; the face is left out"
    )
    entry = DefectEntry(
        document_url=url,
        stage="crop",
        pointer="/",
        code="region_outside",
        reason=reason,
        outcome="left_out",
        subject=job.face_key,
    )
    with database.session() as session:
        face = session.get(Face, job.face_id)
        if face is not None:
            face.crop_status, face.crop_error = LEFT_OUT, reason
        replace_defects(session, url, "crop", [entry], subjects=[job.face_key])
    report.defect("region_outside", "left_out", f"{job.face_key}: {reason}")


def _record_failure(database: Database, job: _Job, reason: str) -> None:
    with database.session() as session:
        face = session.get(Face, job.face_id)
        if face is not None and face.crop_status != "ok":
            face.crop_status = "failed"
            face.crop_error = reason
