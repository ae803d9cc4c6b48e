"""``kaokore ingest``: harvest feeds, curations and official files into the database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kaokore.commands.common import console, err_console, open_db, run_sync
from kaokore.db import Database
from kaokore.errors import UsageError
from kaokore.ingest.client import ClientSettings
from kaokore.ingest.harvester import HarvestOptions, fetch_crops_only, harvest
from kaokore.ingest.official_images import store_official_images
from kaokore.ingest.report import OUTCOMES, STAGES, HarvestReport, Stage
from kaokore.release.layout import IMAGE_DIR

__all__ = ["ingest", "print_report"]


class RichProgress:
    """One progress bar per stage: documents, faces, crops."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks = {stage: progress.add_task(stage, total=None) for stage in STAGES}

    def total(self, stage: Stage, n: int) -> None:
        task = self.progress.tasks[self.tasks[stage]]
        self.progress.update(self.tasks[stage], total=(task.total or 0) + n)

    def advance(self, stage: Stage, n: int = 1) -> None:
        self.progress.advance(self.tasks[stage], n)

    def host_down(self, host: str, reason: str) -> None:
        """Say at once, in one line, that a host is unreachable (the harvest goes on)."""
        self.progress.console.print(f"[red]unreachable[/]: {reason}", highlight=False)


def print_report(report: HarvestReport, *, title: str = "ingest") -> None:
    """The closing summary: counts per stage and outcome, then every failure with its reason."""
    table = Table(title=title)
    table.add_column("stage")
    for outcome in OUTCOMES:
        table.add_column(outcome, justify="right")
    for stage in STAGES:
        table.add_row(stage, *(str(report.counts[stage][o]) for o in OUTCOMES))
    table.caption = (
        f"{report.requests} requests ({report.conditional_requests} conditional), "
        f"{report.bytes_received / 1e6:.1f} MB received"
    )
    if report.requests_skipped:
        table.caption += f"; {report.requests_skipped} not sent to unreachable hosts"
    console.print(table)
    if report.defects:
        kept = sum(n for (_code, outcome), n in report.defects.items() if outcome == "kept")
        left = sum(report.defects.values()) - kept
        counts = ", ".join(
            f"{code} ({outcome.replace('_', ' ')}) {n}"
            for (code, outcome), n in sorted(report.defects.items())
        )
        err_console.print(
            f"[yellow]{sum(report.defects.values())} upstream defects handled[/] "
            f"({kept} faces kept with a repair, {left} left out): {counts}",
            highlight=False,
            soft_wrap=True,
        )
        for example in report.defect_examples:
            err_console.print(f"  e.g. {example}", highlight=False, soft_wrap=True)
        err_console.print("  the full list: kaokore db status --defects", highlight=False)
    for warning in report.warnings:
        err_console.print(f"[yellow]warning[/]: {warning}", highlight=False, soft_wrap=True)
    # One line per unreachable host, not one per document or face it held.
    by_host = {host: 0 for host in report.unreachable}
    for failure in report.failures:
        host = next((h for h, why in report.unreachable.items() if why in failure.reason), None)
        if host is not None:
            by_host[host] += 1
            continue
        err_console.print(
            f"[red]failed[/] {failure.stage}: {failure.url}: {failure.reason}", highlight=False
        )
    for host, reason in report.unreachable.items():
        err_console.print(
            f"[red]failed[/] {by_host[host]} documents and crops: {reason}",
            highlight=False,
            soft_wrap=True,
        )


