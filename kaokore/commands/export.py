"""``kaokore export``: every export format, of a release or of the database's faces.

``imagefolder``, ``parquet`` and ``webdataset`` write a release (``--release DIR``, verified
before anything is written; see ``docs/export.md``) in the formats trainers read: thin
shells over :mod:`kaokore.export`, each option a keyword of the function of the same name
(``--split`` is ``split=``, ``--shard-size`` is ``shard_size=``). ``rdf`` and ``curation``
write the faces that match the filters, ``reviewed`` the reviewers' labels: shells over
:mod:`kaokore.query` and :mod:`kaokore.review`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from kaokore.commands.common import ReleaseOption, console, face_filter_options, open_db
from kaokore.commands.query import LimitOption, OutOption, emit, note
from kaokore.face_filter import FaceFilter

if TYPE_CHECKING:
    from kaokore.export import ExportSummary
    from kaokore.query.curation_export import ExportShape

__all__ = [
    "app",
    "export_curation_command",
    "export_rdf_command",
    "export_reviewed",
    "imagefolder",
    "parquet",
    "webdataset",
]

app = typer.Typer(
    help="Export a release for trainers (imagefolder, parquet, webdataset), or the faces "
    "as Linked Data (rdf), as a IIIF curation (curation) and the reviewed labels (reviewed).",
    no_args_is_help=True,
)

OutFolderOption = Annotated[
    Path,
    typer.Option(
        "--out", help="The folder to create (it must not exist, or be empty).", show_default=False
    ),
]
CurationIdOption = Annotated[
    str | None,
    typer.Option(
        "--id",
        help="The document's @id: the URL it will be served from [default: a urn:uuid of its "
        "faces].",
        show_default=False,
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


@app.command("imagefolder")
def imagefolder(
    release: ReleaseOption,
    out: OutFolderOption,
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
    kaokore export imagefolder --release releases/kaokore-1.0 --out kaokore-status --category status
    kaokore export imagefolder --release releases/kaokore-1.0 --out by-work --split by-work --copy
    ```
    """
    from kaokore.export import export_imagefolder

    _report(export_imagefolder(release, out, category=category, split=split, copy=copy))


@app.command("parquet")
def parquet(release: ReleaseOption, out: OutFolderOption, split: SplitOption = None) -> None:
    """Export one Parquet file per set: image bytes, labels and every provenance column.

    Loadable by datasets.load_dataset("parquet", ...), pandas and pyarrow; the schema
    metadata names the release and its checksum.

    Examples:

    ```
    kaokore export parquet --release releases/kaokore-1.0 --out kaokore-parquet
    kaokore export parquet --release releases/kaokore-1.0 --out kaokore-by-page --split by-page
    ```
    """
    from kaokore.export import export_parquet

    _report(export_parquet(release, out, split=split))


@app.command("webdataset")
def webdataset(
    release: ReleaseOption,
    out: OutFolderOption,
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
    kaokore export webdataset --release releases/kaokore-1.0 --out kaokore-wds --shard-size 1000
    kaokore export webdataset --release releases/kaokore-1.0 --out kaokore-wds --seed 0
    ```
    """
    from kaokore.export import export_webdataset

    _report(export_webdataset(release, out, split=split, shard_size=shard_size, seed=seed))


@app.command("rdf")
@face_filter_options
def export_rdf_command(
    ctx: typer.Context,
    where: FaceFilter,
    format: Annotated[
        str, typer.Option("--format", "-f", help="turtle or json-ld (also nt, xml).")
    ] = "turtle",
    out: OutOption = None,
    base: Annotated[
        str, typer.Option("--base", help="Base IRI for faces, works and holders.")
    ] = "https://w3id.org/kaokore/id/",
    limit: LimitOption = None,
) -> None:
    """Export the faces as Linked Data: W3C Web Annotations on their canvases.

    Each face is an oa:Annotation whose target is its canvas (or image) with an
    oa:FragmentSelector xywh=...; its labels are oa:TextualBody bodies with their agent;
    works and holders link to their IIIF manifests.

    Examples:

    ```
    kaokore export rdf --out faces.ttl
    kaokore export rdf --format json-ld --status warrior --out warriors.jsonld
    ```
    """
    from kaokore.query import export_rdf

    text_out = export_rdf(
        open_db(ctx, read_only=True),
        format=format,
        out=out,
        base=base,
        limit=limit or None,
        where=where,
    )
    if text_out is not None:
        typer.echo(text_out, nl=False)
    else:
        note(f"Wrote {out}")


@app.command("curation")
@face_filter_options
def export_curation_command(
    ctx: typer.Context,
    where: FaceFilter,
    out: OutOption = None,
    shape: Annotated[
        str,
        typer.Option(
            "--as", help="curation (cr:Curation, IIIF Curation Viewer) or annotation-page (IIIF 3)."
        ),
    ] = "curation",
    curation_id: CurationIdOption = None,
    label: Annotated[
        str | None, typer.Option("--label", help="The document's label.", show_default=False)
    ] = None,
    limit: LimitOption = None,
) -> None:
    """Export the matching faces as a IIIF curation the Curation Viewer can open.

    One sc:Range per manifest, members canvas#xywh=... with the current labels as metadata.
    Faces without a canvas (known only from the official files) cannot be members of a
    curation and are left out (counted on standard error); `--as annotation-page` includes
    them, targeting the image.

    Examples:

    ```
    kaokore export curation --status warrior --period 1600-1650 --out warriors.json
    kaokore export curation --work 酒呑童子 --as annotation-page --out shuten.json
    ```
    """
    from kaokore.query import export_curation

    result = export_curation(
        open_db(ctx, read_only=True),
        shape=cast("ExportShape", shape),  # checked by export_curation, in its own words
        curation_id=curation_id,
        label=label,
        limit=limit or None,
        where=where,
    )
    emit(result.to_json(), out)
    message = f"{result.faces} faces exported"
    if result.skipped:
        message += f", {result.skipped} left out (no canvas: known only from the official files)"
    note(message)


@app.command("reviewed")
def export_reviewed(
    ctx: typer.Context,
    out: OutOption = None,
    curation_id: CurationIdOption = None,
) -> None:
    """Export the reviewed labels as a cr:Curation the Curation Platform's editor can load.

    One member per reviewed face (on its canvas), its metadata the face's human labels with
    the reviewer's value in place of the experts' for each reviewed label.

    Examples:

    ```
    kaokore export reviewed --out reviewed.json
    ```
    """
    from kaokore.review.curation import reviewed_curation

    result = reviewed_curation(open_db(ctx, read_only=True), out=out, curation_id=curation_id)
    if out is None:
        sys.stdout.write(result.to_json())
    typer.echo(
        f"{result.faces} reviewed faces exported"
        + (f", {result.skipped} without a canvas left out" if result.skipped else "")
        + (f" to {out}" if out else ""),
        err=True,
    )
