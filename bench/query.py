"""Benchmark the research queries on 100,000 faces, with and without the indexes.

Generates a SQLite database of ``--faces`` faces (default 100,000) from the real KaoKore 1.3
metadata (``../shared/data/kaokore/official/v1.3/original_tags.txt``): face *i* gets the
annotation set of tag line ``i % 9683`` under a new key, its work (holder + record id), and a
membership of an official release, so values, repeats and skew are the real ones, ten times
over. Then times typical queries through the Python API (``kaokore.query``), each the median of
``--repeat`` runs:

* faces by status (``count_faces(status="warrior")`` and the first 100 rows);
* faces by work and gender; by tag; by period (``1600-1650``); a free-text search;
* ``stats(by="work,status")``; and one SQL view query (``faces_current`` by status).

It runs them with the schema's indexes (after ``ANALYZE``), drops every secondary index of
``faces``, ``annotations``, ``works`` and ``release_members``, and runs them again, printing
the latencies and the ratio without/with. A query still running after ``--limit`` seconds is
stopped and shown as ``>limit`` (per-face lookups without the ``(face_id, label)`` index are
quadratic: the SQL view and the cross-tabulation never finish on 100,000 faces).

Run: ``.venv/bin/python bench/query.py`` (``--faces 20000`` for a quick run, ``--keep`` to keep
the database).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, insert, text
from sqlalchemy.exc import OperationalError

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kaokore.config import Settings  # noqa: E402
from kaokore.db import open_database  # noqa: E402
from kaokore.db.models import (  # noqa: E402
    Annotation,
    Document,
    Face,
    Release,
    ReleaseMember,
    Work,
)
from kaokore.db.writer import labels_changed  # noqa: E402
from kaokore.errors import UsageError  # noqa: E402
from kaokore.ingest.curation import normalise_value  # noqa: E402

TAGS = REPO.parent / "shared" / "data" / "kaokore" / "official" / "v1.3" / "original_tags.txt"
RECORD_KEYS = ("DOI", "京都大学貴重資料デジタルアーカイブレコードID", "慶応義塾大学請求記号")
NOW = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def read_tags(path: Path) -> list[list[tuple[str, str, int]]]:
    """Each tag line as (key, raw value, position) triples."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        pairs: list[tuple[str, str, int]] = []
        counts: dict[str, int] = {}
        for pair in raw.partition(":")[2].split(";"):
            key, _, value = pair.partition("=")
            if not key:
                continue
            position = counts.get(key, 0)
            counts[key] = position + 1
            pairs.append((key, value, position))
        lines.append(pairs)
    return lines


def generate(url: str, faces: int) -> float:
    """Fill an empty database at ``url``; returns the seconds it took."""
    started = time.perf_counter()
    lines = read_tags(TAGS)
    database = open_database(Settings(db_url=url))
    with database.session() as session:
        document = Document(url=TAGS.as_uri(), kind="official_file", status="ok")
        session.add(document)
        release = Release(version="bench", kind="official", built_at=NOW)
        session.add(release)
        session.flush()
        works: dict[tuple[str, str], int] = {}
        line_work: list[int | None] = []
        for pairs in lines:
            values = {k: v.strip() for k, v, _ in pairs}
            holder = values.get("所蔵", "")
            record = next((normalise_value(k, values[k]) for k in RECORD_KEYS if values.get(k)), "")
            if not holder or not record:
                line_work.append(None)
                continue
            if (holder, record) not in works:
                work = Work(
                    key=f"record:{holder}:{record}",
                    label=values.get("原典"),
                    holder=holder,
                    record_id=record,
                )
                session.add(work)
                session.flush()
                works[(holder, record)] = work.id
            line_work.append(works[(holder, record)])
        face_rows = [
            {
                "id": i + 1,
                "key": f"/bench/{i // 100}.tif#{i % 100},0,100,100",
                "work_id": line_work[i % len(lines)],
                "square_x": i % 100,
                "square_y": 0,
                "square_w": 100,
                "square_h": 100,
                "crop_status": "pending",
                "first_seen": NOW,
                "last_seen": NOW,
                "deleted": False,
            }
            for i in range(faces)
        ]
        for start in range(0, faces, 20_000):
            session.execute(insert(Face), face_rows[start : start + 20_000])
        batch: list[dict[str, Any]] = []
        for i in range(faces):
            for key, raw, position in lines[i % len(lines)]:
                batch.append(
                    {
                        "face_id": i + 1,
                        "label": key,
                        "raw_value": raw,
                        "value": normalise_value(key, raw),
                        "position": position,
                        "agent": "human",
                        "document_id": document.id,
                        "asserted_at": NOW,
                    }
                )
            if len(batch) >= 50_000:
                session.execute(insert(Annotation), batch)
                batch = []
        if batch:
            session.execute(insert(Annotation), batch)
        labels_changed(session, None)
        session.execute(
            insert(ReleaseMember),
            [
                {"release_id": release.id, "face_id": i + 1, "file_name": f"{i:08d}.jpg"}
                for i in range(faces)
            ],
        )
    with database.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    database.close()
    return time.perf_counter() - started


