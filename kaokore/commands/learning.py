"""The options every learning command shares (``train``, ``gan``, ``paint``), defined once.

Why one module: ``--release``, ``--device``, ``--seed`` and ``--max-images`` mean the same in
every command that trains or samples, so they are spelled, and their help written, here only.
``--release`` is always a release folder (or an official download laid out like one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["DeviceOption", "MaxImagesOption", "ReleaseOption", "SeedOption"]

ReleaseOption = Annotated[
    Path,
    typer.Option(
        "--release",
        help="Release folder (made by `kaokore build`) or official download folder: "
        "images_256/ and labels.csv.",
        show_default=False,
    ),
]
DeviceOption = Annotated[
    str,
    typer.Option(
        "--device", help="auto (CUDA, else Apple MPS, else the CPU), cpu, cuda, cuda:N or mps."
    ),
]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of every random draw of the run.")]
MaxImagesOption = Annotated[
    int | None,
    typer.Option("--max-images", help="Train on a seeded subset of this size.", show_default=False),
]
