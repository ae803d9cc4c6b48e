"""The KaoKore loader for TensorFlow: a ``tf.data.Dataset`` of ``(uint8 image, int label)``.

Needs the ``tf`` extra (``pip install 'kaokore[tf]'``: tensorflow-cpu). TensorFlow is imported
only when :func:`dataset` is called, so importing this module (or :func:`entries`) is cheap.

Why it gives exactly what :class:`kaokore.learn.data.KaoKore` gives: both take the faces of a
split from :class:`kaokore.release.ReleaseFolder` (``labels.csv`` order, rows whose image is absent
skipped unless ``strict``), and JPEGs are decoded with libjpeg's accurate integer DCT
(``dct_method="INTEGER_ACCURATE"``), which is what PIL uses; TensorFlow's default, the fast
DCT, differs from PIL in most pixels. So element ``i`` of an unshuffled dataset and item ``i``
of ``KaoKore`` hold the same uint8 pixels and the same label. Resizing (an ``image_size``
other than the files' size) uses TensorFlow's antialiased bilinear filter, which is close to
PIL's but not bit-identical.

Why shuffling happens before decoding: the buffer then holds the whole split's file names
(a few hundred kB), not images, so the shuffle is a full one at no memory cost.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kaokore.errors import ReleaseError
from kaokore.release import ReleaseFolder
from kaokore.release.layout import CATEGORIES, SETS, SPLIT_FILES

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["dataset", "entries"]


def _check(value: str | None, argument: str, valid: Sequence[str]) -> None:
    """torchvision's ``verify_str_arg`` message, without importing torch."""
    if value not in valid:
        raise ValueError(
            f"Unknown value '{value}' for argument {argument}. "
            f"Valid values are {{{', '.join(valid)}}}."
        )


def entries(
    root: str | os.PathLike[str],
    split: str = "train",
    category: str = "gender",
    *,
    split_file: str | None = None,
    strict: bool = False,
) -> list[tuple[str, int]]:
    """The ``(image path, label)`` pairs of a split, in the order :class:`KaoKore` indexes them.

    Rows whose image file is absent are skipped, as by the official loader; with ``strict``
    the first one raises ReleaseError instead. Raises DatasetNotFoundError when ``root`` holds
    no KaoKore folder (or no such split file), ValueError for an unknown split or category.
    """
    _check(split, "split", SETS)
    _check(category, "category", CATEGORIES)
    if split_file is not None:
        _check(split_file, "split_file", SPLIT_FILES)
    release = ReleaseFolder.open(root)
    present = [
        (str(release.image_path(row.image)), row.label(category))
        for row in release.in_set(split, split_file)
    ]
    kept = [(path, label) for path, label in present if os.path.isfile(path)]
    if strict and len(kept) < len(present):
        missing = [path for path, _ in present if not os.path.isfile(path)]
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise ReleaseError(f"{missing[0]}: the image is missing{more}")
    return kept


def dataset(
    root: str | os.PathLike[str],
    split: str = "train",
    category: str = "gender",
    image_size: int | None = 256,
    batch_size: int | None = None,
    *,
    shuffle: bool | None = None,
    seed: int | None = None,
    split_file: str | None = None,
    strict: bool = False,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """A ``tf.data.Dataset`` of the faces of ``split``: ``(uint8 S x S x 3, int64 label)``.

    Args:
        root: a release folder or an official download (``images_256/`` and ``labels.csv``).
        split: ``train``, ``dev`` or ``test``.
        category: ``gender`` (2 classes) or ``status`` (4 classes).
        image_size: side ``S`` of the images; None keeps each file's size (256 in releases).
        batch_size: batch the elements (``N x S x S x 3``, ``N``); None yields single faces.
        shuffle: reshuffle every epoch; default on for ``train``, off for ``dev`` and ``test``.
        seed: makes the shuffle order reproducible (None: a fresh order per run).
        split_file: ``official``, ``stable``, ``by-work`` or ``by-page`` to take the sets
            from ``splits/NAME.csv`` of a release, as ``KaoKore(split_file=...)``.
        strict: raise ReleaseError for a missing image instead of skipping it.
        drop_remainder: drop a last, smaller batch.

    Decoding runs in parallel (``num_parallel_calls=AUTOTUNE``, order kept) and the result
    is prefetched. A corrupt JPEG raises TensorFlow's ``InvalidArgumentError`` when read;
    ``kaokore verify`` finds such files beforehand.
    """
    import tensorflow as tf

    if image_size is not None and image_size < 1:
        raise ValueError(f"image_size must be at least 1 (or None), not {image_size}")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be at least 1 (or None), not {batch_size}")
    pairs = entries(root, split, category, split_file=split_file, strict=strict)
    if shuffle is None:
        shuffle = split == "train"
    paths = tf.constant([path for path, _ in pairs], dtype=tf.string)
    labels = tf.constant([label for _, label in pairs], dtype=tf.int64)
    data = tf.data.Dataset.from_tensor_slices((paths, labels))
    if shuffle and pairs:
        data = data.shuffle(len(pairs), seed=seed, reshuffle_each_iteration=True)

    def load(path: Any, label: Any) -> tuple[Any, Any]:
        image = tf.io.decode_jpeg(tf.io.read_file(path), channels=3, dct_method="INTEGER_ACCURATE")
        if image_size is not None:
            size = tf.shape(image)[:2]
            image = tf.cond(
                tf.reduce_all(size == image_size),
                lambda: image,
                lambda: _resized(tf, image, image_size),
            )
            image = tf.ensure_shape(image, (image_size, image_size, 3))
        return image, label

    data = data.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    if batch_size is not None:
        data = data.batch(batch_size, drop_remainder=drop_remainder)
    return data.prefetch(tf.data.AUTOTUNE)


def _resized(tf: Any, image: Any, size: int) -> Any:
    """Antialiased bilinear resize back to uint8, rounding as PIL does."""
    resized = tf.image.resize(image, (size, size), method="bilinear", antialias=True)
    return tf.cast(tf.round(tf.clip_by_value(resized, 0.0, 255.0)), tf.uint8)
