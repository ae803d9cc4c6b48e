"""Benchmark ``kaokore build`` on the real KaoKore faces: the process pool against one process.

Fills a temporary home with the real labelled images of KaoKore 1.2 (``../shared/data/kaokore``):
each image becomes a stored crop in the blob store and a face row, with the annotations of
``official/v1.2/original_tags.txt``, the work (holder + record id) and the image service of
its ``urls.txt`` line. The three url pairs of 1.2 that differ only by http/https are one face
each (kaokore keys faces scheme-free), so 8,446 images give 8,443 faces.

Then builds the same release twice, with the pool (every core) and with one process, into two
folders, and prints images per second for each (the whole build, and the image stage alone),
the ratio, that the two folders are byte-identical, the time to verify, and peak memory
(``resource.getrusage``: this process, and the largest worker process).

Run: ``.venv/bin/python bench/build.py`` (add ``--keep`` to keep the temporary home).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# kaokore is imported inside the functions: the image workers are spawned processes that
# re-import this script, and should carry only what the image stage needs (as under the CLI).

SHARED = Path(os.environ.get("KAOKORE_SHARED", REPO.parent / "shared"))
DATA = SHARED / "data" / "kaokore"
T0 = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)


def _split_url(url: str) -> tuple[str, str, str]:
    """(service base URL, scheme-free service key, region) of an Image API request URL."""
    base, region, _size, _rotation, _quality = url.rsplit("/", 4)
    return base, base.split("://", 1)[1], region


def fill(home: Path) -> int:
    """Fill ``home`` with the real faces; return how many faces were stored."""
    from sqlalchemy import insert

    from kaokore.config import Settings
    from kaokore.db import Annotation, Blob, BlobStore, Face, ImageService, Work, open_database
    from kaokore.db.writer import labels_changed
    from kaokore.vocab import RECORD_ID_KEYS

    version = DATA / "official" / "v1.2"
    urls = (version / "urls.txt").read_text(encoding="utf-8").splitlines()
    tags: dict[str, list[tuple[str, str]]] = {}
    for line in (version / "original_tags.txt").read_text(encoding="utf-8").splitlines():
        name, _, rest = line.partition(":")
        tags[name] = [tuple(pair.split("=", 1)) for pair in rest.split(";") if "=" in pair]  # type: ignore[misc]
    with (version / "labels.csv").open(encoding="utf-8") as handle:
        labelled = [row["image"] for row in csv.DictReader(handle)]
    database = open_database(Settings(home=home))
    store = BlobStore(database.settings.blob_dir)
    works: dict[str, int] = {}
    services: dict[str, int] = {}
    seen_keys: set[str] = set()
    face_rows: list[dict[str, Any]] = []
    notes: list[tuple[str, list[tuple[str, str]]]] = []
    blob_rows: dict[str, dict[str, Any]] = {}
    with database.session() as session:
        for name in sorted(labelled):
            path = DATA / "images_256" / name
            if not path.is_file():
                continue
            base, service_key, region = _split_url(urls[int(name[:8])])
            face_key = f"{service_key}#{region}"
            if face_key in seen_keys:
                continue
            seen_keys.add(face_key)
            pairs = tags.get(name, [])
            values = dict(pairs)
            holder = values.get("所蔵", "")
            keys = (*RECORD_ID_KEYS, "原典ID")  # 1.2 names the record 原典ID
            record = next((values[k].strip() for k in keys if values.get(k, "").strip()), "")
            work_key = f"record:{holder}:{record}"
            if work_key not in works:
                work = Work(key=work_key, label=values.get("原典"), holder=holder, record_id=record)
                session.add(work)
                session.flush()
                works[work_key] = work.id
            if service_key not in services:
                service = ImageService(base_url=base, key=service_key, api_version="2")
                session.add(service)
                session.flush()
                services[service_key] = service.id
            data = path.read_bytes()
            sha = hashlib.sha256(data).hexdigest()
            relative = store.relative_path(sha)
            target = store.path(relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)  # the store's layout; no fsync, this is a benchmark
            blob_rows[sha] = {
                "sha256": sha,
                "path": relative,
                "media_type": "image/jpeg",
                "width": 256,
                "height": 256,
                "bytes": len(data),
                "request_url": urls[int(name[:8])],
                "created_at": T0,
            }
            x, y, w, h = (int(part) for part in region.split(","))
            face_rows.append(
                {
                    "key": face_key,
                    "image_service_id": services[service_key],
                    "work_id": works[work_key],
                    "square_x": x,
                    "square_y": y,
                    "square_w": w,
                    "square_h": h,
                    "blob_sha256": sha,
                    "crop_status": "ok",
                    "first_seen": T0,
                    "last_seen": T0,
                }
            )
            notes.append((face_key, pairs))
        session.execute(insert(Blob), list(blob_rows.values()))
        session.execute(insert(Face), face_rows)
        ids = {face.key: face.id for face in session.query(Face)}
        annotation_rows = [
            {
                "face_id": ids[key],
                "label": label,
                "raw_value": value,
                "value": value.strip(),
                "position": position,
                "agent": "human",
                "asserted_at": T0,
            }
            for key, pairs in notes
            for position, (label, value) in enumerate(pairs)
        ]
        session.execute(insert(Annotation), annotation_rows)
        labels_changed(session, None)
    database.close()
    return len(face_rows)


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the pool's workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class WorkerMemory:
    """Samples the peak RSS (``VmHWM``) of this process's children while the pool runs.

    ``getrusage(RUSAGE_CHILDREN)`` also counts the parent's pages that a spawned worker held
    between fork and exec; ``VmHWM`` is the worker's own high-water mark after exec.
    """

    def __init__(self) -> None:
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> WorkerMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            for task in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
                for pid in task.read_text().split():
                    try:
                        status = Path(f"/proc/{pid}/status").read_text()
                    except OSError:
                        continue
                    for line in status.splitlines():
                        if line.startswith("VmHWM:"):
                            self.peak_kib = max(self.peak_kib, int(line.split()[1]))


def timed_build(home: Path, out: Path, workers: int | None) -> tuple[float, float, float, Any]:
    """(whole build seconds, image stage seconds, image stage CPU seconds, summary)."""
    from kaokore.compiler import build as build_module
    from kaokore.compiler import build_release
    from kaokore.config import Settings
    from kaokore.db import open_database

    stage: list[tuple[float, float]] = []
    original = build_module.run_image_stage

    def run_image_stage(*args: Any, **kwargs: Any) -> Any:
        start, cpu = time.perf_counter(), _cpu_seconds()
        try:
            return original(*args, **kwargs)
        finally:
            stage.append((time.perf_counter() - start, _cpu_seconds() - cpu))

    build_module.run_image_stage = run_image_stage  # type: ignore[assignment]
    database = open_database(Settings(home=home))
    try:
        start = time.perf_counter()
        summary = build_release(database, "1.2-bench", out_dir=out, workers=workers)
        total = time.perf_counter() - start
    finally:
        build_module.run_image_stage = original
        database.close()
    return total, stage[0][0], stage[0][1], summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary home")
    args = parser.parse_args()
    if not (DATA / "images_256").is_dir() or not (DATA / "official" / "v1.2").is_dir():
        print(f"skipped: needs {DATA}/images_256 and official/v1.2 (the shared data folder)")
        return 0
    from kaokore.compiler import verify_release
    from kaokore.compiler.images import default_workers

    home = Path(tempfile.mkdtemp(prefix="kaokore-bench-"))
    try:
        start = time.perf_counter()
        faces = fill(home)
        print(f"filled {home}: {faces} faces in {time.perf_counter() - start:.1f} s")
        pool_workers = default_workers()
        print(f"cores usable: {pool_workers}; load average before: {os.getloadavg()[0]:.1f}")
        results = {}
        sampler = WorkerMemory()
        for label, workers in ((f"pool ({pool_workers} workers)", None), ("one process", 1)):
            out = home / ("out-pool" if workers is None else "out-single")
            if workers is None:
                with sampler:
                    total, stage, cpu, summary = timed_build(home, out, workers)
            else:
                total, stage, cpu, summary = timed_build(home, out, workers)
            results[label] = (total, stage, summary)
            print(
                f"{label:>22}: {summary.images} images, build {total:6.1f} s "
                f"= {summary.images / total:6.1f} images/s; image stage {stage:6.1f} s "
                f"= {summary.images / stage:6.1f} images/s "
                f"(CPU {cpu:.1f} s = {summary.images / cpu:.0f} images per CPU-second)"
            )
        (pool_total, pool_stage, pool), (one_total, one_stage, one) = results.values()
        print(
            f"{'ratio pool/one':>22}: build x{one_total / pool_total:.2f}, "
            f"image stage x{one_stage / pool_stage:.2f}; "
            f"load average after: {os.getloadavg()[0]:.1f}"
        )
        same = (pool.path / "SHA256SUMS").read_bytes() == (one.path / "SHA256SUMS").read_bytes()
        print(f"{'identical folders':>22}: {same} (checksum {pool.checksum[:16]})")
        start = time.perf_counter()
        report = verify_release(pool.path)
        print(
            f"{'verify':>22}: {len(report.problems)} problems, {report.files} files in "
            f"{time.perf_counter() - start:.1f} s"
        )
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"{'peak memory':>22}: this process {own:.0f} MiB (fill and both builds), "
            f"children {children:.0f} MiB by getrusage, "
            f"largest worker's own peak {sampler.peak_kib / 1024:.0f} MiB (VmHWM)"
        )
        return 0 if same and report.ok else 1
    finally:
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