def queries() -> list[tuple[str, Callable[[str], Any]]]:
    from kaokore import query

    return [
        ("count by status", lambda db: query.count_faces(db, status="warrior")),
        ("100 rows by status", lambda db: query.faces(db, status="warrior", limit=100)),
        ("work + gender", lambda db: query.face_ids(db, work="文正草子", gender="female")),
        ("tag", lambda db: query.face_ids(db, tag="鬼")),
        ("two tags", lambda db: query.face_ids(db, tag=["少年", "中国"])),
        ("period 1600-1650", lambda db: query.face_ids(db, period="1600-1650")),
        ("text '童子'", lambda db: query.face_ids(db, text="童子")),
        ("holder+status+period", lambda db: query.face_ids(db, holder="Keio University", status="noble", period="1600-1650")),
        ("stats work x status", lambda db: query.stats(db, by="work,status")),
        ("sql view by status", lambda db: query.sql(db, "SELECT status, count(*) FROM faces_current GROUP BY status")),
    ]  # fmt: skip


#: When the running query must stop (a SQLite progress handler checks it).
DEADLINE = [float("inf")]


def _interruptible(connection: Any) -> Any:
    """Let a query that runs past DEADLINE be interrupted (SQLite checks every 100k steps)."""
    connection.set_progress_handler(lambda: int(time.perf_counter() > DEADLINE[0]), 100_000)
    return connection


@event.listens_for(Engine, "connect")
def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    if hasattr(dbapi_connection, "set_progress_handler"):
        _interruptible(dbapi_connection)


_sqlite_connect = sqlite3.connect


def _connect(*args: Any, **kwargs: Any) -> Any:
    """``kaokore sql`` opens its own read-only connection: make that one stoppable too."""
    return _interruptible(_sqlite_connect(*args, **kwargs))


sqlite3.connect = _connect


def time_all(url: str, repeat: int, limit: float) -> dict[str, tuple[float | None, Any]]:
    """Median seconds and result size per query; None for a query stopped after ``limit`` s."""
    from kaokore.query.connect import using_database

    results: dict[str, tuple[float | None, Any]] = {}
    with using_database(url) as database:
        for name, run in queries():
            times: list[float] = []
            result: Any = None
            try:
                for attempt in range(repeat + 1):  # the first run warms the page cache
                    DEADLINE[0] = time.perf_counter() + limit
                    started = time.perf_counter()
                    result = run(database)
                    if attempt:
                        times.append(time.perf_counter() - started)
            except (OperationalError, UsageError) as exc:
                if "interrupted" not in str(exc):
                    raise
                results[name] = (None, None)
                print(f"  {name}: stopped after {limit:.0f} s", flush=True)
                continue
            finally:
                DEADLINE[0] = float("inf")
            size = result if isinstance(result, int) else len(getattr(result, "rows", result))
            results[name] = (statistics.median(times), size)
            print(f"  {name}: {results[name][0] * 1000:.1f} ms", flush=True)
    return results


def drop_indexes(url: str) -> list[str]:
    database = open_database(Settings(db_url=url))
    dropped = []
    with database.engine.begin() as connection:
        rows = connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('faces', 'annotations', 'works', 'release_members')"
        ).all()
        for (name,) in rows:
            connection.execute(text(f'DROP INDEX "{name}"'))
            dropped.append(name)
        connection.exec_driver_sql("ANALYZE")
    database.close()
    return dropped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the generated database")
    parser.add_argument(
        "--limit", type=float, default=120.0, help="stop a query after this many seconds"
    )
    args = parser.parse_args()
    if not TAGS.exists():
        sys.exit(f"needs {TAGS}")
    folder = Path(tempfile.mkdtemp(prefix="kaokore-bench-query-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    try:
        seconds = generate(url, args.faces)
        size = (folder / "bench.db").stat().st_size / 1e6
        print(f"generated {args.faces:,} faces in {seconds:.1f} s ({size:.0f} MB, SQLite)")
        print("with the indexes:", flush=True)
        with_indexes = time_all(url, args.repeat, args.limit)
        dropped = drop_indexes(url)
        print(f"dropped {len(dropped)} indexes: {', '.join(sorted(dropped))}", flush=True)
        without = time_all(url, max(1, args.repeat // 2), args.limit)
        print()
        print(f"{'query':<24}{'results':>9}{'indexed ms':>13}{'no index ms':>14}{'ratio':>8}")
        for name, (indexed, count) in with_indexes.items():
            plain, plain_count = without[name]
            assert indexed is not None, f"{name} did not finish with the indexes"
            if plain is None:
                shown, ratio = f">{args.limit * 1000:.0f}", f">{args.limit / indexed:.0f}"
            else:
                assert plain_count == count, (name, plain_count, count)
                shown, ratio = f"{plain * 1000:.1f}", f"{plain / indexed:.1f}"
            print(f"{name:<24}{count:>9}{indexed * 1000:>13.1f}{shown:>14}{ratio:>8}")
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
