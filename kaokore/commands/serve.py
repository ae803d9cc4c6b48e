"""``kaokore serve`` (a local IIIF server) and ``kaokore demo`` (the whole chain, offline)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kaokore.commands.common import console, err_console, open_db, run_sync, settings_of
from kaokore.commands.ingest import print_report
from kaokore.ingest.client import ClientSettings
from kaokore.ingest.harvester import HarvestOptions, harvest
from kaokore.mirror import sample_dir, sample_sources
from kaokore.server import LocalIIIFServer
from kaokore.server import serve as serve_forever
from kaokore.server.faults import FaultPlan

__all__ = ["demo", "serve"]


def serve(
    folder: Annotated[
        Path | None,
        typer.Argument(
            help="Mirror folder of manifests, curations, a change feed and page images "
            "[default: the bundled sample].",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int, typer.Option("--port", "-p", help="Port on 127.0.0.1 (0: any free port).")
    ] = 8000,
    latency: Annotated[
        float,
        typer.Option(
            "--latency",
            min=0.0,
            help="Seconds each answer takes at least, from its request (the host's answer time).",
        ),
    ] = 0.0,
    lenient: Annotated[
        bool,
        typer.Option("--lenient", help="Accept requests a strict Image API 3.0 server refuses."),
    ] = False,
    faults: Annotated[
        float,
        typer.Option(
            "--faults",
            min=0.0,
            max=1.0,
            help="Share of requests answered with an injected fault (5xx, 429, reset, "
            "truncated body, HTML page, stall), on first attempts only: every request "
            "succeeds when retried.",
        ),
    ] = 0.0,
    fault_seed: Annotated[
        int, typer.Option("--fault-seed", help="Seed of the injected faults.")
    ] = 0,
) -> None:
    """Serve a folder as IIIF (Presentation documents and Image API 2.1/3.0) on 127.0.0.1.

    Documents are served with `{BASE}` replaced by the server's address, ETags and 304s;
    page images through a real Image API (region, size, rotation 0, default quality, jpg).

    Examples:

    ```
    kaokore serve                       # the bundled sample on http://127.0.0.1:8000
    kaokore ingest http://127.0.0.1:8000/api/face/as/collection.json
    kaokore serve my-mirror --port 9000 --latency 0.1
    kaokore serve my-mirror --faults 0.05      # 5 % of first attempts fail
    ```
    """
    root = folder or sample_dir()
    plan = (
        FaultPlan(rate=faults, seed=fault_seed, first_attempt_only=True, stall_seconds=1.0)
        if faults
        else None
    )

    def ready(server: LocalIIIFServer) -> None:
        err_console.print(f"Serving {root} at {server.base_url} (Ctrl-C stops)")
        for url in sample_sources(server.base_url) if folder is None else []:
            err_console.print(f"  change feed: {url}")

    serve_forever(root, port=port, latency=latency, faults=plan, strict=not lenient, on_ready=ready)


def demo(
    ctx: typer.Context,
    version: Annotated[str, typer.Option("--version", help="Release version to build.")] = "demo",
) -> None:
    """Run the whole chain offline on the bundled sample: serve, ingest, build, verify.

    Starts the sample mirror on a free port of 127.0.0.1, harvests its change feed (curations,
    manifests, image services, crops) into the database of the home folder, builds release
    `demo` (or `--version`) and verifies it.

    Example: `kaokore --home kaokore-demo demo`
    """
    from kaokore.compiler import build_release, verify_release

    database = open_db(ctx)
    with LocalIIIFServer(sample_dir()) as server:
        sources = sample_sources(server.base_url)
        err_console.print(f"Sample mirror at {server.base_url}; harvesting {sources[0]}")
        report = run_sync(
            harvest(
                database,
                sources,
                client_settings=ClientSettings(host_rate=0),
                options=HarvestOptions(),
            )
        )
    print_report(report, title="ingest of the bundled sample")
    if not report.ok:
        raise typer.Exit(1)
    summary = build_release(database, version, progress=True)
    folder = Path(summary.path)
    verdict = verify_release(folder)
    console.print(
        f"Release {version} at {folder}: {summary.images} images, "
        f"{summary.labelled} labelled; verify: {'ok' if verdict.ok else 'FAILED'}"
    )
    for problem in verdict.problems:
        err_console.print(f"  {problem}")
    console.print(f"Home folder: {settings_of(ctx).home}")
    if not verdict.ok:
        raise typer.Exit(1)
