"""Benchmark ``kaokore web`` on 100,000 faces: the faces page with two facets, and the JSON API.

Generates the database of ``bench/query.py`` (``--faces`` faces, default 100,000, with the
real KaoKore 1.3 labels ten times over), opens it read-only with ``kaokore web``'s app, and
measures:

* the one-off facet index build (the first request after start or after a change);
* the faces page (``/faces``, 60 faces, every facet's counts) with two facets, for
  ``--combos`` *different* two-facet combinations, each asked once (nothing cached for it),
  then the same pages asked again (cached result sets): median and 95th percentile of the
  server's own time (its ``Server-Timing`` header);
* the JSON API: ``/api/faces`` pages of 50 faces, walked page by page for several filters
  through ``kaokore web`` (its own process, uvicorn) on 127.0.0.1 with one HTTP client: pages per second (wall clock) and the
  median server time.

Targets (issue 15): faces page with two facets < 200 ms median server time on SQLite; the
API >= 200 face pages per second. Run: ``.venv/bin/python bench/web.py`` (``--faces 20000``
for a quick run; ``--db PATH`` to reuse a generated database).
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from kaokore.config import Settings  # noqa: E402
from kaokore.web import WebSettings, create_app  # noqa: E402


def _bench_query() -> Any:
    spec = importlib.util.spec_from_file_location("bench_query", REPO / "bench" / "query.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_ms(response: httpx.Response) -> float:
    timing = response.headers["server-timing"]
    return float(timing.split("dur=", 1)[1])


def two_facet_combos(count: int) -> list[list[tuple[str, str]]]:
    """Different two-facet filters, as a historian clicks them."""
    facets = {
        "status": ["noble", "warrior", "commoner", "incarnation", "monk"],
        "gender": ["male", "female"],
        "orientation": ["three-quarter", "profile", "front", "back"],
        "holder": [
            "Kyoto University",
            "Keio University",
            "National Institute of Japanese Literature",
        ],
        "period": ["室町", "江戸前期", "1501-1600", "1601-1700"],
    }
    combos = []
    for first, second in itertools.combinations(facets, 2):
        for a, b in itertools.product(facets[first], facets[second]):
            combos.append([(first, a), (second, b)])
    step = max(1, len(combos) // count)
    return combos[::step][:count]


def rare_combos(client: TestClient, count: int) -> list[list[tuple[str, str]]]:
    """Work x tag filters: values the warm-up does not prepare (each asked once here)."""
    facets = client.get("/api/facets").json()["facets"]
    values = {f["name"]: [v["value"] for v in f["values"]] for f in facets}
    works, tags = values["work"][:count], values["tag"][: count * 2 : 2]
    return [[("work", w), ("tag", t)] for w, t in zip(works, tags, strict=False)]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_pages(client: TestClient, combos: list[list[tuple[str, str]]]) -> dict[str, Any]:
    cold, warm, totals = [], [], []
    for combo in combos:
        url = "/faces?" + urlencode(combo)
        response = client.get(url)
        assert response.status_code == 200, (url, response.text[:300])
        cold.append(server_ms(response))
        totals.append(
            int(response.text.split('<span id="total">', 1)[1].split("<", 1)[0].replace(",", ""))
        )
    for combo in combos:
        warm.append(server_ms(client.get("/faces?" + urlencode(combo))))
    return {"cold": cold, "warm": warm, "totals": totals}


API_FILTERS: list[dict[str, str]] = [
    {"status": "noble"},
    {"gender": "female", "status": "warrior"},
    {},
    {"tag": "鬼"},
]


def api_urls(base: str) -> list[str]:
    """10 pages of 50 faces of each of :data:`API_FILTERS`."""
    return [
        f"{base}/api/faces?{urlencode({**params, 'page': page, 'size': 50})}"
        for params in API_FILTERS
        for page in range(1, 11)
    ]


def bench_api(base: str, seconds: float, clients: int) -> dict[str, Any]:
    """Walk the pages of :func:`api_urls` once with nothing cached (each face's row read
    from the database; checked: status, 50 faces on each first page), then again and again
    for ``seconds`` by ``clients`` connections at once: with ``curl --parallel`` when curl is
    installed (a client in C, so the client's own cost does not hide the server's), else
    with Python threads. Each timed pass's pages per second are kept."""
    urls = api_urls(base)
    out: dict[str, Any] = {}
    with httpx.Client(timeout=60) as client:
        times: list[float] = []
        started = time.perf_counter()
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, response.text[:300]
            if "page=1&" in url:
                assert len(response.json()["faces"]) == 50
            times.append(server_ms(response))
        out["first walk, 1 client"] = {
            "rates": [len(urls) / (time.perf_counter() - started)],
            "times": times,
        }
    curl = shutil.which("curl")
    rates: list[float] = []
    served: list[float] = []
    started = time.perf_counter()
    if curl:
        with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as config:
            config.write("".join(f'url = "{url}"\noutput = "/dev/null"\n' for url in urls * 5))
        while time.perf_counter() - started < seconds:
            begun = time.perf_counter()
            codes = subprocess.run(
                [
                    curl,
                    "-s",
                    "--parallel",
                    "--parallel-max",
                    str(clients),
                    "-K",
                    config.name,
                    "-w",
                    "%{http_code} %header{server-timing}\n",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.splitlines()
            assert [line.split()[0] for line in codes] == ["200"] * len(urls) * 5
            rates.append(len(codes) / (time.perf_counter() - begun))
            served += [float(line.split("dur=")[1]) for line in codes]
        Path(config.name).unlink()
        out[f"again, curl, {clients} connections"] = {"rates": rates, "times": served}
    else:

        def worker(results: list[int]) -> None:
            done = 0
            with httpx.Client(timeout=60) as client:
                while time.perf_counter() - started < seconds:
                    for url in urls:
                        assert client.get(url).status_code == 200
                        done += 1
            results.append(done)

        results: list[int] = []
        with ThreadPoolExecutor(clients) as pool:
            for _ in range(clients):
                pool.submit(worker, results)
        rates.append(sum(results) / (time.perf_counter() - started))
        out[f"again, {clients} Python clients"] = {"rates": rates, "times": []}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", type=int, default=100_000)
    parser.add_argument("--combos", type=int, default=40)
    parser.add_argument("--api-seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4, help="API clients at once")
    parser.add_argument("--db", type=Path, help="a database made by an earlier run (--keep)")
    parser.add_argument("--keep", action="store_true", help="keep the generated database")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="kaokore-bench-web-"))
    path = args.db or folder / "kaokore.db"
    url = f"sqlite:///{path}"
    if args.db is None:
        seconds = _bench_query().generate(url, args.faces)
        print(f"generated {args.faces:,} faces in {seconds:.1f} s: {path}")
    app = create_app(WebSettings(database=Settings(home=folder, db_url=url), cache_seconds=3600))
    with TestClient(app) as client:
        started = time.perf_counter()
        first = client.get("/faces")
        index_seconds = time.perf_counter() - started
        assert first.status_code == 200
        print(f"first page (builds the facet index): {index_seconds:.2f} s")
        cache = app.state.kaokore.index
        started = time.perf_counter()
        if cache.warming is not None:
            cache.warming.join()
        print(
            f"warm-up (the first page's facet values, in the background): "
            f"{index_seconds + time.perf_counter() - started:.1f} s after start"
        )
        no_filter = [server_ms(client.get("/faces")) for _ in range(5)]
        result = bench_pages(client, two_facet_combos(args.combos))
        rare = bench_pages(client, rare_combos(client, args.combos // 4))
    cold, warm = result["cold"], result["warm"]
    print(f"/faces, no filter (index warm): median {statistics.median(no_filter):.1f} ms")
    print(
        f"/faces with two facets, {len(cold)} different combinations "
        f"({min(result['totals']):,}-{max(result['totals']):,} faces each):"
    )
    print(
        f"  first ask:  median {statistics.median(cold):.1f} ms, p95 {pct(cold, 0.95):.1f} ms, max {max(cold):.1f} ms"
    )
    print(f"  asked again: median {statistics.median(warm):.1f} ms, p95 {pct(warm, 0.95):.1f} ms")
    print(f"  target < 200 ms median: {'met' if statistics.median(cold) < 200 else 'NOT met'}")
    print(
        f"/faces with a work and a tag never asked before ({len(rare['cold'])} combinations): "
        f"median {statistics.median(rare['cold']):.1f} ms, max {max(rare['cold']):.1f} ms"
    )

    # The API through `kaokore web` in its own process (as users run it), so the client does
    # not share the server's interpreter.
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "kaokore", "--db", url, "web", "--port", str(port), "--no-warm-up"],
        cwd=REPO,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(f"{base}/api/faces", timeout=600)  # the first also builds the index
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        api = bench_api(base, args.api_seconds, args.clients)
    finally:
        server.terminate()
        server.wait(timeout=30)
    best = 0.0
    for name, run in api.items():
        rates = run["rates"]
        best = max(best, statistics.median(rates))
        line = (
            f"/api/faces (50 faces a page, {name}): {statistics.median(rates):.0f} pages/s"
            f" (median of {len(rates)} passes, range {min(rates):.0f}-{max(rates):.0f})"
        )
        if run["times"]:
            line += f"; server time median {statistics.median(run['times']):.1f} ms"
        print(line)
    print(f"  target >= 200 pages/s: {'met' if best >= 200 else 'NOT met'}")
    load = os.getloadavg()
    print(f"load average during the run: {load[0]:.1f} ({os.cpu_count()} CPUs)")
    if not args.keep and args.db is None:
        path.unlink(missing_ok=True)
    elif args.keep:
        print(f"kept {path}")


if __name__ == "__main__":
    main()
