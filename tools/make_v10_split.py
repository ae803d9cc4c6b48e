#!/usr/bin/env python3
"""Assemble the KaoKore version 1.0 folder (the paper's split) from the version 1.2 images.

The paper's Table 2 was measured on version 1.0, whose files were renumbered in later versions.
``v1.0_to_v1.2_map.csv`` pairs every 1.0 file with its 1.2 file, so the exact 1.0 split can be
rebuilt from the 1.2 images: OUT gets the official download layout (``images_256/`` named as in
1.0, hard links where the filesystem allows, copies otherwise), the official 1.0 ``labels.csv``
and metadata files, and the attribution. No network is used.

Usage:
    python tools/make_v10_split.py OUT [--data ../shared/data/kaokore]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "kaokore"
COPIED = ("labels.csv", "labels.metadata.en.txt", "labels.metadata.ja.txt")


def make_v10_folder(data: Path, out: Path) -> int:
    """Write the version 1.0 folder into ``out``; return the number of images linked.

    Raises SystemExit naming the first inconsistency (an image absent from ``data``, or labels
    that differ between the map and the official 1.0 labels.csv), leaving ``out`` incomplete.
    """
    official = data / "official" / "v1.0"
    with (official / "labels.csv").open(newline="", encoding="utf-8") as handle:
        labels = {row["image"]: row for row in csv.DictReader(handle)}
    with (data / "v1.0_to_v1.2_map.csv").open(newline="", encoding="utf-8") as handle:
        mapping = {row["v1_0_image"]: row for row in csv.DictReader(handle)}
    images = out / "images_256"
    images.mkdir(parents=True, exist_ok=True)
    linked = 0
    for name, row in labels.items():
        entry = mapping.get(name)
        if entry is None or entry["present_here"] != "1":
            raise SystemExit(f"{name}: no version 1.2 image for this version 1.0 file")
        expected = (row["gender"], row["status"], row["set"])
        if (entry["v1_0_gender"], entry["v1_0_status"], entry["v1_0_set"]) != expected:
            raise SystemExit(f"{name}: the map's labels differ from official/v1.0/labels.csv")
        source, target = data / "images_256" / entry["v1_2_image"], images / name
        if target.exists():
            target.unlink()
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)
        linked += 1
    for name in COPIED:
        shutil.copyfile(official / name, out / name)
    if (data / "ATTRIBUTION.md").is_file():
        shutil.copyfile(data / "ATTRIBUTION.md", out / "ATTRIBUTION.md")
    return linked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to create (official download layout)")
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="the shared KaoKore data folder"
    )
    args = parser.parse_args(argv)
    count = make_v10_folder(args.data, args.out)
    print(f"{args.out}: {count} version 1.0 images and labels.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
