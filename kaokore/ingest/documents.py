"""Fetching JSON documents conditionally, and remembering what each one said.

Why keep the body: a 304 Not Modified carries no body, yet a manifest that has not changed
must still be read to place the faces of a changed curation. So the last good body is
stored with its ETag, Last-Modified and sha256; a failure records the reason beside them
and never replaces a good body with a bad one.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kaokore.db import Database
from kaokore.db.models import Document, utcnow
from kaokore.errors import DocumentError, FetchError, HarvestError
from kaokore.ingest.client import FetchResult, PoliteClient, TransientFetchError

__all__ = ["DocumentFetcher", "FetchedDocument", "parse_json"]

JSON_ACCEPT = "application/ld+json, application/json;q=0.9, */*;q=0.1"


@dataclass(frozen=True, kw_only=True)
class FetchedDocument:
    """A JSON document as fetched now, or as stored when the server said 304."""

    url: str
    kind: str
    data: Any
    text: str
    sha256: str
    etag: str | None
    last_modified: str | None
    http_status: int
    #: False when the content is what kaokore last processed successfully.
    changed: bool


def parse_json(body: bytes, *, url: str, content_type: str | None = None) -> Any:
    """Decode a JSON document; an HTML page where JSON belongs is worth a retry."""
    try:
        text = body.decode("utf-8-sig")
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        looks_html = (content_type or "").lower().startswith("text/html") or body.lstrip()[
            :1
        ] == b"<"
        if looks_html:
            raise TransientFetchError(
                "an HTML page was served where a JSON document belongs", url=url
            ) from exc
        raise DocumentError(f"malformed JSON: {exc}", url=url, field="/") from exc
    except RecursionError as exc:
        raise DocumentError("JSON nested too deeply to read", url=url, field="/") from exc


class _ParsedJson:
    """Parses a fetched body (inside the client's retry loop) and keeps what it parsed.

    It runs in the client's worker thread, so the text and the hash of a large curation are
    made there too, not on the event loop that keeps the host's requests in flight.
    """

    data: Any = None
    text: str = ""
    sha256: str = ""

    def __call__(self, result: FetchResult) -> None:
        assert result.body is not None
        self.data = parse_json(result.body, url=result.url, content_type=result.content_type)
        self.text = result.body.decode("utf-8-sig")
        self.sha256 = hashlib.sha256(result.body).hexdigest()


class DocumentFetcher:
    """Conditional GETs of JSON documents against what the database remembers."""

    def __init__(
        self, database: Database, client: PoliteClient, *, source_id: int | None = None
    ) -> None:
        self.database = database
        self.client = client
        self.source_id = source_id

    def _stored(self, url: str) -> Document | None:
        with self.database.session() as session:
            return session.scalars(select(Document).where(Document.url == url)).one_or_none()

    async def fetch_json(self, url: str, *, kind: str, conditional: bool = True) -> FetchedDocument:
        """Fetch ``url``; a 304 or an identical body gives the stored content, ``changed=False``."""
        stored = await asyncio.to_thread(self._stored, url)
        usable = stored is not None and stored.status == "ok" and stored.body is not None
        etag = stored.etag if (usable and conditional and stored is not None) else None
        last_modified = (
            stored.last_modified if (usable and conditional and stored is not None) else None
        )
        parsed = _ParsedJson()
        result = await self.client.fetch(
            url, etag=etag, last_modified=last_modified, accept=JSON_ACCEPT, validate=parsed
        )
        if result.not_modified:
            assert stored is not None and stored.body is not None
            return FetchedDocument(
                url=url,
                kind=kind,
                data=await asyncio.to_thread(json.loads, stored.body),
                text=stored.body,
                sha256=stored.content_sha256 or "",
                etag=result.etag or stored.etag,
                last_modified=result.last_modified or stored.last_modified,
                http_status=304,
                changed=False,
            )
        sha256 = parsed.sha256
        changed = not (usable and stored is not None and stored.content_sha256 == sha256)
        return FetchedDocument(
            url=url,
            kind=kind,
            data=parsed.data,
            text=parsed.text,
            sha256=sha256,
            etag=result.etag,
            last_modified=result.last_modified,
            http_status=result.status,
            changed=changed,
        )

    def commit_document(self, session: Session, fetched: FetchedDocument) -> Document:
        """Record a document as processed: its validators, hash and body (in ``session``)."""
        document = session.scalars(
            select(Document).where(Document.url == fetched.url)
        ).one_or_none()
        if document is None:
            document = Document(
                url=fetched.url, kind=fetched.kind, source_id=self.source_id, attempts=0
            )
            session.add(document)
        document.kind = fetched.kind
        document.etag = fetched.etag
        document.last_modified = fetched.last_modified
        document.content_sha256 = fetched.sha256
        document.body = fetched.text
        document.status = "ok"
        document.http_status = fetched.http_status
        document.error = None
        document.attempts = (document.attempts or 0) + 1
        document.fetched_at = utcnow()
        if document.source_id is None:
            document.source_id = self.source_id
        session.flush()
        return document

    def document_row(self, session: Session, url: str, kind: str) -> Document:
        """The row of ``url`` in ``session``, created if new (without validators)."""
        document = session.scalars(select(Document).where(Document.url == url)).one_or_none()
        if document is None:
            document = Document(
                url=url, kind=kind, source_id=self.source_id, status="ok", attempts=0
            )
            session.add(document)
            session.flush()
        return document

    def record_failure(self, url: str, kind: str, error: HarvestError | Exception) -> None:
        """Note why ``url`` failed; its last good body and validators stay as they were."""
        with self.database.session() as session:
            document = self.document_row(session, url, kind)
            document.status = "failed"
            document.error = str(error)
            document.http_status = error.status if isinstance(error, FetchError) else None
            document.attempts = (document.attempts or 0) + 1
            document.fetched_at = utcnow()
