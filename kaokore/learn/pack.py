"""A KaoKore folder as one file small enough to travel to a GPU machine, and back to a folder.

The GPU machine this project is lent at times receives the working tree plus carried paths,
64 MiB in all; the version 1.0 faces are 128 MiB as JPEGs. A pack re-encodes each face once
(JPEG, quality 80 by default, at its own 256 px: about 49 MiB for the 5,298 faces of
version 1.0) and stores, in one uncompressed ``.npz`` (numpy only, no pickle):

- ``jpeg``: every image's bytes concatenated, ``offsets``: where each one starts and ends;
- ``image``: the file names, ``key``: each face's key, both as ASCII bytes (the SHA-256 of its
  *original* bytes, see :mod:`kaokore.learn.faces`), so the leak check still recognises the
  faces after re-encoding;
- ``labels_csv``: the folder's ``labels.csv`` byte for byte; ``meta``: a JSON description.

:func:`unpack` writes the official download layout back (``images_256/``, ``labels.csv``,
``face_keys.csv``, ``pack.json``), which every loader of this package reads as it is. Only
numpy and Pillow are used, so packing and unpacking work where the GPU path runs.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from itertools import repeat
from pathlib import Path
from typing import Final

import numpy as np
from PIL import Image

from kaokore.errors import ArgumentError, ReleaseError
from kaokore.learn.faces import KEYS_FILE, PACK_META, face_keys, release_checksum
from kaokore.release import ReleaseFolder
from kaokore.release.layout import IMAGE_DIR, LABELS_FILE

__all__ = ["DEFAULT_QUALITY", "PACK_FORMAT", "encode_face", "make_pack", "read_meta", "unpack"]

PACK_FORMAT: Final = 1
DEFAULT_QUALITY: Final = 80
_FIELDS: Final = ("jpeg", "offsets", "image", "key", "labels_csv", "meta")


def encode_face(path: str, quality: int, size: int | None) -> bytes:
    """One image re-encoded as a baseline JPEG of ``quality`` (resized to ``size`` if given)."""
    try:
        with Image.open(path) as image:
            rgb = image.convert("RGB")
    except (OSError, ValueError) as exc:
        raise ReleaseError(f"{path}: cannot decode the image ({exc})") from None
    if size is not None and rgb.size != (size, size):
        rgb = rgb.resize((size, size), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    rgb.save(buffer, "JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def _encode_all(paths: Sequence[str], quality: int, size: int | None, workers: int) -> list[bytes]:
    if workers <= 0:
        return [encode_face(path, quality, size) for path in paths]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(encode_face, paths, repeat(quality), repeat(size), chunksize=64))


def make_pack(
    root: Path,
    out: Path,
    *,
    quality: int = DEFAULT_QUALITY,
    size: int | None = None,
    workers: int = 0,
) -> dict[str, object]:
    """Pack every face listed in ``root/labels.csv`` into ``out`` (``.npz``); return its meta.

    Raises UsageError for a quality outside 1..95, ReleaseError naming a missing or corrupt
    image, DatasetNotFoundError when ``root`` is no KaoKore folder.
    """
    if not 1 <= quality <= 95:
        raise ArgumentError("quality", quality, "must be between 1 and 95")
    rows = ReleaseFolder.open(root).labels()
    names = list(dict.fromkeys(row.image for row in rows))
    keys = face_keys(root, names)
    blobs = _encode_all([str(root / IMAGE_DIR / name) for name in names], quality, size, workers)
    offsets = np.zeros(len(blobs) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(blob) for blob in blobs])
    meta: dict[str, object] = {
        "format": PACK_FORMAT,
        "source": root.name,
        "release_checksum": release_checksum(root),
        "faces": len(names),
        "quality": quality,
        "size": size,
        "original_bytes": sum((root / IMAGE_DIR / name).stat().st_size for name in names),
        "packed_bytes": int(offsets[-1]),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f"{out.name}.{os.getpid()}.partial")
    try:
        with partial.open("wb") as handle:
            np.savez(
                handle,
                jpeg=np.frombuffer(b"".join(blobs), dtype=np.uint8),
                offsets=offsets,
                image=np.array([name.encode() for name in names], dtype=bytes),
                key=np.array([keys[name].encode() for name in names], dtype=bytes),
                labels_csv=np.frombuffer((root / LABELS_FILE).read_bytes(), dtype=np.uint8),
                meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
            )
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return meta


def _open(pack: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(pack, allow_pickle=False) as data:
            missing = [field for field in _FIELDS if field not in data.files]
            if missing:
                raise ReleaseError(f"{pack}: not a KaoKore pack (no {', '.join(missing)})")
            return {field: data[field] for field in _FIELDS}
    except (OSError, ValueError) as exc:
        raise ReleaseError(f"{pack}: cannot read the pack ({exc})") from None


def read_meta(pack: Path) -> dict[str, object]:
    """The JSON description stored in a pack."""
    meta: dict[str, object] = json.loads(_open(pack)["meta"].tobytes().decode())
    return meta


def unpack(pack: Path, out: Path) -> int:
    """Write the pack's folder (official download layout) into ``out``; return the face count.

    An ``out`` that already holds this pack's ``pack.json`` is reused as it is.
    """
    data = _open(pack)
    meta_bytes = data["meta"].tobytes()
    marker = out / PACK_META
    names = [bytes(name).decode() for name in data["image"]]
    if marker.is_file() and marker.read_bytes() == meta_bytes:
        return len(names)
    images = out / IMAGE_DIR
    images.mkdir(parents=True, exist_ok=True)
    jpeg, offsets = data["jpeg"], data["offsets"]
    if len(offsets) != len(names) + 1 or int(offsets[-1]) != len(jpeg):
        raise ReleaseError(f"{pack}: the offsets do not match the images (a damaged pack)")
    for i, name in enumerate(names):
        if "/" in name or name.startswith("."):
            raise ReleaseError(f"{pack}: unsafe image name {name!r}")
        (images / name).write_bytes(jpeg[offsets[i] : offsets[i + 1]].tobytes())
    (out / LABELS_FILE).write_bytes(data["labels_csv"].tobytes())
    with (out / KEYS_FILE).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "key"])
        keys = [bytes(key).decode() for key in data["key"]]
        writer.writerows(zip(names, keys, strict=True))
    marker.write_bytes(meta_bytes)
    return len(names)
