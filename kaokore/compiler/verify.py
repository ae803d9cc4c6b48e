"""``kaokore verify``: check a release folder and name every problem.

Why every problem and not the first: a release copied badly, or edited by hand, usually has
several faults, and the person fixing it needs the full list at once. Each problem is one
line that names the file (and the line or image) and what is wrong. The checks read only the
folder, never the database, so a release can be verified anywhere it is copied to.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from kaokore.compiler.manifest import file_sha256, parse_sums
from kaokore.errors import ReleaseError
from kaokore.release.labels import LabelRow, parse_labels
from kaokore.release.layout import (
    FACES_CSV,
    IMAGE_DIR,
    IMAGE_NAME,
    IMAGE_SIZE,
    LABELS_FILE,
    RELEASE_FILE,
    REQUIRED_FILES,
    SETS,
    SPLITS_DIR,
    SUMS_FILE,
    TAGS_FILE,
    URLS_FILE,
    split_path,
)
from kaokore.release.reader import ReleaseFolder, read_lines

__all__ = ["VerifyReport", "verify_release"]


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
    labels = _check_label_file(root, LABELS_FILE, images, problems)
    split_files: dict[str, dict[str, LabelRow]] = {}
    for path in sorted((root / SPLITS_DIR).glob("*.csv")):
        relative = split_path(path.stem)
        rows = _check_label_file(root, relative, images, problems)
        if rows is not None:
            split_files[path.stem] = rows
            if labels is not None:
                for image, row in rows.items():
                    known = labels.get(image)
                    if known is not None and (known.gender, known.status) != (
                        row.gender,
                        row.status,
                    ):
                        problems.append(
                            f"{relative}: {image} has labels {row.gender},{row.status} but "
                            f"{LABELS_FILE} has {known.gender},{known.status}"
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
    folder = root / IMAGE_DIR
    if not folder.is_dir():
        problems.append(f"missing folder: {IMAGE_DIR}/")
        return set()
    good: set[str] = set()
    for path in sorted(folder.iterdir()):
        relative = f"{IMAGE_DIR}/{path.name}"
        if not path.is_file() or not IMAGE_NAME.match(path.name):
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
) -> dict[str, LabelRow] | None:
    """The readable rows of a ``labels.csv``-format file by image, or None when it is absent.

    Each row the shared parser leaves out is a problem, and so is a row whose image is not
    in ``images_256/``.
    """
    path = root / relative
    if not path.is_file():
        return None
    table = parse_labels(read_lines(path), relative)
    problems.extend(str(problem) for problem in table.problems)
    for row in table.rows:
        if row.image not in images:
            problems.append(f"{relative}:{row.line}: {row.image}: no such image in {IMAGE_DIR}/")
    return {row.image: row for row in table.rows}


def _faces_table(root: Path) -> dict[str, dict[str, str]]:
    path = root / FACES_CSV
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        return {row.get("image", ""): row for row in csv.DictReader(handle)}


def _check_groups(
    root: Path, split_files: dict[str, dict[str, LabelRow]], problems: list[str]
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
        for image, row in rows.items():
            face = faces.get(image)
            if face is None:
                problems.append(f"{split_path(name)}: {image} is not in {FACES_CSV}")
                continue
            sets_of[group_of(face)].add(row.set)
        for group, sets in sorted(sets_of.items()):
            if len(sets) > 1:
                problems.append(
                    f"{split_path(name)}: {group or 'an unnamed group'} has faces in "
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
    tags = root / TAGS_FILE
    if tags.is_file():
        text = tags.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if not line:
                continue
            name, sep, _rest = line.partition(":")
            if not sep:
                problems.append(f"{TAGS_FILE}:{number}: no ':' after the file name")
            elif name not in images:
                problems.append(f"{TAGS_FILE}:{number}: {name}: no such image in {IMAGE_DIR}/")
    urls = root / URLS_FILE
    if urls.is_file():
        lines = urls.read_text(encoding="utf-8", errors="replace").splitlines()
        for image in sorted(images):
            number = int(image[:8])
            if number >= len(lines) or not lines[number].strip():
                problems.append(f"{URLS_FILE}: no URL on line {number + 1} for {image}")


def _check_release_json(
    root: Path,
    images: set[str],
    labels: dict[str, LabelRow] | None,
    split_files: dict[str, dict[str, LabelRow]],
    problems: list[str],
) -> str | None:
    try:
        meta = ReleaseFolder(root).manifest()
    except ReleaseError as exc:
        problems.append(str(exc))
        return None
    if meta is None:
        return None
    version = meta.get("version")
    if not isinstance(version, str) or not version:
        problems.append(f"{RELEASE_FILE}: no version")
        version = None
    for key in ("built_at", "db_state", "options", "counts"):
        if key not in meta:
            problems.append(f"{RELEASE_FILE}: no {key}")
    counts = meta.get("counts")
    if not isinstance(counts, dict):
        return version
    if counts.get("images") != len(images):
        problems.append(
            f"{RELEASE_FILE}: counts.images is {counts.get('images')}, "
            f"but {IMAGE_DIR}/ holds {len(images)}"
        )
    if labels is not None and counts.get("labelled") != len(labels):
        problems.append(
            f"{RELEASE_FILE}: counts.labelled is {counts.get('labelled')}, "
            f"but {LABELS_FILE} has {len(labels)} rows"
        )
    found = counts.get("sets")
    sets: dict[str, Any] = found if isinstance(found, dict) else {}
    for name, per_set in sorted(sets.items()):
        rows = split_files.get(name)
        if rows is None:
            problems.append(
                f"{RELEASE_FILE}: counts name the split {name!r}, but {split_path(name)} is missing"
            )
            continue
        for set_name in SETS:
            entry = per_set.get(set_name) if isinstance(per_set, dict) else None
            expected = entry.get("total") if isinstance(entry, dict) else None
            actual = sum(1 for row in rows.values() if row.set == set_name)
            if expected != actual:
                problems.append(
                    f"{RELEASE_FILE}: counts.sets.{name}.{set_name} is {expected}, "
                    f"but {split_path(name)} has {actual}"
                )
    for name in sorted(set(split_files) - set(sets)):
        problems.append(f"{split_path(name)}: not described in {RELEASE_FILE}")
    return version
