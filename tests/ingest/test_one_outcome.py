"""One outcome per face, whichever door it came in by: official files or curations.

Real 1.2 faces with each defect class the official import reports (a bare ``=`` tag, a
region starting outside the page, http/https duplicates of one crop, record ids that
disagree with the image path) and normal faces beside them are written twice: as an
official folder, and as a local upstream of curations (:mod:`kaokore.mirror.upstream`)
whose image services have the same paths. Imported through either door, the database holds
the same faces with the same labels; through both, each face is one row.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kaokore.config import Settings
from kaokore.db import Database, open_database
from kaokore.db.models import Annotation, Face
from kaokore.ingest.official import find_defects, import_official, read_official
from kaokore.mirror.upstream import FEED_PATH, build_upstream_from, page_identifier
from kaokore.server.app import LocalIIIFServer
from tests.conftest import shared_path
from tests.ingest.harvest_helpers import run_ingest

CLASSES = ("empty_key", "negative_region", "duplicate_crop", "record_id_mismatch")


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _subset(official: Path, out: Path) -> tuple[Path, Counter[str]]:
    """A renumbered official folder of the faces with each defect class, and neighbours."""
    version = read_official(official)
    by_class: dict[str, list[int]] = {code: [] for code in CLASSES}
    for finding in find_defects(version):
        if finding.code in by_class and finding.line is not None:
            by_class[finding.code].append(finding.line - 1)  # 0-based file number
    chosen: set[int] = set()
    for code, numbers in by_class.items():
        chosen.update(numbers[:8])
        if code == "duplicate_crop":  # the earlier line of each duplicated face too
            urls = {line.number: line for line in version.urls}
            for number in numbers[:8]:
                key = urls[number].face_key
                chosen.update(n for n, u in urls.items() if u.face_key == key)
    chosen.update(range(0, 400, 40))  # plain faces beside them
    numbers = sorted(chosen)
    urls, tags, labels = _lines(official / "urls.txt"), {}, {}
    for line in _lines(official / "original_tags.txt"):
        tags[int(line[:8])] = line[8:]
    for line in _lines(official / "labels.csv")[1:]:
        labels[int(line[:8])] = line[8:]
    out.mkdir(parents=True)
    new = {number: index for index, number in enumerate(numbers)}
    (out / "urls.txt").write_text("".join(f"{urls[n]}\n" for n in numbers), encoding="utf-8")
    (out / "original_tags.txt").write_text(
        "".join(f"{new[n]:08d}{tags[n]}\n" for n in numbers if n in tags), encoding="utf-8"
    )
    (out / "labels.csv").write_text(
        "image,gender,status,set\n"
        + "".join(f"{new[n]:08d}{labels[n]}\n" for n in numbers if n in labels),
        encoding="utf-8",
    )
    for name in ("labels.metadata.en.txt", "labels.metadata.ja.txt"):
        (out / name).write_bytes((official / name).read_bytes())
    return out, Counter({code: len(numbers) for code, numbers in by_class.items()})


def _same_paths(folder: Path, out: Path) -> Path:
    """The folder with every URL moved to the path the local upstream serves the page at."""
    out.mkdir(parents=True)
    for path in folder.iterdir():
        (out / path.name).write_bytes(path.read_bytes())
    lines = []
    for url in _lines(folder / "urls.txt"):
        match = re.match(r"^(.*)/(-?\d+,-?\d+,\d+,\d+)/([^/]+)/0/default\.jpg$", url)
        assert match is not None, url
        service, region, size = match.groups()
        identifier = page_identifier(service).replace("/", "%2F")
        lines.append(
            f"https://other-host.example/iiif/{identifier}/{region}/{size}/0/default.jpg\n"
        )
    (out / "urls.txt").write_text("".join(lines), encoding="utf-8")
    return out


def _outcome(database: Database) -> dict[str, list[tuple[str, str]]]:
    """Face key -> its current labels (label, value), sorted."""
    with database.session() as session:
        faces: dict[str, list[tuple[str, str]]] = {
            key: [] for key in session.scalars(select(Face.key).where(Face.deleted.is_(False)))
        }
        for key, label, value in session.execute(
            select(Face.key, Annotation.label, Annotation.value)
            .join(Annotation, Annotation.face_id == Face.id)
            .where(Annotation.retracted_at.is_(None))
        ):
            faces[key].append((label, value))
    return {key: sorted(labels) for key, labels in faces.items()}


@pytest.fixture(scope="module")
def doors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    official = shared_path("data", "kaokore", "official", "v1.2")
    root = tmp_path_factory.mktemp("doors")
    folder, classes = _subset(official, root / "subset" / "v1.2")
    upstream = build_upstream_from(folder, None, None, root / "upstream")
    moved = _same_paths(folder, root / "official" / "v1.2")
    results: dict[str, Any] = {"classes": classes, "upstream": upstream}
    for door in ("official", "curations", "both"):
        database = open_database(Settings(home=root / door))
        if door in ("official", "both"):
            report = import_official(database, moved)
            results[f"{door}-warnings"] = Counter(f.code for f in report.warnings)
        if door in ("curations", "both"):
            with LocalIIIFServer(upstream.root) as server:
                harvest = run_ingest(database, [server.url(FEED_PATH)], images=False)
            assert harvest.ok, harvest.failures
            results[f"{door}-defects"] = harvest.defects
        results[door] = _outcome(database)
        database.close()
    return results


def test_every_defect_class_is_in_the_subset(doors: dict[str, Any]) -> None:
    assert all(doors["classes"][code] >= 1 for code in CLASSES), doors["classes"]
    warnings = doors["official-warnings"]
    assert warnings["empty_key"] >= 1 and warnings["negative_region"] >= 1
    assert warnings["duplicate_crop"] >= 1


def test_the_same_faces_and_labels_through_either_door(doors: dict[str, Any]) -> None:
    official, curations = doors["official"], doors["curations"]
    assert set(official) == set(curations)
    differing = {key for key in official if official[key] != curations[key]}
    assert differing == set()
    assert all(label for labels in official.values() for label, _value in labels)  # no "=" label
    defects = doors["curations-defects"]
    assert defects[("empty_label", "kept")] == doors["official-warnings"]["empty_key"]


def test_through_both_doors_each_face_is_one_row(doors: dict[str, Any]) -> None:
    both = doors["both"]
    assert set(both) == set(doors["official"])
    for key, labels in both.items():  # each door asserts the same labels once
        assert set(labels) == set(doors["official"][key])
