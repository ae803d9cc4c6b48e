"""``kaokore verify``: check a release folder and name every problem.

Why every problem and not the first: a release copied badly, or edited by hand, usually has
several faults, and the person fixing it needs the full list at once. Each problem is one
line that names the file (and the line or image) and what is wrong. The checks read only the
folder, never the database, so a release can be verified anywhere it is copied to.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from PIL import Image

from kaokore.compiler.files import LABELS_HEADER
from kaokore.compiler.images import IMAGE_SIZE
from kaokore.compiler.manifest import SUMS_FILE, file_sha256, parse_sums
from kaokore.compiler.splits import SETS
from kaokore.errors import ReleaseError
from kaokore.vocab import GENDER_CLASSES, STATUS_CLASSES

__all__ = ["REQUIRED_FILES", "VerifyReport", "verify_release"]

#: The files every release has (``splits/official.csv`` only where faces came from one).
REQUIRED_FILES: Final[tuple[str, ...]] = (
    "labels.csv",
    "labels.metadata.en.txt",
    "labels.metadata.ja.txt",
    "original_tags.txt",
    "urls.txt",
    "faces.csv",
    "faces.parquet",
    "release.json",
    "DATASHEET.md",
    "contact_sheet.png",
    SUMS_FILE,
    "splits/stable.csv",
    "splits/by-work.csv",
    "splits/by-page.csv",
)
_IMAGE_NAME = re.compile(r"^\d{8}\.jpg$")


@dataclass(frozen=True, kw_only=True, slots=True)
class VerifyReport:
    """What ``verify_release`` found: ``ok`` when ``problems`` is empty."""

    path: Path
    version: str | None
    files: int
    images: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_release(path: Path | str) -> VerifyReport:
    """Check the release at ``path``; raise ReleaseError only if it is not a folder at all.

    Checks: every file is listed in ``SHA256SUMS`` and matches it, and nothing listed is
    missing; every image decodes at 256x256 RGB; every row of ``labels.csv`` and of each split
    file names an existing image, with labels in range and a known set, and no image in two
    sets; the grouped splits share no work or page between sets; ``release.json`` agrees
    with the files.
    """
    root = Path(path)
    if not root.is_dir():
        raise ReleaseError(
            f"No release at {root}: the folder does not exist. "
            "Run `kaokore build --version VERSION` to make one."
        )
    problems: list[str] = []
    listed = _check_sums(root, problems)
    for name in REQUIRED_FILES:
        if name != SUMS_FILE and not (root / name).is_file() and name not in listed:
            problems.append(f"missing file: {name}")
    images = _check_images(root, problems)
    labels = _check_label_file(root, "labels.csv", images, problems)
    split_files: dict[str, dict[str, tuple[str, str, str]]] = {}
    for split_path in sorted((root / "splits").glob("*.csv")):
        relative = f"splits/{split_path.name}"
        rows = _check_label_file(root, relative, images, problems)
        if rows is not None:
            split_files[split_path.stem] = rows
            if labels is not None:
                for image, (gender, status, _set) in rows.items():
                    if image in labels and labels[image][:2] != (gender, status):
                        problems.append(
                            f"{relative}: {image} has labels {gender},{status} but labels.csv "
                            f"has {labels[image][0]},{labels[image][1]}"
                        )
    _check_groups(root, split_files, problems)
    _check_tags_and_urls(root, images, problems)
    version = _check_release_json(root, images, labels, split_files, problems)
    return VerifyReport(
        path=root,
        version=version,
        files=len(listed),
        images=len(images),
        problems=tuple(problems),
    )


def _check_sums(root: Path, problems: list[str]) -> set[str]:
    sums_path = root / SUMS_FILE
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} - {SUMS_FILE}
    if not sums_path.is_file():
        problems.append(f"missing file: {SUMS_FILE} (no file can be checked)")
        return set()
    sums, malformed = parse_sums(sums_path.read_text(encoding="utf-8", errors="replace"))
    problems.extend(malformed)
    for name in sorted(sums):
        target = root / name
        if name.startswith("/") or ".." in Path(name).parts:
            problems.append(f"{SUMS_FILE}: {name} points outside the release")
        elif not target.is_file():
            problems.append(f"missing file: {name} (listed in {SUMS_FILE})")
        elif file_sha256(target) != sums[name]:
            problems.append(f"checksum mismatch: {name} (its bytes differ from {SUMS_FILE})")
    for name in sorted(present - set(sums)):
        problems.append(f"unlisted file: {name} (not in {SUMS_FILE})")
    return set(sums)


def _check_images(root: Path, problems: list[str]) -> set[str]:
    folder = root / "images_256"
    if not folder.is_dir():
        problems.append("missing folder: images_256/")
        return set()
    good: set[str] = set()
    for path in sorted(folder.iterdir()):
        relative = f"images_256/{path.name}"
        if not path.is_file() or not _IMAGE_NAME.match(path.name):
            problems.append(f"{relative}: not an image file name (NNNNNNNN.jpg)")
            continue
        good.add(path.name)
        try:
            with Image.open(path) as image:
                image.load()
                size, mode, kind = image.size, image.mode, image.format
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            problems.append(f"{relative}: does not decode ({exc})")
            continue
        if kind != "JPEG":
            problems.append(f"{relative}: is {kind}, not JPEG")
        if size != (IMAGE_SIZE, IMAGE_SIZE) or mode != "RGB":
            problems.append(
                f"{relative}: is {size[0]}x{size[1]} {mode}, not {IMAGE_SIZE}x{IMAGE_SIZE} RGB"
            )
    return good


def _check_label_file(
    root: Path, relative: str, images: set[str], problems: list[str]
) -> dict[str, tuple[str, str, str]] | None:
    """Rows of a ``labels.csv``-format file as image -> (gender, status, set)."""
    path = root / relative
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8", errors="replace")
    rows: dict[str, tuple[str, str, str]] = {}
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header != LABELS_HEADER.split(","):
        problems.append(f"{relative}: header is {header}, expected {LABELS_HEADER}")
        return rows
    genders = {str(i) for i in range(len(GENDER_CLASSES))}
    statuses = {str(i) for i in range(len(STATUS_CLASSES))}
    for number, record in enumerate(reader, start=2):
        if not record:
            continue
        if len(record) != 4:
            problems.append(f"{relative}:{number}: expected 4 fields, found {len(record)}")
            continue
        image, gender, status, set_name = record
        where = f"{relative}:{number}: {image}"
        if image not in images:
            problems.append(f"{where}: no such image in images_256/")
        if gender not in genders:
            problems.append(f"{where}: gender {gender!r} out of range 0..{len(genders) - 1}")
        if status not in statuses:
            problems.append(f"{where}: status {status!r} out of range 0..{len(statuses) - 1}")
        if set_name not in SETS:
            problems.append(f"{where}: set {set_name!r} is not one of {', '.join(SETS)}")
        if image in rows:
            before = rows[image][2]
            what = f"in two sets ({before} and {set_name})" if before != set_name else "twice"
            problems.append(f"{where}: listed {what}")
            continue
        rows[image] = (gender, status, set_name)
    return rows


def _faces_table(root: Path) -> dict[str, dict[str, str]]:
    path = root / "faces.csv"
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        return {row.get("image", ""): row for row in csv.DictReader(handle)}


def _check_groups(
    root: Path, split_files: dict[str, dict[str, tuple[str, str, str]]], problems: list[str]
) -> None:
    """The grouped splits must not share a work (``by-work``) or a page (``by-page``)."""
    faces = _faces_table(root)
    if not faces:
        return
    groupers: dict[str, Callable[[dict[str, str]], str]] = {"by-work": _work, "by-page": _page}
    for name, group_of in groupers.items():
        rows = split_files.get(name)
        if not rows:
            continue
        sets_of: dict[str, set[str]] = defaultdict(set)
        for image, (_g, _s, set_name) in rows.items():
            face = faces.get(image)
            if face is None:
                problems.append(f"splits/{name}.csv: {image} is not in faces.csv")
                continue
            sets_of[group_of(face)].add(set_name)
        for group, sets in sorted(sets_of.items()):
            if len(sets) > 1:
                problems.append(
                    f"splits/{name}.csv: {group or 'an unnamed group'} has faces in "
                    f"{len(sets)} sets ({', '.join(s for s in SETS if s in sets)})"
                )


def _image_group(face: dict[str, str]) -> str:
    return f"service:{face.get('image_service_key') or face.get('face_key', '').split('#', 1)[0]}"


def _work(face: dict[str, str]) -> str:
    """The group of :func:`kaokore.compiler.splits.by_work_group`, from a faces.csv row."""
    if face.get("work_key"):
        return f"work:{face['work_key']}"
    if face.get("record_id"):
        return f"record:{face.get('holder', '')}:{face['record_id']}"
    return _image_group(face)


def _page(face: dict[str, str]) -> str:
    """The group of :func:`kaokore.compiler.splits.by_page_group`, from a faces.csv row."""
    return f"canvas:{face['canvas_uri']}" if face.get("canvas_uri") else _image_group(face)


def _check_tags_and_urls(root: Path, images: set[str], problems: list[str]) -> None:
    tags = root / "original_tags.txt"
    if tags.is_file():
        text = tags.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if not line:
                continue
            name, sep, _rest = line.partition(":")
            if not sep:
                problems.append(f"original_tags.txt:{number}: no ':' after the file name")
            elif name not in images:
                problems.append(f"original_tags.txt:{number}: {name}: no such image in images_256/")
    urls = root / "urls.txt"
    if urls.is_file():
        lines = urls.read_text(encoding="utf-8", errors="replace").splitlines()
        for image in sorted(images):
            number = int(image[:8])
            if number >= len(lines) or not lines[number].strip():
                problems.append(f"urls.txt: no URL on line {number + 1} for {image}")


def _check_release_json(
    root: Path,
    images: set[str],
    labels: dict[str, tuple[str, str, str]] | None,
    split_files: dict[str, dict[str, tuple[str, str, str]]],
    problems: list[str],
) -> str | None:
    path = root / "release.json"
    if not path.is_file():
        return None
    try:
        meta: Any = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        problems.append(f"release.json: not valid JSON ({exc})")
        return None
    if not isinstance(meta, dict):
        problems.append("release.json: not a JSON object")
        return None
    version = meta.get("version")
    if not isinstance(version, str) or not version:
        problems.append("release.json: no version")
        version = None
    for key in ("built_at", "db_state", "options", "counts"):
        if key not in meta:
            problems.append(f"release.json: no {key}")
    counts = meta.get("counts")
    if not isinstance(counts, dict):
        return version
    if counts.get("images") != len(images):
        problems.append(
            f"release.json: counts.images is {counts.get('images')}, "
            f"but images_256/ holds {len(images)}"
        )
    if labels is not None and counts.get("labelled") != len(labels):
        problems.append(
            f"release.json: counts.labelled is {counts.get('labelled')}, "
            f"but labels.csv has {len(labels)} rows"
        )
    found = counts.get("sets")
    sets: dict[str, Any] = found if isinstance(found, dict) else {}
    for name, per_set in sorted(sets.items()):
        rows = split_files.get(name)
        if rows is None:
            problems.append(
                f"release.json: counts name the split {name!r}, but splits/{name}.csv is missing"
            )
            continue
        for set_name in SETS:
            entry = per_set.get(set_name) if isinstance(per_set, dict) else None
            expected = entry.get("total") if isinstance(entry, dict) else None
            actual = sum(1 for row in rows.values() if row[2] == set_name)
            if expected != actual:
                problems.append(
                    f"release.json: counts.sets.{name}.{set_name} is {expected}, "
                    f"but splits/{name}.csv has {actual}"
                )
    for name in sorted(set(split_files) - set(sets)):
        problems.append(f"splits/{name}.csv: not described in release.json")
    return version
