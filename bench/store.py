"""Storing a curation: the bulk write path against the old ORM path, in the same run.

A synthetic curation (one manifest, ``--faces`` faces spread over pages of 20 faces, ten
expert labels each, as the real collection's members have) is stored into a fresh SQLite
database three times per path: the first store (every face new), a re-store of the same
document (nothing changed) and a re-store with 10 % of the faces relabelled. The new path is
:func:`kaokore.ingest.store.store_curation` (typed records applied in bulk by
:mod:`kaokore.db.bulk`, including the refresh of ``current_labels``); the baseline is the
store of the commit before it (``--baseline``, read with ``git show`` and run unchanged, an
ORM round trip per face), on the same machine and schema.

    python bench/store.py                     # 2,000 faces, the best of 3 fresh databases
    python bench/store.py --faces 10000 --baseline 71943a6 --repeat 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kaokore.box import Box  # noqa: E402
from kaokore.config import Settings  # noqa: E402
from kaokore.db import open_database  # noqa: E402
from kaokore.db.models import Document  # noqa: E402
from kaokore.db.records import Assertion  # noqa: E402
from kaokore.ingest.records import (  # noqa: E402
    Curation,
    CurationFace,
    Manifest,
    ManifestCanvas,
    Selection,
    ServiceRef,
)
from kaokore.ingest.store import store_curation  # noqa: E402

MANIFEST = "https://bench.example.org/iiif/book/manifest.json"
PER_PAGE = 20


def _pairs(index: int, relabel: bool) -> tuple[Assertion, ...]:
    status = ("貴族", "武士", "庶民", "化身")[(index + (1 if relabel else 0)) % 4]
    raw = [
        ("原典", "絵巻"),
        ("所蔵", "国文学研究資料館"),
        ("DOI", "10.20730/100000001"),
        ("性別", "男" if index % 3 else "女"),
        ("身分", status),
        ("向き", ("横", "四分の三", "後")[index % 3]),
        ("タグ", "少年" if index % 5 == 0 else ""),
        ("タグ", "鬼" if index % 7 == 0 else ""),
        ("制作年", "from 1600"),
        ("制作年", "to 1700"),
    ]
    counts: dict[str, int] = {}
    out = []
    for label, value in raw:
        position = counts.get(label, 0)
        counts[label] = position + 1
        out.append(
            Assertion(label=label, raw_value=value, value=value, agent="human", position=position)
        )
    return tuple(out)


def synthetic(faces: int, relabelled: float = 0.0) -> tuple[Curation, Manifest]:
    pages = (faces + PER_PAGE - 1) // PER_PAGE
    canvases = tuple(
        ManifestCanvas(
            uri=f"https://bench.example.org/iiif/book/canvas/p{page}",
            label=f"p. {page}",
            width=4000,
            height=3000,
            position=page,
            service=ServiceRef(
                base_url=f"https://img.bench.example.org/iiif/book/p{page}",
                api_version="2",
                level=2,
            ),
            image_width=4000,
            image_height=3000,
        )
        for page in range(pages)
    )
    members = []
    for index in range(faces):
        page, slot = divmod(index, PER_PAGE)
        region = Box(x=150 * slot + 10, y=100 + 7 * slot, w=120, h=130)
        canvas = canvases[page].uri
        members.append(
            CurationFace(
                member_uri=f"{canvas}#xywh={region.iiif}",
                canvas_uri=canvas,
                region=region,
                label=None,
                pairs=_pairs(index, relabel=index < faces * relabelled),
            )
        )
    manifest = Manifest(
        url=MANIFEST,
        iiif_version="2",
        label="絵巻",
        label_lang="ja",
        metadata=(),
        license=None,
        attribution=None,
        canvases=canvases,
    )
    curation = Curation(
        url="https://bench.example.org/curation.json",
        label="bench",
        selections=(
            Selection(
                range_id="https://bench.example.org/curation.json/range/r1",
                label="faces",
                manifest_url=MANIFEST,
                manifest_label="絵巻",
                faces=tuple(members),
            ),
        ),
    )
    return curation, manifest


def legacy_store(commit: str) -> Callable[..., Any]:
    """``store_curation`` of ``commit`` (and the ORM repository it used), unchanged."""

    def source(path: str) -> str:
        return subprocess.check_output(["git", "show", f"{commit}:{path}"], cwd=REPO, text=True)

    repository = types.ModuleType("legacy_repository")
    sys.modules["legacy_repository"] = repository  # dataclasses look their module up
    exec(compile(source("kaokore/db/repository.py"), "legacy_repository", "exec"), vars(repository))
    code = (
        source("kaokore/ingest/store.py")
        .replace("from kaokore.db.repository import", "from legacy_repository import")
        # Its pairs' type is db.records.Assertion now (named in annotations only).
        .replace("    LabelValue,\n", "")
    )
    module = types.ModuleType("legacy_store")
    sys.modules["legacy_store"] = module
    exec(compile(code, "legacy_store", "exec"), vars(module))
    return module.store_curation  # type: ignore[no-any-return]


def run(store: Callable[..., Any], faces: int, folder: Path) -> dict[str, float]:
    database = open_database(Settings(home=folder, db_url=f"sqlite:///{folder / 'k.db'}"))
    timings: dict[str, float] = {}
    try:
        with database.session() as session:
            session.add(Document(url="https://bench.example.org/curation.json", kind="curation"))
        for name, relabel in (("first", 0.0), ("unchanged", 0.0), ("relabel 10%", 0.1)):
            curation, manifest = synthetic(faces, relabel)
            now = dt.datetime.now(dt.UTC)
            started, cpu = time.perf_counter(), time.process_time()
            with database.session() as session:
                document = session.query(Document).one()
                outcome = store(
                    session,
                    curation=curation,
                    document=document,
                    manifests={MANIFEST: manifest},
                    infos={},
                    now=now,
                )
            timings[name] = time.perf_counter() - started
            timings[name + " cpu"] = time.process_time() - cpu
            assert len(outcome.face_ids) == faces, (name, len(outcome.face_ids))
    finally:
        database.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=int, default=2000)
    parser.add_argument("--baseline", default="71943a6", help="commit of the old ORM path")
    parser.add_argument(
        "--repeat", type=int, default=3, help="fresh databases per path; the best of each is kept"
    )
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, store in (
            ("ORM path (baseline)", legacy_store(args.baseline)),
            ("bulk path", store_curation),
        ):
            for attempt in range(args.repeat):
                folder = Path(tmp) / f"{name.split()[0]}-{attempt}"
                folder.mkdir()
                timing = run(store, args.faces, folder)
                best = results.setdefault(name, timing)
                for key, seconds in timing.items():
                    best[key] = min(best[key], seconds)
    load = os.getloadavg()[0]
    print(
        f"storing a curation of {args.faces} faces on SQLite, {os.cpu_count()} CPUs, "
        f"load average {load:.1f}, best of {args.repeat}: wall seconds and faces/s (CPU seconds "
        "of this process and faces per CPU second in brackets; SQLite runs in-process)"
    )
    stages = ("first", "unchanged", "relabel 10%")
    print(f"{'path':<22}" + "".join(f"{stage:>34}" for stage in stages))
    for name, timing in results.items():
        cells = [
            f"{timing[s]:6.2f} s {args.faces / timing[s]:7,.0f}/s "
            f"({timing[s + ' cpu']:5.2f} s {args.faces / timing[s + ' cpu']:6,.0f}/s)"
            for s in stages
        ]
        print(f"{name:<22}" + "".join(f"{c:>34}" for c in cells))


if __name__ == "__main__":
    main()
