"""The faces of one split of a release, decoded once into a uint8 tensor.

The generative models need only the pixels: the split's images are taken from the one
release reader (:class:`kaokore.release.ReleaseFolder`, which also reads a folder laid out
like the official download). A GAN samples random batches from the whole split many
thousands of times, so the faces are decoded once (with JPEG draft mode, which decodes at a
reduced scale when the target is small) and kept in memory as uint8: 8,446 faces are 100 MB
at 64 px and 415 MB at 128 px.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from kaokore.errors import ReleaseError
from kaokore.release import ReleaseFolder
from kaokore.release.layout import LABELS_FILE, SETS

__all__ = [
    "SPLITS",
    "load_image",
    "load_images",
    "load_release_images",
    "release_image_paths",
]

#: The values of the ``set`` column, plus ``all`` for every labelled face.
SPLITS: Final[tuple[str, ...]] = (*SETS, "all")


def release_image_paths(root: Path | str, split: str = "train") -> list[Path]:
    """The image files of ``split`` in the release at ``root``, in ``labels.csv`` order.

    Raises :class:`DatasetNotFoundError` when ``root`` is not a release, and
    :class:`ReleaseError` naming the first listed image that is missing.
    """
    if split not in SPLITS:
        raise ValueError(f"Unknown value {split!r} for argument split. Valid values are {SPLITS}")
    release = ReleaseFolder.open(root)
    paths = [release.image_path(row.image) for row in release.in_set(split)]
    for path in paths:
        if not path.is_file():
            raise ReleaseError(
                f"{path}: listed in {release.root / LABELS_FILE} but missing; "
                f"run `kaokore verify {release.root}`"
            )
    if not paths:
        raise ReleaseError(f"{release.root / LABELS_FILE}: no faces in split {split!r}")
    return paths


def load_image(path: Path | str, size: int) -> torch.Tensor:
    """One image as a float tensor ``(3, size, size)`` in ``[0, 1]``."""
    return load_images([Path(path)], size).float().div(255.0)[0]


def load_images(paths: Sequence[Path], size: int) -> torch.Tensor:
    """Decode ``paths`` into uint8 ``(N, 3, size, size)`` (centre square); names bad files."""
    out = np.empty((len(paths), size, size, 3), dtype=np.uint8)
    for i, path in enumerate(paths):
        try:
            with Image.open(path) as image:
                image.draft("RGB", (size, size))  # decode JPEGs at the smallest sufficient scale
                rgb = image.convert("RGB")
                if rgb.width != rgb.height:  # centre square, as the release's faces are
                    side = min(rgb.size)
                    left, top = (rgb.width - side) // 2, (rgb.height - side) // 2
                    rgb = rgb.crop((left, top, left + side, top + side))
                if rgb.size != (size, size):
                    rgb = rgb.resize((size, size), Image.Resampling.BICUBIC, reducing_gap=None)
                out[i] = np.asarray(rgb)
        except (OSError, UnidentifiedImageError) as exc:
            raise ReleaseError(f"{path}: cannot be decoded as an image ({exc})") from exc
    return torch.from_numpy(out).permute(0, 3, 1, 2).contiguous()


def load_release_images(
    root: Path | str,
    *,
    split: str = "train",
    size: int = 64,
    limit: int | None = None,
    seed: int = 0,
) -> torch.Tensor:
    """The faces of ``split`` as uint8 ``(N, 3, size, size)``; ``limit`` keeps a seeded subset."""
    paths = release_image_paths(root, split)
    if limit is not None and limit < len(paths):
        keep = np.sort(np.random.RandomState(seed).permutation(len(paths))[:limit])
        paths = [paths[i] for i in keep]
    return load_images(paths, size)
