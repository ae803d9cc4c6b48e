#!/usr/bin/env python3
"""Images per second of the official-style loader and of the fast path, in one run.

The official loader opens and decodes a JPEG per item and applies torchvision transforms on
PIL images; the fast path gathers already-decoded uint8 images from the memory-mapped cache
and applies the same augmentation (random resized crop, flip, normalise) to a whole batch as
tensor ops. Both read the same images with the same batch size and image size; the cache build
(the one epoch that still decodes JPEGs) is reported as its own row.

Uses the 8,446 real version 1.2 images of ``../shared/data/kaokore`` when present (else it
generates random JPEGs). Each loader row is a ``(name, images/s)`` pair in ``ROWS`` order, so
other loaders (tf.data) add a row, not a new table.

    python bench/loader.py [--images 2048] [--batch-size 64] [--image-size 224] [--workers 0]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kaokore.learn.augment import BatchAugment, train_transform  # noqa: E402
from kaokore.learn.batches import FastBatches  # noqa: E402
from kaokore.learn.data import FastKaoKore, KaoKore  # noqa: E402

SHARED = Path(os.environ.get("KAOKORE_SHARED", REPO.parent / "shared")) / "data" / "kaokore"


@dataclass(frozen=True)
class Row:
    """One line of the table: a loader and its throughput."""

    name: str
    images_per_second: float
    images: int
    seconds: float


def prepare_folder(work: Path, images: int) -> tuple[Path, str]:
    """An official-layout folder: the real images (symlinked) or ``images`` generated ones."""
    root = work / "kaokore"
    root.mkdir()
    if (SHARED / "images_256").is_dir():
        (root / "images_256").symlink_to(SHARED / "images_256")
        shutil.copyfile(SHARED / "official" / "v1.2" / "labels.csv", root / "labels.csv")
        return root, f"real KaoKore 1.2 images from {SHARED}"
    (root / "images_256").mkdir()
    rng = np.random.default_rng(0)
    lines = ["image,gender,status,set"]
    for i in range(images):
        pixels = rng.integers(0, 256, size=(256, 256, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / "images_256" / f"{i:08d}.jpg", quality=90)
        lines.append(f"{i:08d}.jpg,{i % 2},{i % 4},train")
    (root / "labels.csv").write_text("\n".join(lines) + "\n")
    return root, f"{images} generated 256 px JPEGs (no ../shared)"


def timed(name: str, run: Callable[[], int]) -> Row:
    started = time.perf_counter()
    count = run()
    seconds = time.perf_counter() - started
    return Row(name, count / seconds, count, seconds)


def official_style(root: Path, args: argparse.Namespace) -> Row:
    dataset = KaoKore(root, "train", transform=train_transform(args.image_size))
    dataset.restrict(args.images)
    loader = DataLoader(
        dataset,
        batch_size=args.batch_size,
        shuffle=True,
        num_workers=args.workers,
        generator=torch.Generator().manual_seed(0),
    )

    def run() -> int:
        return sum(len(labels) for _images, labels in loader)

    return timed(f"official-style (JPEG per item, {args.workers} workers)", run)


def fast_path(root: Path, args: argparse.Namespace, cache_dir: Path) -> list[Row]:
    holder: list[FastKaoKore] = []

    def build() -> int:
        holder.append(
            FastKaoKore(
                root,
                "train",
                image_size=args.image_size,
                cache_dir=cache_dir,
                workers=args.workers,
                limit=args.images,
            )
        )
        return len(holder[0])

    first = timed(f"fast path: cache build (decode once, {args.workers} workers)", build)
    batches = FastBatches(
        holder[0],
        BatchAugment(args.image_size, train=True),
        batch_size=args.batch_size,
        device=torch.device("cpu"),
        shuffle=True,
    )

    def epoch() -> int:
        return sum(len(labels) for _images, labels in batches)

    return [first, timed("fast path: later epochs (cached uint8 + batched tensor ops)", epoch)]


def tf_data(root: Path, args: argparse.Namespace, cache_dir: Path) -> list[Row]:
    """``kaokore.learn.tf.dataset`` decoding JPEGs in parallel, with the same augmentation
    as the official-style row (random resized crop of 50-100 % area, flip, normalise) as
    tf.image ops per image; ``max(workers, 1)`` decoding threads for the same CPU budget.
    No row when TensorFlow is not installed (imported here, after torch, on purpose)."""
    try:
        import tensorflow as tf
    except ImportError:
        return []
    from kaokore.learn.augment import CROP_RATIO, CROP_SCALE, IMAGENET_MEAN, IMAGENET_STD
    from kaokore.learn.tf import dataset

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    threads = max(args.workers, 1)
    mean, std = tf.constant(IMAGENET_MEAN), tf.constant(IMAGENET_STD)
    size = args.image_size

    def augment(image: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        begin, extent, _ = tf.image.sample_distorted_bounding_box(
            tf.shape(image),
            bounding_boxes=tf.constant([[[0.0, 0.0, 1.0, 1.0]]]),
            min_object_covered=0.0,
            aspect_ratio_range=CROP_RATIO,
            area_range=CROP_SCALE,
            use_image_if_no_bounding_boxes=True,
        )
        crop = tf.image.resize(tf.slice(image, begin, extent), (size, size), antialias=True)
        crop = tf.image.random_flip_left_right(crop)
        return (crop / 255.0 - mean) / std, label

    options = tf.data.Options()
    options.threading.private_threadpool_size = threads
    data = (
        dataset(root, "train", image_size=None, shuffle=True, seed=0)
        .take(args.images)
        .map(augment, num_parallel_calls=tf.data.AUTOTUNE)
        .batch(args.batch_size)
        .prefetch(tf.data.AUTOTUNE)
        .with_options(options)
    )

    def run() -> int:
        return sum(int(labels.shape[0]) for _images, labels in data)

    return [timed(f"tf.data (JPEG per item, {threads} decode threads)", run)]


#: The loaders measured, in table order; each returns its rows. tf.data joins here.
ROWS: list[Callable[[Path, argparse.Namespace, Path], list[Row]]] = [
    lambda root, args, cache: [official_style(root, args)],
    fast_path,
    tf_data,
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2048, help="train images per measurement")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--workers", type=int, default=0, help="decoding processes (both paths)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="kaokore-bench-loader-") as temp:
        work = Path(temp)
        root, source = prepare_folder(work, args.images)
        rows = [row for measure in ROWS for row in measure(root, args, work / "cache")]
    baseline = rows[0].images_per_second
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"# {source}; {rows[0].images} train images, batch {args.batch_size}, "
        f"{args.image_size} px, torch {torch.__version__}, {args.threads} thread(s)"
    )
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average {load:.1f}"
    )
    print(f"| {'loader':<62} | {'images/s':>9} | {'vs official':>11} |")
    print(f"| {'-' * 62} | {'-' * 9}: | {'-' * 10}: |")
    for row in rows:
        ratio = row.images_per_second / baseline
        print(f"| {row.name:<62} | {row.images_per_second:>9.0f} | {ratio:>10.2f}x |")
    if args.json:
        args.json.write_text(json.dumps([row.__dict__ for row in rows], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
