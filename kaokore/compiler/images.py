"""The image stage: stored crops cut square, resized to 256x256 RGB and encoded identically.

Why fixed settings: a release must be byte-identical when rebuilt, and a face's image must be
the same file in every release. So the filter (Lanczos), the JPEG quality, the chroma
subsampling (4:4:4) and the encoder options are constants, nothing optional is chosen by the
encoder (no ``optimize``, no progressive scan), and nothing time-dependent is written (no EXIF,
no ICC profile, no comment).

Why a process pool: decoding, resampling and encoding are CPU-bound and hold the GIL. A task
carries only paths and numbers (never an image or a database handle), so it pickles cheaply,
and the pool uses the ``spawn`` start method: workers inherit no database connection and no
progress-bar thread from the parent. The price is a fresh interpreter per worker, which
imports this module (light: Pillow only) and, as ``spawn`` does, the main script (for the
``kaokore`` command, the CLI: about 80 MB and well under a second on an idle core).
``workers=1`` runs in this process, with no pool at all.
"""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Final

from PIL import Image

from kaokore.box import Box
from kaokore.config import DEFAULT_MAX_IMAGE_PIXELS
from kaokore.release.layout import IMAGE_SIZE

__all__ = [
    "JPEG_OPTIONS",
    "RESAMPLE",
    "ImageResult",
    "ImageTask",
    "crop_box",
    "render_face",
    "run_image_stage",
]

#: Lanczos: the sharpest of Pillow's filters for downscaling, and deterministic.
RESAMPLE: Final = Image.Resampling.LANCZOS
#: Fixed encoder settings; changing any of them changes every image of every new build.
JPEG_OPTIONS: Final[dict[str, object]] = {
    "quality": 95,
    "subsampling": 0,
    "optimize": False,
    "progressive": False,
}
#: Tasks handed to a worker at once: large enough to amortise the pickling round trip.
CHUNK_SIZE: Final = 16


@dataclass(frozen=True, kw_only=True, slots=True)
class ImageTask:
    """One image to make: read ``source``, check it hashes to ``source_sha256``, cut ``box``
    (None: the whole crop), resize, and write ``output``.

    ``copy``: the source already is the release image (an official image stored as it
    is): it is checked to decode and written byte for byte, never encoded again.
    """

    source: str
    source_sha256: str
    box: tuple[int, int, int, int] | None
    output: str
    copy: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class ImageResult:
    """What came of a task: the written file's name and sha256, or why nothing was written."""

    output: str
    sha256: str | None
    error: str | None = None


def crop_box(
    width: int, height: int, *, square: Box, key_square: Box | None
) -> tuple[int, int, int, int] | None:
    """The square to cut from a stored crop of ``width`` x ``height``, or None if it is square.

    A crop is stored for the face's square clamped inside the image, so a face at the edge of
    a page has an oblong crop. Cut the largest square inside it, centred as near the centre of
    the unclamped square (``key_square``) as the crop allows, so no padding is invented.
    """
    if width == height:
        return None
    side = min(width, height)
    scale_x = width / square.w if square.w else 1.0
    scale_y = height / square.h if square.h else 1.0
    centre = key_square or square
    cx = (centre.x + centre.w / 2 - square.x) * scale_x
    cy = (centre.y + centre.h / 2 - square.y) * scale_y
    left = min(max(round(cx - side / 2), 0), width - side)
    top = min(max(round(cy - side / 2), 0), height - side)
    return (left, top, left + side, top + side)


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB, with any transparency flattened onto white (the paper colour of most scrolls)."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode in ("I;16", "I", "F"):
        return image.convert("L").convert("RGB")
    return image.convert("RGB")


def render_face(task: ImageTask) -> ImageResult:
    """Make one release image; never raises for a bad crop (the build lists it as left out)."""
    Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_IMAGE_PIXELS
    try:
        with open(task.source, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return ImageResult(output=task.output, sha256=None, error=f"stored crop unreadable: {exc}")
    if hashlib.sha256(data).hexdigest() != task.source_sha256:
        return ImageResult(
            output=task.output, sha256=None, error="stored crop is corrupt (sha256 mismatch)"
        )
    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            if task.copy:
                with open(task.output, "wb") as handle:
                    handle.write(data)
                return ImageResult(output=task.output, sha256=task.source_sha256)
            image = _to_rgb(opened)
            if task.box is not None:
                image = image.crop(task.box)
            if image.size != (IMAGE_SIZE, IMAGE_SIZE):
                image = image.resize((IMAGE_SIZE, IMAGE_SIZE), RESAMPLE)
            image.info = {}  # no comment, EXIF, ICC or DPI carried over from the crop
            out = io.BytesIO()
            image.save(out, format="JPEG", **JPEG_OPTIONS)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        return ImageResult(
            output=task.output, sha256=None, error=f"stored crop cannot be decoded: {exc}"
        )
    encoded = out.getvalue()
    with open(task.output, "wb") as handle:
        handle.write(encoded)
    return ImageResult(output=task.output, sha256=hashlib.sha256(encoded).hexdigest())


def default_workers() -> int:
    """Every core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def run_image_stage(
    tasks: Sequence[ImageTask],
    *,
    workers: int | None = None,
    on_done: Callable[[int], None] | None = None,
) -> list[ImageResult]:
    """Run every task, in a process pool when ``workers`` > 1; results in task order.

    ``on_done(n)`` is called as each batch of ``n`` tasks finishes (the progress bar).
    """
    count = default_workers() if workers is None else workers
    if count < 1:
        raise ValueError(f"workers must be at least 1, not {count}")
    results: list[ImageResult] = []
    for result in _results(tasks, min(count, max(1, len(tasks)))):
        results.append(result)
        if on_done is not None:
            on_done(1)
    return results


def _results(tasks: Sequence[ImageTask], count: int) -> Iterator[ImageResult]:
    if count == 1:
        yield from map(render_face, tasks)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
        yield from pool.map(render_face, tasks, chunksize=CHUNK_SIZE)
