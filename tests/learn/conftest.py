"""Tiny KaoKore folders written on the fly, in the style of torchvision's ``inject_fake_data``.

``make_folder`` writes the official download layout (``images_256/`` and ``labels.csv``) and,
with ``release=True``, what ``kaokore build`` adds (``splits/``, ``release.json``,
``SHA256SUMS``). Image colour encodes the gender label (red male, blue female) with noise, so a
network can learn it in a few steps; ``learnable`` folders rely on that.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

COLOURS = {0: (200, 40, 40), 1: (40, 40, 200)}


@dataclass(frozen=True)
class Row:
    image: str
    gender: int
    status: int
    set: str


def make_rows(counts: dict[str, tuple[int, int]], *, start: int = 0) -> list[Row]:
    """Rows per set as ``{set: (male, female)}``; status cycles 0..3, names are numbered."""
    rows: list[Row] = []
    number = start
    for split, (male, female) in counts.items():
        for gender, count in ((0, male), (1, female)):
            for _ in range(count):
                rows.append(Row(f"{number:08d}.jpg", gender, number % 4, split))
                number += 1
    # interleave, as the official files are not sorted by label
    rng = np.random.default_rng(0)
    order = rng.permutation(len(rows))
    return [rows[i] for i in order]


def write_image(path: Path, gender: int, *, size: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    base = np.array(COLOURS[gender], dtype=np.int16)
    pixels = base + rng.integers(-40, 41, size=(size, size, 3))
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path, quality=90)


def make_folder(
    root: Path,
    rows: Sequence[Row],
    *,
    size: int = 32,
    release: bool = False,
    splits: dict[str, dict[str, str]] | None = None,
    skip_images: Iterable[str] = (),
) -> Path:
    """Write a KaoKore folder at ``root`` and return it."""
    images = root / "images_256"
    images.mkdir(parents=True, exist_ok=True)
    skipped = set(skip_images)
    for i, row in enumerate(rows):
        if row.image not in skipped:
            write_image(images / row.image, row.gender, size=size, seed=i)
    with (root / "labels.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "gender", "status", "set"])
        for row in rows:
            writer.writerow([row.image, row.gender, row.status, row.set])
    (root / "labels.metadata.en.txt").write_text(
        "gender\tstatus\n2\t4\n\ngender\n\t0\tmale\n\t1\tfemale\n"
    )
    if release:
        folder = root / "splits"
        folder.mkdir(exist_ok=True)
        labels = {row.image: row for row in rows}
        for name, assignment in (splits or {}).items():
            with (folder / f"{name}.csv").open("w", newline="") as handle:
                writer = csv.writer(handle)  # the labels.csv format, as a build writes
                writer.writerow(["image", "gender", "status", "set"])
                for image, set_name in assignment.items():
                    writer.writerow([image, labels[image].gender, labels[image].status, set_name])
        (root / "release.json").write_text(json.dumps({"version": "9.9", "count": len(rows)}))
        lines = []
        for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != "SHA256SUMS"):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            lines.append(f"{digest}  {path.relative_to(root).as_posix()}")
        (root / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture
def official_root(tmp_path: Path) -> Path:
    """An official-download folder: 12 train, 4 dev, 4 test faces of 32 px."""
    rows = make_rows({"train": (7, 5), "dev": (2, 2), "test": (2, 2)})
    return make_folder(tmp_path / "kaokore", rows)


@pytest.fixture
def learnable_root(tmp_path: Path) -> Path:
    """A folder whose gender is the image colour: 60 train, 20 dev, 20 test (60 % male)."""
    rows = make_rows({"train": (36, 24), "dev": (12, 8), "test": (12, 8)})
    return make_folder(tmp_path / "learnable", rows)


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Run torch on one thread: the runs are tiny, and on a busy shared CPU OpenMP's
    spinning threads make two threads ten times slower than one."""
    try:
        import torch
    except ImportError:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
