"""Harvest throughput against the local IIIF server with per-request latency.

Prints faces per second for ``kaokore ingest`` and for a baseline that behaves like the
official KaoKore download script (a pool of 4 processes, one blocking request per face, no
retries), their ratio, the fraction of the latency-bound limit (concurrency / latency) that
ingest reaches, the time and requests of a second, no-change ingest as a share of the first,
and peak memory.

    python bench/harvest.py [--faces 400] [--latency 0.3] [--concurrency 8]
    python bench/harvest.py --full [--latency 0]     # the whole real data (needs ../shared)
    python bench/harvest.py --full --latency 0.05 --concurrency 4   # issue 13's target

``--full`` builds the full-scale upstream of the real KaoKore 1.2 and 1.3 data
(:mod:`kaokore.mirror.upstream`: 9,683 faces, 1,666 pages, 107 curations), harvests it
(feed, curations, manifests, info.json, crops), checks it against the official 1.2 files
and prints faces/s, time, requests, the CPU of the ingest and of the server process, with a
latency the share reached of the host's limit (its requests x latency / concurrency: every
document is on the one local host), a second run's figures and peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from multiprocessing import Pool
from pathlib import Path

from kaokore.config import Settings
from kaokore.db import open_database
from kaokore.ingest.client import ClientSettings
from kaokore.ingest.harvester import HarvestOptions, harvest
from kaokore.mirror import sample_dir

PAGES = 12
PAGE_W, PAGE_H = 1600, 1100


def make_mirror(
    root: Path, faces: int, seed: int = 0
) -> list[tuple[str, tuple[int, int, int, int]]]:
    """A mirror of one 2.1 manifest (level-2 services over the sample's pages), ``faces``
    faces in 10 curations and a one-page change feed. Returns (identifier, square) per face."""
    rng = random.Random(seed)
    pages = sorted((sample_dir() / "images" / "nijl").glob("2*.jpg"))  # 1600x1100 pages
    (root / "images").mkdir(parents=True)
    services = {}
    for index in range(PAGES):
        source = pages[index % len(pages)]
        target = root / "images" / f"page{index:02d}.jpg"
        shutil.copy(source, target)
        services[f"bench_{index:02d}"] = {
            "file": f"images/page{index:02d}.jpg",
            "level": 2,
            "versions": [2],
        }
    (root / "services.json").write_text(
        json.dumps({"defaults": {"level": 2}, "services": services})
    )
    canvases = []
    for index in range(PAGES):
        canvas = f"{{BASE}}/bench/canvas/p{index}"
        service = f"{{BASE}}/iiif/2/bench_{index:02d}"
        canvases.append(
            {
                "@id": canvas,
                "@type": "sc:Canvas",
                "label": str(index),
                "width": PAGE_W,
                "height": PAGE_H,
                "images": [
                    {
                        "@type": "oa:Annotation",
                        "motivation": "sc:painting",
                        "on": canvas,
                        "resource": {
                            "@id": f"{service}/full/full/0/default.jpg",
                            "@type": "dctypes:Image",
                            "width": PAGE_W,
                            "height": PAGE_H,
                            "service": {
                                "@context": "http://iiif.io/api/image/2/context.json",
                                "@id": service,
                                "profile": "http://iiif.io/api/image/2/level2.json",
                            },
                        },
                    }
                ],
            }
        )
    manifest = {
        "@context": "http://iiif.io/api/presentation/2/context.json",
        "@id": "{BASE}/bench/manifest.json",
        "@type": "sc:Manifest",
        "label": "bench",
        "sequences": [{"@type": "sc:Sequence", "canvases": canvases}],
    }
    (root / "bench").mkdir()
    (root / "bench" / "manifest.json").write_text(json.dumps(manifest))
    chosen: list[tuple[str, tuple[int, int, int, int]]] = []
    members: list[list[dict[str, object]]] = [[] for _ in range(10)]
    used: set[tuple[int, int, int, int, int]] = set()
    while len(chosen) < faces:
        page = rng.randrange(PAGES)
        side = rng.randrange(80, 200)
        x, y = rng.randrange(0, PAGE_W - side), rng.randrange(0, PAGE_H - side)
        if (page, x, y, side, side) in used:
            continue
        used.add((page, x, y, side, side))
        chosen.append((f"bench_{page:02d}", (x, y, side, side)))
        members[len(chosen) % 10].append(
            {
                "@id": f"{{BASE}}/bench/canvas/p{page}#xywh={x},{y},{side},{side}",
                "@type": "sc:Canvas",
                "label": f"face {len(chosen)}",
                "metadata": [
                    {"label": "性別", "value": rng.choice(["男", "女"])},
                    {"label": "身分", "value": rng.choice(["貴族", "武士", "庶民", "化身"])},
                    {"label": "所蔵", "value": "国文学研究資料館"},
                    {"label": "DOI", "value": "10.20730/bench"},
                ],
            }
        )
    curation_dir = root / "api" / "curation"
    curation_dir.mkdir(parents=True)
    items = []
    for index, group in enumerate(members):
        url = f"{{BASE}}/api/curation/c{index}.json"
        (curation_dir / f"c{index}.json").write_text(
            json.dumps(
                {
                    "@context": [
                        "http://iiif.io/api/presentation/2/context.json",
                        "http://codh.rois.ac.jp/iiif/curation/1/context.json",
                    ],
                    "@id": url,
                    "@type": "cr:Curation",
                    "label": f"bench {index}",
                    "selections": [
                        {
                            "@id": f"{url}/range1",
                            "@type": "sc:Range",
                            "label": "faces",
                            "within": "{BASE}/bench/manifest.json",
                            "members": group,
                        }
                    ],
                },
                ensure_ascii=False,
            )
        )
        items.append(
            {
                "type": "Create",
                "object": {"id": url, "type": "cr:Curation"},
                "endTime": f"2024-01-01T00:00:{index:02d}Z",
            }
        )
    feed = {
        "@context": "http://iiif.io/api/discovery/1/context.json",
        "id": "{BASE}/api/feed.json",
        "type": "OrderedCollectionPage",
        "orderedItems": items,
    }
    (root / "api" / "feed.json").write_text(json.dumps(feed))
    return chosen


class Served(str):
    """The base URL of a ``kaokore serve`` process, which also tells its CPU time so far."""

    pid: int

    def cpu_seconds(self) -> float:
        """User plus system CPU of the server process (Linux ``/proc``; NaN elsewhere)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def served(mirror: Path, latency: float) -> Iterator[Served]:
    """``kaokore serve`` in its own process, as an upstream host would be: no shared GIL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kaokore",
            "serve",
            str(mirror),
            "--port",
            str(port),
            "--latency",
            str(latency),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        base = Served(f"http://127.0.0.1:{port}")
        base.pid = process.pid
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def _download(url: str) -> int:
    """One face as the official script fetches it: a blocking GET, no retry."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return len(response.read())
    except OSError:
        return 0


def baseline(base_url: str, faces: list[tuple[str, tuple[int, int, int, int]]]) -> float:
    urls = [
        f"{base_url}/iiif/2/{ident}/{x},{y},{w},{h}/256,256/0/default.jpg"
        for ident, (x, y, w, h) in faces
    ]
    start = time.perf_counter()
    with Pool(4) as pool:
        sizes = pool.map(_download, urls, chunksize=1)
    elapsed = time.perf_counter() - start
    assert all(sizes), "the baseline must fetch every face"
    return elapsed


def full(latency: float, concurrency: int) -> None:
    """The whole of the real data: build the upstream, harvest it twice, check, print."""
    from kaokore.mirror.realcheck import check_against_official
    from kaokore.mirror.upstream import FEED_PATH, build_upstream

    shared = Path(os.environ.get("KAOKORE_SHARED", Path(__file__).resolve().parents[2] / "shared"))
    if not (shared / "data" / "kaokore" / "official" / "v1.3").is_dir():
        sys.exit(f"--full needs the official files and images in {shared}/data/kaokore")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        upstream = build_upstream(shared, root / "upstream")
        build_time = time.perf_counter() - start
        database = open_database(Settings(home=root / "home"))
        settings = ClientSettings(host_concurrency=concurrency, host_rate=0)
        with served(upstream.root, latency) as base_url:
            start, cpu, server_cpu = (
                time.perf_counter(),
                time.process_time(),
                base_url.cpu_seconds(),
            )
            first = asyncio.run(
                harvest(
                    database,
                    [f"{base_url}{FEED_PATH}"],
                    client_settings=settings,
                    options=HarvestOptions(),
                )
            )
            first_time = time.perf_counter() - start
            first_cpu = time.process_time() - cpu
            first_server_cpu = base_url.cpu_seconds() - server_cpu
            start = time.perf_counter()
            second = asyncio.run(
                harvest(database, [], client_settings=settings, options=HarvestOptions())
            )
            second_time = time.perf_counter() - start
            check = check_against_official(database, upstream.root, base_url, shared)
        database.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    edge = max(check.edge_differences.values(), default=float("nan"))
    close = sum(1 for value in check.differences.values() if value < 8.0)
    rows = [
        ("upstream", f"{upstream.faces} faces ({upstream.real} real, {upstream.synthetic} drawn), "
         f"{upstream.pages} pages, {upstream.works} curations; built in {build_time:.1f} s"),
        ("first ingest", f"{first_time:.1f} s, {upstream.faces / first_time:.1f} faces/s, "
         f"{first.requests} requests, {first.bytes_received / 1e6:.1f} MB, ok={first.ok}"),
        ("CPU: ingest process, server process", f"{first_cpu:.1f} s, {first_server_cpu:.1f} s"),
        *(
            [(f"host limit ({first.requests} requests x {latency * 1000:.0f} ms / {concurrency})",
              f"{first.requests * latency / concurrency:.1f} s; reached "
              f"{first.requests * latency / concurrency / first_time:.0%}")]
            if latency > 0 else []
        ),
        ("defects handled", ", ".join(f"{c} ({o}) {n}" for (c, o), n in sorted(first.defects.items()))),
        ("second, no-change ingest", f"{second_time:.1f} s, {second.requests} requests "
         f"({second.conditional_requests} conditional), {second.bytes_received} bytes, ok={second.ok}"),
        ("1.2 faces harvested", f"{check.found} of {check.lines}"),
        ("labels equal to 1.2's", f"{check.labelled - len(check.label_mismatches)} of {check.labelled}"),
        ("edge crops vs official (max mean abs diff)", f"{edge:.2f} of 255 ({len(check.edge_differences)} faces)"),
        ("real crops within 8/255 of official", f"{close} of {len(check.differences)}"),
        ("peak memory (harvest process)", f"{peak_mb:.0f} MB"),
    ]  # fmt: skip
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--faces", type=int, default=400)
    parser.add_argument("--latency", type=float, default=0.3, help="seconds added to every answer")
    parser.add_argument(
        "--concurrency", type=int, default=8, help="kaokore's requests in flight per host"
    )
    parser.add_argument(
        "--full", action="store_true", help="the whole real data (../shared); latency default 0"
    )
    args = parser.parse_args()
    if args.full:
        full(args.latency if "--latency" in sys.argv else 0.0, args.concurrency)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        faces = make_mirror(root / "mirror", args.faces)
        database = open_database(Settings(home=root / "home"))
        settings = ClientSettings(host_concurrency=args.concurrency, host_rate=0)
        with served(root / "mirror", args.latency) as base_url:
            feed = f"{base_url}/api/feed.json"
            base_time = baseline(base_url, faces)
            start = time.perf_counter()
            first = asyncio.run(
                harvest(database, [feed], client_settings=settings, options=HarvestOptions())
            )
            first_time = time.perf_counter() - start
            assert first.ok and first.counts["crops"]["new"] == len(faces), first.failures
            start = time.perf_counter()
            second = asyncio.run(
                harvest(database, [], client_settings=settings, options=HarvestOptions())
            )
            second_time = time.perf_counter() - start
        database.close()
    ingest_rate = len(faces) / first_time
    base_rate = len(faces) / base_time
    limit = args.concurrency / args.latency
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = [
        ("faces", f"{len(faces)}"),
        ("latency per request", f"{args.latency * 1000:.0f} ms"),
        (
            "baseline (official script: 4 processes, blocking, no retries)",
            f"{base_rate:.1f} faces/s",
        ),
        (f"kaokore ingest ({args.concurrency} per host, all stages)", f"{ingest_rate:.1f} faces/s"),
        ("ratio ingest / baseline", f"{ingest_rate / base_rate:.2f}x"),
        (
            f"latency-bound limit ({args.concurrency} / {args.latency:g} s)",
            f"{limit:.1f} requests/s",
        ),
        (
            "share of the limit reached by ingest (requests/s)",
            f"{first.requests / first_time / limit:.0%}",
        ),
        (
            "first ingest",
            f"{first_time:.2f} s, {first.requests} requests, {first.bytes_received / 1e6:.1f} MB",
        ),
        (
            "second, no-change ingest",
            f"{second_time:.2f} s, {second.requests} requests ({second.conditional_requests} conditional), {second.bytes_received} bytes",
        ),
        (
            "second / first: time, requests",
            f"{second_time / first_time:.3f}, {second.requests / first.requests:.3f}",
        ),
        ("peak memory (this process)", f"{peak_mb:.0f} MB"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    sys.exit(main())