def ingest(
    ctx: typer.Context,
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            help="Change feed URLs, curation URLs (told apart by content) or files listing "
            "such URLs one per line. None: every source the database knows.",
            show_default=False,
        ),
    ] = None,
    official: Annotated[
        Path | None,
        typer.Option(
            "--official",
            help="Import an official KaoKore folder (urls.txt, original_tags.txt, labels.csv).",
            exists=False,
        ),
    ] = None,
    images_dir: Annotated[
        Path | None,
        typer.Option(
            "--images",
            help="With --official: the folder of the official images (%08d.jpg); default "
            "DIR/images_256 when it exists. They are stored as they are, not fetched.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Fetch and parse, store nothing.")
    ] = False,
    no_images: Annotated[
        bool, typer.Option("--no-images", help="Store faces and labels, fetch no crops.")
    ] = False,
    max_faces: Annotated[
        int | None,
        typer.Option(
            "--max-faces", min=1, help="Store and crop at most N new faces (to try it out)."
        ),
    ] = None,
    host_concurrency: Annotated[
        int, typer.Option("--host-concurrency", min=1, help="Requests in flight per host.")
    ] = ClientSettings().host_concurrency,
    host_rate: Annotated[
        float,
        typer.Option(
            "--host-rate", min=0.0, help="Requests started per second per host (0: unlimited)."
        ),
    ] = ClientSettings().host_rate,
    retries: Annotated[
        int, typer.Option("--retries", min=1, help="Attempts per request.")
    ] = ClientSettings().retries,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds before a request times out.")
    ] = ClientSettings().timeout,
) -> None:
    """Harvest faces, expert labels and crops into the database, incrementally.

    A second run with nothing changed upstream makes only conditional requests and fetches
    no image bytes. Exit code 0 when everything available was stored, upstream defects
    that were handled included (a member left out, an empty label skipped, a region cut at
    the page edge: counted in the summary, listed by `kaokore db status --defects`); 1 when
    something a later run can get failed (network after all retries, a document not
    readable at all: recorded and retried next run); 2 for a usage error.

    Examples:

    ```
    kaokore ingest                       # every known source (CODH's feed on a new db)
    kaokore ingest http://127.0.0.1:8000/api/face/as/collection.json
    kaokore ingest sources.txt --no-images --max-faces 50
    kaokore ingest --official ../kaokore/v1.3   # official files, then their crops
    kaokore ingest --official v1.2 --images kaokore/images_256 --no-images   # offline
    ```
    """
    if official is not None and sources:
        raise UsageError("--official imports a folder; give no SOURCE with it")
    if official is not None and dry_run:
        raise UsageError("--dry-run cannot be used with --official")
    if images_dir is not None and official is None:
        raise UsageError("--images names the images of an official folder: use it with --official")
    database = open_db(ctx)
    settings = ClientSettings(
        host_concurrency=host_concurrency, host_rate=host_rate, retries=retries, timeout=timeout
    )
    options = HarvestOptions(dry_run=dry_run, images=not no_images, max_faces=max_faces)
    with Progress(
        TextColumn("{task.description:>9}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        sink = RichProgress(bar)
        if official is not None:
            report = _import_official(database, official)
            local = images_dir or official / IMAGE_DIR
            if images_dir is not None or local.is_dir():
                _store_official_images(database, official, local, report)
            if options.images:
                report.merge(
                    run_sync(
                        fetch_crops_only(
                            database, client_settings=settings, options=options, progress=sink
                        )
                    )
                )
        else:
            report = run_sync(
                harvest(
                    database,
                    sources or [],
                    client_settings=settings,
                    options=options,
                    progress=sink,
                )
            )
    print_report(report, title="ingest (dry run: nothing stored)" if dry_run else "ingest")
    if not report.ok:
        raise typer.Exit(1)


def _import_official(database: Database, folder: Path) -> HarvestReport:
    """Import an official folder; its defects become warnings, malformed lines failures."""
    from kaokore.ingest.official import import_official

    if not folder.is_dir():
        raise UsageError(f"--official {folder}: no such folder")
    outcome = import_official(database, folder)
    if outcome.changed:
        database.analyze()
    report = HarvestReport()
    report.count("documents", "updated" if outcome.changed else "unchanged")
    report.count("faces", "new", outcome.new_faces)
    report.count("faces", "unchanged", outcome.matched_faces)
    for finding in outcome.warnings:
        report.defect(finding.code, "kept", str(finding))
    for finding in outcome.errors:
        report.fail("documents", f"{finding.path}:{finding.line}", finding.reason)
    sets = ", ".join(f"{name} {count}" for name, count in sorted(outcome.labelled_by_set.items()))
    console.print(
        f"Official KaoKore {outcome.version}: {outcome.faces_with_urls} faces with urls "
        f"({outcome.new_faces} new), {outcome.labelled} labelled ({sets})."
    )
    return report


def _store_official_images(
    database: Database, folder: Path, images: Path, report: HarvestReport
) -> None:
    """Take the official images from disk; a file that is not the image its line asks for
    is a failure (the user's download is damaged: a later run with a good copy gets it)."""
    outcome = store_official_images(database, folder, images=images)
    console.print(
        f"Official images from {images}: {outcome.matched} matched to urls.txt lines, "
        f"{outcome.missing} lines without a file, {outcome.faces_given_crop} faces given "
        f"their crop, {len(outcome.bad)} files refused."
    )
    report.count("crops", "new", outcome.faces_given_crop)
    for path, reason in outcome.bad:
        report.fail("crops", path, reason)
