"""Decode a split's JPEGs once into a uint8 array on disk, and memory-map it afterwards.

The array is ``N x S x S x 3`` (``.npy``, so it describes its own shape), in the order of the
images asked for, resized with PIL's bilinear filter: exactly what ``transforms.Resize`` does
to the same PIL image, so the fast path matches the plain one. Its name is a hash of the
folder's fingerprint (:func:`fingerprint`), the image list and ``S``: a
changed release, split or size gets a new array, and an unchanged one is never decoded again.

Decoding doubles as validation: a missing or undecodable image raises ReleaseError naming the
file, before any training starts. The file is written under a temporary name and renamed into
place, so an interrupted build leaves no half array behind. No torch here: the work is PIL
and numpy, and the worker processes stay light.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from pathlib import Path
from typing import Final

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from kaokore.config import Settings
from kaokore.errors import ReleaseError
from kaokore.release.layout import IMAGE_DIR, LABELS_FILE, SUMS_FILE

__all__ = [
    "CACHE_SUBDIR",
    "cache_key",
    "decode_image",
    "decoded_array",
    "default_cache_dir",
    "fingerprint",
    "load_image",
    "stored_size",
    "verify_images",
]

#: Folder under the kaokore cache directory (``KAOKORE_HOME/cache``) holding decoded arrays.
CACHE_SUBDIR: Final = "decoded"
_CHUNK: Final = 64


def default_cache_dir() -> Path:
    """``$KAOKORE_HOME/cache/decoded``: deletable at any time, rebuilt on the next run."""
    return Settings.from_env().cache_dir / CACHE_SUBDIR


def load_image(path: str | os.PathLike[str]) -> Image.Image:
    """Open an image as RGB, the way the official loader does (grayscale becomes RGB)."""
    with open(path, "rb") as handle:
        image = Image.open(handle)
        return image.convert("RGB")


def decode_image(path: str | os.PathLike[str], size: int | None) -> NDArray[np.uint8]:
    """Decode one image to ``size x size x 3`` uint8; ReleaseError names a bad file."""
    try:
        image = load_image(path)
        if size is not None and image.size != (size, size):
            image = image.resize((size, size), Image.Resampling.BILINEAR)
        return np.asarray(image, dtype=np.uint8)
    except FileNotFoundError:
        raise ReleaseError(f"{path}: the image is missing") from None
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ReleaseError(f"{path}: cannot decode the image ({exc})") from None


def _decode_chunk(
    paths: Sequence[str], size: int | None, keep: bool = True
) -> tuple[list[NDArray[np.uint8]], str | None]:
    """Worker body: decode ``paths``; report the first failure as a message, not a raise,
    so the parent raises one clean ReleaseError instead of a worker traceback."""
    arrays: list[NDArray[np.uint8]] = []
    for path in paths:
        try:
            decoded = decode_image(path, size)
        except ReleaseError as exc:
            return arrays, str(exc)
        if keep:
            arrays.append(decoded)
    return arrays, None


def _decode_all(
    paths: Sequence[str], size: int | None, *, workers: int, keep: bool = True
) -> Iterator[tuple[list[NDArray[np.uint8]], str | None]]:
    """Decode in chunks of ``_CHUNK``, in order, in ``workers`` processes (0: here)."""
    chunks = [paths[start : start + _CHUNK] for start in range(0, len(paths), _CHUNK)]
    if workers <= 0 or len(chunks) <= 1:
        for chunk in chunks:
            yield _decode_chunk(chunk, size, keep)
        return
    pool = ProcessPoolExecutor(max_workers=min(workers, len(chunks)))
    try:
        yield from pool.map(_decode_chunk, chunks, repeat(size), repeat(keep))
    finally:  # on the first error, drop the chunks not yet started
        pool.shutdown(wait=True, cancel_futures=True)


def _check(error: str | None) -> None:
    if error is not None:
        raise ReleaseError(error)


def verify_images(root: Path, images: Sequence[str], *, workers: int = 0) -> None:
    """Decode every image once and raise ReleaseError naming the first that fails."""
    paths = [str(root / IMAGE_DIR / name) for name in images]
    for _arrays, error in _decode_all(paths, None, workers=workers, keep=False):
        _check(error)


def fingerprint(root: Path, images: Iterable[str]) -> str:
    """A key that changes when the images a split reads change, for the decoded-array cache.

    A release is identified by its ``SHA256SUMS`` (plus each file's size, which catches a
    truncated copy); an official download, which has no checksums, by ``labels.csv`` and each
    listed image's size and modification time.
    """
    digest = hashlib.sha256()
    sums = root / SUMS_FILE
    has_sums = sums.is_file()
    digest.update((sums if has_sums else root / LABELS_FILE).read_bytes())
    for name in images:
        try:
            stat = os.stat(root / IMAGE_DIR / name)
        except FileNotFoundError:
            digest.update(f"{name}:missing\n".encode())
            continue
        stamp = "" if has_sums else f":{stat.st_mtime_ns}"
        digest.update(f"{name}:{stat.st_size}{stamp}\n".encode())
    return digest.hexdigest()


def cache_key(root: Path, images: Sequence[str], size: int) -> str:
    """The array's name: the folder fingerprint, the image list (order included) and the size."""
    digest = hashlib.sha256(fingerprint(root, images).encode())
    digest.update(f"\nsize={size}\n".encode())
    digest.update("\n".join(images).encode())
    return digest.hexdigest()[:32]


def decoded_array(
    root: Path,
    images: Sequence[str],
    size: int,
    *,
    cache_dir: Path | None = None,
    workers: int = 0,
) -> Path:
    """Return the ``.npy`` file holding ``images`` decoded at ``size``, building it if needed.

    ``workers`` processes decode in parallel (0: in this process). Raises ReleaseError naming
    the first missing or corrupt image.
    """
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    key = cache_key(root, images, size)
    target = folder / f"{key}.npy"
    meta_path = folder / f"{key}.json"
    if target.is_file() and meta_path.is_file():
        try:
            stored = np.load(target, mmap_mode="r")
            if stored.shape == (len(images), size, size, 3) and stored.dtype == np.uint8:
                return target
        except (OSError, ValueError):
            pass  # a damaged cache file is rebuilt below
    folder.mkdir(parents=True, exist_ok=True)
    paths = [str(root / IMAGE_DIR / name) for name in images]
    partial = folder / f"{key}.{os.getpid()}.partial.npy"
    try:
        array = np.lib.format.open_memmap(
            partial, mode="w+", dtype=np.uint8, shape=(len(images), size, size, 3)
        )
        row = 0
        for decoded, error in _decode_all(paths, size, workers=workers):
            for item in decoded:
                array[row] = item
                row += 1
            _check(error)
        array.flush()
        del array
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    meta = {"root": str(root), "size": size, "count": len(images), "images": list(images)}
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    return target


def stored_size(root: Path, images: Sequence[str]) -> int | None:
    """The side of the first image of ``images`` (its header only), or None if unreadable.

    Release images are squares of one size; the fast path stores its training split at that
    size so each random crop resamples the original pixels once.
    """
    if not images:
        return None
    try:
        with Image.open(root / IMAGE_DIR / images[0]) as image:
            return max(image.size)
    except (OSError, ValueError):
        return None
