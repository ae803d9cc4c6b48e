#!/usr/bin/env python3
"""What packing changes at test time: one trained model scored on the original and packed faces.

The GPU pack re-encodes every face once (JPEG quality 80). This scores the ``best.pt`` of a
``kaokore train classify`` run on the test split of the original folder and of the folder
unpacked from the pack (same labels, same order), and counts the predictions that differ, so
the effect of the re-encoding alone is measured, apart from the noise of training. (The effect
on training is measured by training on the unpacked folder: see docs/results.md.)

Usage:
    python bench/pack_effect.py RUN_DIR ORIGINAL_FOLDER PACKED_FOLDER
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from kaokore.learn.augment import eval_transform
from kaokore.learn.data import KaoKore
from kaokore.learn.models import build_model


def predictions(model: torch.nn.Module, root: Path, task: str, size: int) -> torch.Tensor:
    dataset = KaoKore(root, "test", task, eval_transform(size), strict=True)
    loader = torch.utils.data.DataLoader(dataset, batch_size=64)
    with torch.inference_mode():
        return torch.cat([model(images).argmax(1) for images, _ in loader])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("original", type=Path)
    parser.add_argument("packed", type=Path)
    args = parser.parse_args(argv)
    saved = torch.load(args.run / "best.pt", map_location="cpu", weights_only=True)
    size = saved["image_size"]
    model = build_model(saved["arch"], len(saved["classes"]), image_size=size)
    model.load_state_dict(saved["model"])
    model.eval()
    targets = torch.as_tensor(KaoKore(args.original, "test", saved["task"]).targets)
    first = predictions(model, args.original, saved["task"], size)
    second = predictions(model, args.packed, saved["task"], size)
    for name, pred in (("original", first), ("packed", second)):
        accuracy = float((pred == targets).float().mean())
        print(f"{name}: test accuracy {100 * accuracy:.2f} %")
    changed = int((first != second).sum())
    print(f"predictions that differ: {changed} of {len(targets)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
