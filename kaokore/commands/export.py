"""``kaokore export imagefolder|parquet|webdataset``: a release in the formats trainers read.

Thin shells over :mod:`kaokore.export`: each option is a keyword argument of the export
function of the same name (``--split`` ↔ ``split=``, ``--shard-size`` ↔ ``shard_size=``).
The release is verified before anything is written; see ``docs/export.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kaokore.commands.common import console

if TYPE_CHECKING:
    from kaokore.export import ExportSummary

__all__ = ["imagefolder", "parquet", "webdataset"]

ReleaseArgument = Annotated[
    Path,
    typer.Argument(
        help="The release folder, e.g. kaokore-data/releases/kaokore-1.0 (it must pass "
        "`kaokore verify`).",
        show_default=False,
    ),
]
OutArgument = Annotated[
    Path,
    typer.Argument(
        help="The folder to create (it must not exist, or be empty).", show_default=False
    ),
]
SplitOption = Annotated[
    str | None,
    typer.Option(
        "--split",
        help="Which split assigns train/dev/test: stable, official, by-work or by-page "
        "(splits/NAME.csv) [default: the set column of labels.csv, the release's default].",
        show_default=False,
    ),
]


def _report(summary: ExportSummary) -> None:
    sets = ", ".join(f"{name} {count}" for name, count in summary.counts.items())
    lines = [
        f"Exported release {summary.version} as {summary.format} to {summary.path}",
        f"  faces: {sets}" + (f" (sets from splits/{summary.split}.csv)" if summary.split else ""),
        f"  release checksum (sha256 of SHA256SUMS): {summary.checksum}",
        "  licence, attribution and provenance: README.md and export.json",
    ]
    if summary.linked or summary.copied:
        lines.append(f"  images: {summary.linked} hard links, {summary.copied} copies")
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def imagefolder(
    release: ReleaseArgument,
    out: OutArgument,
    category: Annotated[
        str,
        typer.Option("--category", help="The class folders: gender (2) or status (4)."),
    ] = "gender",
    split: SplitOption = None,
    copy: Annotated[
        bool,
        typer.Option(
            "--copy",
            help="Copy the images instead of hard-linking them to the release (to edit them).",
        ),
    ] = False,
) -> None:
    """Export the ImageNet folder layout OUT/{train,dev,test}/{class}/{file}.jpg.

    Readable unchanged by torchvision.datasets.ImageFolder and
    tf.keras.utils.image_dataset_from_directory. Images are hard links to the release where
    the file system allows (copies otherwise, or with --copy).

    Examples:

    ```
    kaokore export imagefolder kaokore-data/releases/kaokore-1.0 kaokore-status --category status
    kaokore export imagefolder kaokore-data/releases/kaokore-1.0 by-work --split by-work --copy
    ```
    """
    from kaokore.export import export_imagefolder

    _report(export_imagefolder(release, out, category=category, split=split, copy=copy))


def parquet(release: ReleaseArgument, out: OutArgument, split: SplitOption = None) -> None:
    """Export one Parquet file per set: image bytes, labels and every provenance column.

    Loadable by datasets.load_dataset("parquet", ...), pandas and pyarrow; the schema
    metadata names the release and its checksum.

    Examples:

    ```
    kaokore export parquet kaokore-data/releases/kaokore-1.0 kaokore-parquet
    kaokore export parquet kaokore-data/releases/kaokore-1.0 kaokore-by-page --split by-page
    ```
    """
    from kaokore.export import export_parquet

    _report(export_parquet(release, out, split=split))


def webdataset(
    release: ReleaseArgument,
    out: OutArgument,
    split: SplitOption = None,
    shard_size: Annotated[
        int, typer.Option("--shard-size", min=1, help="Faces per tar shard.")
    ] = 1000,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            help="Shuffle each set once with this seed before sharding "
            "[default: labels.csv order].",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Export WebDataset tar shards OUT/{set}-NNNNNN.tar of NNNNNNNN.jpg + NNNNNNNN.json.

    For streaming and multi-node training; readable by the webdataset package. The shard
    bytes are deterministic (fixed owner, mode, time and order).

    Examples:

    ```
    kaokore export webdataset kaokore-data/releases/kaokore-1.0 kaokore-wds --shard-size 1000
    kaokore export webdataset kaokore-data/releases/kaokore-1.0 kaokore-wds --seed 0
    ```
    """
    from kaokore.export import export_webdataset

    _report(export_webdataset(release, out, split=split, shard_size=shard_size, seed=seed))
