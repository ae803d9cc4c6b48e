"""``kaokore build`` and ``kaokore verify``: compile a release, and check one.

Thin shells over :func:`kaokore.compiler.build_release` and
:func:`kaokore.compiler.verify_release`: the options are their keyword arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kaokore.commands.common import console, err_console, open_db

__all__ = ["build", "verify"]


def build(
    ctx: typer.Context,
    version: Annotated[
        str | None,
        typer.Option(
            "--version",
            help="The release version, e.g. 1.0 (a folder kaokore-VERSION). "
            "Defaults to VERSION-official with --like-official.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder to write kaokore-VERSION/ into [default: releases/ in the home folder].",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the stable and grouped splits; keep it.")
    ] = 0,
    like_official: Annotated[
        str | None,
        typer.Option(
            "--like-official",
            help="Reproduce the files, numbering and split of this imported official version "
            "(e.g. 1.3).",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Processes for the image stage [default: every core].",
            show_default=False,
        ),
    ] = None,
    labels: Annotated[
        str,
        typer.Option(
            "--labels",
            help="expert: the upstream experts' labels only; expert+reviewed: with the labels "
            "reviewers gave in `kaokore web --review` (faces.csv names each label's source).",
        ),
    ] = "expert",
) -> None:
    """Compile an immutable, reproducible release folder from the database.

    Writes images_256/, labels.csv and the other official files, faces.csv/.parquet,
    splits/, release.json, SHA256SUMS, DATASHEET.md and contact_sheet.png. Building a
    version that exists is refused unless the content would be identical.

    Examples:

    ```
    kaokore build --version 1.0
    kaokore build --version 1.1 --out /data/releases --workers 2
    kaokore build --like-official 1.3
    kaokore build --version 1.1-reviewed --labels expert+reviewed
    ```
    """
    from kaokore.compiler import build_release
    from kaokore.errors import UsageError

    if version is None:
        if like_official is None:
            raise UsageError("Give the release version with --version (e.g. --version 1.0).")
        version = f"{like_official}-official"
    database = open_db(ctx)
    summary = build_release(
        database,
        version,
        out_dir=out,
        seed=seed,
        like_official=like_official,
        workers=workers,
        progress=True,
        labels=labels,
    )
    if not summary.created:
        console.print(
            f"Release {summary.version} is unchanged at {summary.path} "
            f"(same database state; checksum {summary.checksum[:12]}).",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return
    lines = [
        f"Built release {summary.version} at {summary.path}",
        f"  images: {summary.images}, labelled: {summary.labelled}, "
        f"left out: {summary.left_out} (listed in release.json)",
        f"  compared with: {summary.previous or '(first release)'}",
        f"  built at (newest change in the data): "
        f"{summary.built_at.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        f"  checksum (sha256 of SHA256SUMS): {summary.checksum}",
    ]
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def verify(
    path: Annotated[Path, typer.Argument(help="The release folder, e.g. releases/kaokore-1.0.")],
) -> None:
    """Check a release folder and name every problem; exit 1 if there is any.

    Checks the checksums (every file listed and matching), that every image decodes at
    256x256 RGB, that every labels.csv and split row names an existing image with labels in
    range, that no face is in two sets, and that release.json agrees with the files.

    Examples:

    ```
    kaokore verify kaokore-data/releases/kaokore-1.0
    ```
    """
    from kaokore.compiler import verify_release

    report = verify_release(path)
    for problem in report.problems:
        err_console.print(problem, markup=False, highlight=False, soft_wrap=True)
    if report.problems:
        err_console.print(
            f"{report.path}: {len(report.problems)} problem(s) found.",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(1)
    console.print(
        f"{report.path}: release {report.version or '?'} is sound "
        f"({report.files} files checked, {report.images} images).",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
