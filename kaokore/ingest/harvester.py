"""The harvester: from sources (feeds, curations, URL lists) to faces, labels and crops.

Why this order of work: a curation is stored in one transaction together with the document
validators that say it was processed, so a crash at any moment leaves either the old state
or the new one, never half. The feed cursor moves only after every activity it covers has
been stored or recorded as failed (failed documents are retried by the next run whatever
the feed says), and a face's crop is fetched only after its curation is stored (at once,
while the next documents are fetched, so the hosts stay busy), each written to the blob
store before the face points at it. Running again after a kill therefore converges on the
uninterrupted result.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import httpx
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kaokore.config import DEFAULT_FEED_URL
from kaokore.db import BlobStore, Database
from kaokore.db.claims import Claims
from kaokore.db.defects import clear_defects, replace_defects
from kaokore.db.models import Document, Source, utcnow
from kaokore.errors import (
    DiskFullError,
    DocumentError,
    FetchError,
    KaokoreError,
    ReadOnlyDatabase,
    UsageError,
    operational_error,
)
from kaokore.ingest.client import ClientSettings, PoliteClient, make_client
from kaokore.ingest.crops import CROP_SIZE, fetch_crops
from kaokore.ingest.curation import document_kind, parse_curation
from kaokore.ingest.defects import describe, entry_of
from kaokore.ingest.documents import DocumentFetcher, FetchedDocument
from kaokore.ingest.feed import newest_per_object, next_page, parse_feed_page, walk_start
from kaokore.ingest.imageservice import parse_info
from kaokore.ingest.manifest import find_canvas, parse_manifest
from kaokore.ingest.records import Curation, ImageServiceInfo, Manifest
from kaokore.ingest.report import HarvestReport, Stage
from kaokore.ingest.store import CurationOutcome, retract_document, store_curation

__all__ = [
    "HarvestOptions",
    "ProgressSink",
    "fetch_crops_only",
    "harvest",
    "isolated",
    "resolve_sources",
]

#: Most pages a feed walk follows in one run (a guard against a ``prev`` loop).
MAX_FEED_PAGES = 10_000


class ProgressSink(Protocol):
    """Where the harvester reports progress (the CLI passes a rich display).

    A sink may also have ``host_down(host, reason)``, called once per host the client
    declares unreachable, so the user hears of it while the harvest goes on.
    """

    def total(self, stage: Stage, n: int) -> None: ...

    def advance(self, stage: Stage, n: int = 1) -> None: ...


class _NoProgress:
    def total(self, stage: Stage, n: int) -> None:
        pass

    def advance(self, stage: Stage, n: int = 1) -> None:
        pass


@dataclass(frozen=True, kw_only=True)
class HarvestOptions:
    """What one ingest run does beyond the defaults."""

    dry_run: bool = False
    images: bool = True
    max_faces: int | None = None
    crop_size: int = CROP_SIZE
    #: Curations processed at once (each also bounded by the per-host limits).
    document_concurrency: int = 8
    crop_concurrency: int = 16


def resolve_sources(database: Database, given: Sequence[str]) -> list[str]:
    """The source URLs of a run: those given (list files expanded), else the known ones.

    On a new database with no source, CODH's face collection feed.
    """
    if not given:
        with database.session() as session:
            known = session.scalars(
                select(Source.url)
                .where(Source.enabled.is_(True), Source.kind != "official")
                .order_by(Source.id)
            ).all()
        return list(known) or [DEFAULT_FEED_URL]
    urls: list[str] = []
    for item in given:
        if item.startswith(("http://", "https://")):
            urls.append(item)
            continue
        path = Path(item)
        if not path.is_file():
            raise UsageError(f"{item} is neither an http(s) URL nor a file listing URLs")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not line.startswith(("http://", "https://")):
                raise UsageError(f"{path}:{number}: {line!r} is not an http(s) URL")
            urls.append(line)
    return urls


def isolated(exc: Exception, url: str) -> KaokoreError:
    """The error to record as ``url``'s failure; operational failures are raised again.

    Why not record those too: a full disk or a read-only database fails every later
    document the same way, and recording would fail as well; the run stops with one line
    (``kaokore.errors.operational_error``) and the next run resumes.
    """
    operational = operational_error(exc)
    if isinstance(operational, (DiskFullError, ReadOnlyDatabase)):
        raise exc
    if isinstance(exc, KaokoreError):
        return exc
    text = str(exc).strip()
    first = text.splitlines()[0][:300] if text else ""
    return DocumentError(f"{type(exc).__name__}: {first}" if first else type(exc).__name__, url=url)


class _Harvest:
    """The state of one run: database, client, fetcher, report and the face budget."""

    def __init__(
        self,
        database: Database,
        client: PoliteClient,
        options: HarvestOptions,
        progress: ProgressSink,
    ) -> None:
        self.database = database
        self.client = client
        self.options = options
        self.progress = progress
        self.documents = DocumentFetcher(database, client)
        self.report = HarvestReport()
        self.face_budget = options.max_faces
        self.run_cache: dict[str, FetchedDocument] = {}
        self.curation_gate = asyncio.Semaphore(options.document_concurrency)
        self.write_lock = threading.Lock()
        self.claims = Claims(database)
        #: Crops start as soon as their curation is stored, while the next documents are
        #: fetched, so the hosts stay busy (not with --max-faces, whose budget counts faces
        #: in order, nor in a dry run or without images).
        self.pipelined = options.images and not options.dry_run and options.max_faces is None
        self.crop_tasks: list[asyncio.Task[None]] = []
        #: Faces whose crops this run has started: the final pass leaves their failures alone.
        self.crops_started: set[int] = set()
        self.crops_total = 0

    async def fetch(self, url: str, kind: str) -> FetchedDocument:
        """Fetch a document once per run; later asks in the same run reuse the answer."""
        cached = self.run_cache.get(url)
        if cached is not None:
            return cached
        fetched = await self.documents.fetch_json(url, kind=kind)
        self.run_cache[url] = fetched
        self.progress.advance("documents")
        return fetched

    def failed(self, url: str, kind: str, error: Exception) -> None:
        if not self.options.dry_run:
            self.documents.record_failure(url, kind, error)
        self.report.fail("documents", url, str(error))
        self.progress.advance("documents")

    # -- sources -------------------------------------------------------------------------

    async def source(self, url: str) -> None:
        """Harvest one source; whatever goes wrong with it is its recorded failure."""
        try:
            await self._source(url)
        except Exception as exc:
            self.failed(url, "source", isolated(exc, url))

    async def _source(self, url: str) -> None:
        try:
            fetched = await self.fetch(url, "source")
        except (FetchError, DocumentError) as exc:
            if isinstance(exc, FetchError) and exc.status in (404, 410):
                await self.curation_gone(url)
                return
            self.failed(url, "source", exc)
            return
        kind = document_kind(fetched.data)
        if kind not in ("feed", "curation"):
            self.failed(
                url,
                "source",
                DocumentError("neither a change feed nor a curation", url=url, field="/type"),
            )
            return
        fetched = replace(fetched, kind=kind)
        self.run_cache[url] = fetched
        source_id = self.remember_source(url, kind)
        if kind == "feed":
            await self.feed(url, fetched, source_id)
        else:
            await self.guarded_curation(url, fetched)

    def remember_source(self, url: str, kind: str) -> int | None:
        if self.options.dry_run:
            return None
        with self.database.session() as session:
            row = session.scalars(select(Source).where(Source.url == url)).one_or_none()
            if row is None:
                row = Source(url=url, kind=kind)
                session.add(row)
                session.flush()
            row.kind = kind
            return row.id

    # -- feeds ---------------------------------------------------------------------------

    async def feed(self, url: str, fetched: FetchedDocument, source_id: int | None) -> None:
        with self.database.session() as session:
            source = session.get(Source, source_id) if source_id is not None else None
            cursor = (
                dt.datetime.fromisoformat(source.cursor)
                if source is not None and source.cursor
                else None
            )
        try:
            page = parse_feed_page(fetched.data, url)
            pages = [page]
            next_url: str | None = walk_start(page)
            if next_url == url:
                next_url = next_page(page, cursor)
            elif page.kind == "collection":
                pages = []
            seen = {url}
            while next_url is not None and next_url not in seen and len(seen) < MAX_FEED_PAGES:
                seen.add(next_url)
                page_doc = await self.fetch(next_url, "feed_page")
                page = parse_feed_page(page_doc.data, next_url)
                pages.append(page)
                next_url = next_page(page, cursor)
        except (FetchError, DocumentError) as exc:
            self.failed(exc.url or url, "feed_page", exc)
            return
        activities = [activity for page in pages for activity in page.activities]
        effects = newest_per_object(activities, cursor)
        for page_url in [url, *seen]:
            walked = self.run_cache.get(page_url)
            if walked is not None:
                self.report.count("documents", "updated" if walked.changed else "unchanged")
        retry = self.failed_curations(source_id)
        deletes = [obj for obj, act in effects.items() if act.type in ("Delete", "Remove")]
        updates = [obj for obj, act in effects.items() if act.type not in ("Delete", "Remove")]
        for obj in deletes:
            await self.curation_gone(obj)
        targets = list(dict.fromkeys([*updates, *retry]))
        self.progress.total("documents", len(targets))
        await asyncio.gather(*(self.curation_url(obj, source_id) for obj in targets))
        newest = max((a.end_time for a in activities), default=None)
        if self.options.dry_run or source_id is None:
            return
        with self.database.session() as session:
            # The feed's own documents are remembered only now, with the cursor, so that a
            # crash before this point walks the same pages again next time.
            for page_url in [url, *seen]:
                walked = self.run_cache.get(page_url)
                if walked is not None and walked.changed:
                    self.documents.commit_document(session, walked)
            source = session.get(Source, source_id)
            assert source is not None
            if newest is not None and (cursor is None or newest > cursor):
                source.cursor = newest.isoformat()
            source.last_synced_at = utcnow()

    def defer(self, url: str) -> None:
        """Leave a curation for the next run (the ``--max-faces`` budget is spent)."""
        if self.options.dry_run:
            return
        with self.database.session() as session:
            self.documents.document_row(session, url, "curation").status = "pending"

    def failed_curations(self, source_id: int | None) -> list[str]:
        """Curations whose last attempt failed or was cut short: retried whatever the feed says."""
        with self.database.session() as session:
            query = select(Document.url).where(
                Document.kind == "curation", Document.status.in_(("failed", "pending"))
            )
            if source_id is not None:
                query = query.where(Document.source_id == source_id)
            return list(session.scalars(query))

    # -- curations -----------------------------------------------------------------------

    async def curation_url(self, url: str, source_id: int | None) -> None:
        if not self.claims.claim(f"curation:{url}"):
            self.report.warnings.append(f"{url}: skipped, another ingest is harvesting it")
            return
        try:
            async with self.curation_gate:
                self.documents.source_id = source_id
                try:
                    fetched = await self.fetch(url, "curation")
                except (FetchError, DocumentError) as exc:
                    if isinstance(exc, FetchError) and exc.status in (404, 410):
                        await self.curation_gone(url)
                        return
                    self.failed(url, "curation", exc)
                    return
                except Exception as exc:  # a body that breaks the reader (nesting, say)
                    self.failed(url, "curation", isolated(exc, url))
                    return
                await self.guarded_curation(url, fetched)
        finally:
            self.claims.release(f"curation:{url}")

    async def guarded_curation(self, url: str, fetched: FetchedDocument) -> None:
        """One curation, its manifests and its store: no exception escapes it.

        An error of any kind (a hostile manifest, a bug met by odd data) becomes this
        curation's recorded failure, retried next run; the harvest goes on with the next
        document. Only operational failures (a full disk) stop the run.
        """
        try:
            await self.curation(url, fetched)
        except Exception as exc:
            self.failed(url, "curation", isolated(exc, url))

    async def curation_gone(self, url: str) -> None:
        """A curation deleted upstream: its faces lose its labels (history kept)."""
        if self.options.dry_run:
            return
        with self.database.session() as session:
            document = session.scalars(select(Document).where(Document.url == url)).one_or_none()
            if document is None or document.status == "deleted":
                return
            deleted = retract_document(session, document, utcnow())
            clear_defects(session, url)
        self.report.count("documents", "deleted")
        self.report.count("faces", "deleted", deleted)

    async def curation(self, url: str, fetched: FetchedDocument) -> None:
        if not fetched.changed:
            self.report.count("documents", "unchanged")
            return
        try:
            # Reading a curation of a thousand faces takes a tenth of a second: in a thread,
            # so the loop meanwhile answers the host's responses and sends the next requests.
            curation = await asyncio.to_thread(parse_curation, fetched.data, url)
        except Exception as exc:
            self.failed(url, "curation", isolated(exc, url))
            return
        manifests, infos, problems = await self.manifests_of(curation)
        if self.face_budget is not None and self.face_budget <= 0:
            self.defer(url)
            return
        await self.store(url, fetched, curation, manifests, infos, problems)

    async def manifests_of(
        self, curation: Curation
    ) -> tuple[dict[str, Manifest], dict[str, ImageServiceInfo], list[str]]:
        manifests: dict[str, Manifest] = {}
        infos: dict[str, ImageServiceInfo] = {}
        problems: list[str] = []
        for manifest_url in dict.fromkeys(s.manifest_url for s in curation.selections):
            try:
                fetched = await self.fetch(manifest_url, "manifest")
                manifest = await asyncio.to_thread(parse_manifest, fetched.data, manifest_url)
            except Exception as exc:
                error = isolated(exc, manifest_url)
                self.failed(manifest_url, "manifest", error)
                problems.append(f"manifest {manifest_url}: {error}")
                continue
            await self.commit_plain(fetched)
            manifests[manifest_url] = manifest
        for service_url in self.services_needing_info(curation, manifests):
            info_url = f"{service_url}/info.json"
            try:
                fetched = await self.fetch(info_url, "info")
                infos[service_url] = await asyncio.to_thread(parse_info, fetched.data, info_url)
            except Exception as exc:
                error = isolated(exc, info_url)
                self.failed(info_url, "info", error)
                problems.append(f"image service {info_url}: {error}")
                continue
            await self.commit_plain(fetched)
        return manifests, infos, problems

    @staticmethod
    def services_needing_info(curation: Curation, manifests: dict[str, Manifest]) -> list[str]:
        """Services whose image size the manifest does not state: info.json tells."""
        wanted: dict[str, None] = {}
        for selection in curation.selections:
            manifest = manifests.get(selection.manifest_url)
            if manifest is None:
                continue
            for face in selection.faces:
                canvas = find_canvas(manifest, face.canvas_uri)
                if canvas is None or canvas.service is None:
                    continue
                if not (canvas.image_width and canvas.image_height):
                    wanted[canvas.service.base_url] = None
        return list(wanted)

    async def commit_plain(self, fetched: FetchedDocument) -> None:
        """Store a manifest or info.json body and validators as soon as it parsed.

        Through the writer lock, in a thread: a write must never block the event loop
        while a curation's transaction holds the database.
        """
        if self.options.dry_run or not fetched.changed:
            return

        def write() -> None:
            with self.write_lock, self.database.session() as session:
                self.documents.commit_document(session, fetched)

        await asyncio.to_thread(write)

    def store_sync(
        self,
        url: str,
        fetched: FetchedDocument,
        curation: Curation,
        manifests: dict[str, Manifest],
        infos: dict[str, ImageServiceInfo],
        problems: list[str],
    ) -> tuple[CurationOutcome, bool]:
        """Store one curation in one transaction (retried if a parallel ingest raced it).

        One writer at a time: SQLite allows no more, and the ``--max-faces`` budget is read
        and spent under the same lock.
        """
        with self.write_lock:
            return self._store_locked(url, fetched, curation, manifests, infos, problems)

    def _store_locked(
        self,
        url: str,
        fetched: FetchedDocument,
        curation: Curation,
        manifests: dict[str, Manifest],
        infos: dict[str, ImageServiceInfo],
        problems: list[str],
    ) -> tuple[CurationOutcome, bool]:
        for attempt in range(3):
            session = self.database.new_session()
            try:
                session.begin()
                known = session.scalars(select(Document).where(Document.url == url)).one_or_none()
                was_new = known is None or known.content_sha256 is None
                document = self.documents.document_row(session, url, "curation")
                outcome = store_curation(
                    session,
                    curation=curation,
                    document=document,
                    manifests=manifests,
                    infos=infos,
                    now=utcnow(),
                    max_faces=self.face_budget,
                )
                truncated = (
                    self.face_budget is not None and len(outcome.face_ids) >= self.face_budget
                )
                if problems:
                    document.status = "failed"
                    document.error = "; ".join(problems)
                elif truncated:
                    document.status = "pending"  # --max-faces stopped it: finish next run
                else:
                    # Defects are the document's, not failures: it is done, and an unchanged
                    # copy is not fetched again because of them.
                    self.documents.commit_document(session, fetched)
                defects = [*curation.defects, *outcome.defects]
                replace_defects(session, url, "curation", [entry_of(d) for d in defects])
                if self.options.dry_run:
                    session.rollback()
                else:
                    session.commit()
                if self.face_budget is not None:
                    self.face_budget -= len(outcome.face_ids)
                return outcome, was_new
            except IntegrityError:
                # Another ingest (PostgreSQL) stored the same rows first: read them and retry.
                session.rollback()
                if attempt == 2:
                    raise
            finally:
                session.close()
        raise AssertionError("unreachable")  # pragma: no cover

    async def store(
        self,
        url: str,
        fetched: FetchedDocument,
        curation: Curation,
        manifests: dict[str, Manifest],
        infos: dict[str, ImageServiceInfo],
        problems: list[str],
    ) -> None:
        # The database work runs in a thread so that fetches in flight keep flowing.
        outcome, was_new = await asyncio.to_thread(
            self.store_sync, url, fetched, curation, manifests, infos, problems
        )
        self.report.count("documents", "failed" if problems else ("new" if was_new else "updated"))
        for defect in [*curation.defects, *outcome.defects]:
            self.report.defect(defect.code, defect.outcome, describe(defect))
        self.report.count("faces", "new", outcome.new)
        self.report.count("faces", "updated", outcome.updated)
        self.report.count("faces", "unchanged", outcome.unchanged)
        self.report.count("faces", "deleted", outcome.deleted)
        self.progress.advance("faces", len(outcome.face_ids))
        if self.pipelined and outcome.face_ids:
            self.crops_started.update(outcome.face_ids)
            self.crop_tasks.append(asyncio.create_task(self.crops_of(outcome.face_ids)))

    async def crops_of(
        self, face_ids: Sequence[int] | None, exclude: set[int] | None = None
    ) -> None:
        """Fetch the pending crops of ``face_ids`` (all pending faces when None)."""
        await fetch_crops(
            self.database,
            self.client,
            BlobStore(self.database.settings.blob_dir),
            self.report,
            documents=self.documents,
            face_ids=face_ids,
            limit=self.options.max_faces,
            crop_size=self.options.crop_size,
            concurrency=self.options.crop_concurrency,
            advance=lambda n: self.progress.advance("crops", n),
            set_total=self.more_crops,
            exclude=exclude or (),
            claims=self.claims,
        )

    def more_crops(self, n: int) -> None:
        self.crops_total += n
        self.progress.total("crops", self.crops_total)


async def harvest(
    database: Database,
    sources: Sequence[str] = (),
    *,
    client_settings: ClientSettings | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    options: HarvestOptions | None = None,
    progress: ProgressSink | None = None,
) -> HarvestReport:
    """Harvest ``sources`` (or every known source) into ``database``; see the module doc."""
    options = options or HarvestOptions()
    progress = progress or _NoProgress()
    urls = resolve_sources(database, sources)
    async with _run(database, client_settings, transport, options, progress) as run:
        if options.images and not options.dry_run:
            await _remove_temporaries(database)
        for url in urls:
            await run.source(url)
        await asyncio.gather(*run.crop_tasks)
        if options.images and not options.dry_run:
            # Every other pending crop: earlier runs' failures, faces of unchanged
            # curations, and all of them when crops were not pipelined.
            await run.crops_of(None, exclude=run.crops_started)
    faces = run.report.counts["faces"]
    if not options.dry_run and (faces["new"] or faces["deleted"]):
        await asyncio.to_thread(database.analyze)
    return run.report


@contextlib.asynccontextmanager
async def _run(
    database: Database,
    client_settings: ClientSettings | None,
    transport: httpx.AsyncBaseTransport | None,
    options: HarvestOptions,
    progress: ProgressSink,
) -> AsyncIterator[_Harvest]:
    """One run's client, state and claims, whatever it harvests; at its end the tasks it
    left are cancelled, its claims released and what went over the wire counted."""
    with _imports_frozen():
        async with make_client(client_settings, transport=transport) as client:
            client.on_host_down = getattr(progress, "host_down", None)
            run = _Harvest(database, client, options, progress)
            try:
                yield run
            finally:
                for task in run.crop_tasks:
                    task.cancel()
                run.claims.close()
            _count_requests(run.report, client)


@contextlib.contextmanager
def _imports_frozen() -> Iterator[None]:
    """Keep what exists before a harvest out of the garbage collector's full passes.

    Why: a full collection walks every tracked object and holds the event loop meanwhile,
    so the requests in flight wait for it (150 ms with the 190,000 objects of the loaded
    modules). Those objects live as long as the process; frozen, they are not walked, and
    the passes cost what the harvest itself allocates. They are unfrozen afterwards.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _count_requests(report: HarvestReport, client: PoliteClient) -> None:
    """What went over the wire, and what was not sent to unreachable hosts."""
    report.requests = client.requests_made
    report.conditional_requests = client.conditional_requests
    report.bytes_received = client.bytes_received
    report.unreachable = dict(client.unreachable)
    report.requests_skipped = sum(client.skipped.values())


async def _remove_temporaries(database: Database) -> None:
    """Half-written blobs of a killed run go before this run writes any."""
    blobs = BlobStore(database.settings.blob_dir)
    if blobs.root.exists():
        await asyncio.to_thread(blobs.remove_temporaries)


async def fetch_crops_only(
    database: Database,
    *,
    client_settings: ClientSettings | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    options: HarvestOptions | None = None,
    progress: ProgressSink | None = None,
) -> HarvestReport:
    """The crop stage alone (after an official import, say)."""
    options = options or HarvestOptions()
    progress = progress or _NoProgress()
    async with _run(database, client_settings, transport, options, progress) as run:
        await _remove_temporaries(database)
        await run.crops_of(None)
    return run.report
