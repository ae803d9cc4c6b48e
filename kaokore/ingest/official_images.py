"""The images of an official KaoKore download, taken from disk instead of fetched.

Why: users who downloaded KaoKore already hold every crop, and a cluster without internet
cannot fetch any. The official layout keeps them in ``images_256/`` beside ``urls.txt``
(line *i*, 0-based, is ``%08d.jpg`` % *i*). Each file is matched to its line, checked to
decode (within the pixel budget) at the size its URL asked for (256x256; ``256,`` gives a
width of 256, ``!200,200`` fits in 200), and stored in the blob store as it is, byte for
byte: a stored image that already is the release image is later copied, never encoded again,
so ``kaokore build --like-official`` reproduces the official ``images_256/`` exactly.

What is recorded: the blob; the official release member's ``checksum`` (the sha256 of the
line's own file, so two lines that share a face each keep their file); and, for a face with
no crop yet, the file as its crop (``crop_status='ok'``), so nothing is fetched for it.
A face that already has a crop keeps it. A file that does not decode or has another size is
reported (path and reason) and not stored.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from kaokore.config import DEFAULT_MAX_IMAGE_PIXELS
from kaokore.db import BlobStore, Database
from kaokore.db.models import Blob, Face, Release, ReleaseMember, utcnow
from kaokore.errors import ArgumentError, UsageError
from kaokore.ingest.official import UrlLine, read_official
from kaokore.release.layout import IMAGE_DIR

__all__ = ["OfficialImagesReport", "expected_size", "store_official_images"]

#: The folder of the images in an official download, beside ``urls.txt``.
_CHUNK: Final = 900


@dataclass(kw_only=True)
class OfficialImagesReport:
    """What storing an official version's images found."""

    folder: Path
    #: url lines that name a face and have a file.
    matched: int = 0
    #: url lines that name a face and have no file in the folder.
    missing: int = 0
    #: Faces that got the file as their crop (they had none).
    faces_given_crop: int = 0
    #: (path, reason) of files that were not stored.
    bad: list[tuple[str, str]] = field(default_factory=list)


def expected_size(size: str) -> tuple[int | None, int | None, int | None]:
    """(width, height, longest side) an Image API ``size`` asks for; None where it is free.

    ``256,256`` -> (256, 256, None); ``256,`` -> (256, None, None); ``!200,200`` -> (None,
    None, 200); anything else (``full``, ``max``, ``pct:``) -> (None, None, None).
    """
    text = size.removeprefix("^")
    if text.startswith("!"):
        parts = text[1:].split(",")
        if len(parts) == 2 and all(part.isdigit() for part in parts):
            return None, None, max(int(parts[0]), int(parts[1]))
        return None, None, None
    parts = text.split(",")
    if len(parts) != 2:
        return None, None, None
    width = int(parts[0]) if parts[0].isdigit() else None
    height = int(parts[1]) if parts[1].isdigit() else None
    return width, height, None


def check_image(data: bytes, size: str) -> str | None:
    """Why ``data`` is not the image a ``size`` request gives, or None when it is."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > DEFAULT_MAX_IMAGE_PIXELS:
                return f"{width}x{height} pixels is above the pixel budget"
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        return f"does not decode as an image ({exc})"
    want_w, want_h, longest = expected_size(size)
    if want_w is None and want_h is None and longest is None:
        want_w = want_h = 256
    if (want_w is not None and width != want_w) or (want_h is not None and height != want_h):
        wanted = f"{want_w or '*'}x{want_h or '*'}"
        return f"is {width}x{height}, but its url line asks for {size} ({wanted})"
    if longest is not None and max(width, height) != longest:
        return f"is {width}x{height}, but its url line asks for {size}"
    return None


@dataclass(frozen=True, slots=True)
class _Stored:
    file_name: str
    face_key: str
    sha256: str
    relative: str
    width: int
    height: int
    size: int
    url: str


def store_official_images(
    database: Database,
    folder: Path,
    *,
    images: Path | None = None,
    version: str | None = None,
    now: dt.datetime | None = None,
) -> OfficialImagesReport:
    """Store the images of an imported official ``folder`` (see the module doc).

    ``images`` is the folder of ``%08d.jpg`` files (default ``folder/images_256``). Run it
    after :func:`kaokore.ingest.official.import_official` on the same folder; raises
    UsageError when the folder has no images or the version was not imported.
    """
    images_dir = images if images is not None else folder / IMAGE_DIR
    if not images_dir.is_dir():
        raise ArgumentError("images", str(images_dir), "no such folder of official images")
    official = read_official(folder, version=version)
    report = OfficialImagesReport(folder=images_dir)
    blobs = BlobStore(database.settings.blob_dir)
    stored = list(_read_files(official.urls, images_dir, blobs, report))
    now = now or utcnow()
    with database.session() as session:
        release = session.scalars(
            select(Release).where(Release.kind == "official", Release.version == official.version)
        ).one_or_none()
        if release is None:
            raise UsageError(
                f"official KaoKore {official.version} is not imported: "
                f"run `kaokore ingest --official {folder}` first"
            )
        known = set(_existing_blobs(session, [item.sha256 for item in stored]))
        for item in stored:
            if item.sha256 not in known:
                known.add(item.sha256)
                session.add(
                    Blob(
                        sha256=item.sha256,
                        path=item.relative,
                        media_type="image/jpeg",
                        width=item.width,
                        height=item.height,
                        bytes=item.size,
                        request_url=item.url,
                        created_at=now,
                    )
                )
        session.flush()
        by_name = {item.file_name: item for item in stored}
        for member in session.scalars(
            select(ReleaseMember).where(ReleaseMember.release_id == release.id)
        ):
            line_image = by_name.get(member.file_name)
            if line_image is not None and member.checksum != line_image.sha256:
                member.checksum = line_image.sha256
        first: dict[str, _Stored] = {}
        for item in stored:
            first.setdefault(item.face_key, item)
        for face in _faces(session, list(first)):
            if face.crop_status != "ok" or face.blob_sha256 is None:
                item = first[face.key]
                face.blob_sha256, face.crop_status, face.crop_error = item.sha256, "ok", None
                report.faces_given_crop += 1
    return report


def _read_files(
    lines: Sequence[UrlLine], images_dir: Path, blobs: BlobStore, report: OfficialImagesReport
) -> Iterator[_Stored]:
    for line in lines:
        if line.face_key is None or line.request is None:
            continue
        path = images_dir / line.file_name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            report.missing += 1
            continue
        except OSError as exc:
            report.bad.append((str(path), f"unreadable: {exc}"))
            continue
        problem = check_image(data, line.request.size)
        if problem is not None:
            report.bad.append((str(path), problem))
            continue
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
        sha256, relative = blobs.put(data, ".jpg")
        report.matched += 1
        yield _Stored(
            file_name=line.file_name,
            face_key=line.face_key,
            sha256=sha256,
            relative=relative,
            width=width,
            height=height,
            size=len(data),
            url=path.resolve().as_uri(),
        )


def _existing_blobs(session: Session, shas: list[str]) -> Iterator[str]:
    unique = sorted(set(shas))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        yield from session.scalars(select(Blob.sha256).where(Blob.sha256.in_(chunk)))


def _faces(session: Session, keys: list[str]) -> Iterator[Face]:
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        yield from session.scalars(select(Face).where(Face.key.in_(chunk)))
