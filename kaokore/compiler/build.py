"""``build_release``: compile a versioned, immutable, reproducible release folder.

The steps, each in its own module: read the faces (:mod:`.select`), make the images in a
process pool (:mod:`.images`), assign splits (:mod:`.splits`), write the official-format
files (:mod:`.files`), the provenance (:mod:`.provenance`), the data sheet, the contact sheet,
and last ``release.json`` and ``SHA256SUMS`` (:mod:`.manifest`).

Why a temporary folder: the release is written to ``.kaokore-X.partial-PID-TOKEN`` beside the
target and renamed into place only when complete, so an interrupted build leaves no half
release under the real name; partial folders of dead builds are removed by the next build.

Why the database is written before the rename: file numbers must be assigned once. The
numbers and the ``Release`` row are committed first; if the rename then fails (or the process
dies in between), the next build finds the row with the same database state, rebuilds the
identical folder and renames it. A version is immutable: a build of an existing version from
another database state, or with other options, is refused with :class:`ReleaseExistsError`;
from the same state it is a no-op (or restores the missing folder, byte for byte).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import bindparam, insert, select
from sqlalchemy import update as sa_update
from sqlalchemy.exc import IntegrityError

from kaokore.compiler import files as official_files
from kaokore.compiler.contact import class_sheet
from kaokore.compiler.datasheet import datasheet
from kaokore.compiler.images import (
    JPEG_OPTIONS,
    ImageResult,
    ImageTask,
    crop_box,
    run_image_stage,
)
from kaokore.compiler.manifest import counts, diff, release_json, sha256sums
from kaokore.compiler.official import OfficialLayout, official_layout
from kaokore.compiler.provenance import faces_csv, faces_parquet, provenance_records
from kaokore.compiler.records import BuildInput, LeftOut, ReleaseEntry, SampleRow
from kaokore.compiler.reviewed import DEFAULT_LABELS, check_labels
from kaokore.compiler.select import read_build_input
from kaokore.compiler.splits import DEFAULT_SEED, THRESHOLDS, compute_sets
from kaokore.db import BlobStore, Database
from kaokore.db.models import Face, Release, ReleaseMember
from kaokore.errors import ArgumentError, CompileError, ReleaseExistsError, UsageError
from kaokore.release import ReleaseFolder, parse_labels
from kaokore.release.layout import (
    CONTACT_SHEET_FILE,
    DATASHEET_FILE,
    FACES_CSV,
    FACES_PARQUET,
    IMAGE_DIR,
    IMAGE_SIZE,
    LABELS_FILE,
    METADATA_EN_FILE,
    METADATA_JA_FILE,
    RELEASE_FILE,
    SPLIT_FILES,
    SUMS_FILE,
    TAGS_FILE,
    URLS_FILE,
    image_name,
    split_path,
)

__all__ = ["ReleaseSummary", "build_release", "release_folder"]

_VERSION: Final = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$")
_PARTIAL: Final = re.compile(r"^\.kaokore-.+\.partial-(\d+)-[0-9a-f]+$")


@dataclass(frozen=True, kw_only=True, slots=True)
class ReleaseSummary:
    """What a build did. ``created`` is False when the version existed with identical content."""

    version: str
    path: Path
    images: int
    labelled: int
    left_out: int
    checksum: str
    db_state: str
    built_at: dt.datetime
    previous: str | None
    like_official: str | None
    created: bool


def release_folder(out_dir: Path, version: str) -> Path:
    """Where version ``version`` lives under ``out_dir``: ``out_dir/kaokore-VERSION``."""
    return out_dir / f"kaokore-{version}"


def build_release(
    database: Database,
    version: str,
    *,
    out_dir: Path | None = None,
    seed: int = DEFAULT_SEED,
    like_official: str | None = None,
    workers: int | None = None,
    progress: bool = False,
    labels: str = DEFAULT_LABELS,
) -> ReleaseSummary:
    """Build release ``version`` into ``out_dir/kaokore-VERSION`` (default: the home's releases).

    ``seed`` chooses the stable and grouped splits (keep it across versions). With
    ``like_official``, the official files and numbering of that imported official version
    are reproduced instead of the release's own. ``workers`` sets the image processes
    (default: every core). ``labels`` is ``expert`` (the upstream experts' labels only) or
    ``expert+reviewed`` (with the labels reviewers gave in ``kaokore web --review``).
    Raises ReleaseExistsError if the version exists with other content, CompileError if
    there is nothing to build.
    """
    if not _VERSION.match(version):
        raise UsageError(
            f"Invalid version {version!r}: use letters, digits, '.', '-', '_' or '+', "
            "starting with a letter or digit (e.g. 1.0)."
        )
    if workers is not None and workers < 1:
        raise ArgumentError("workers", workers, "must be at least 1")
    out_dir = Path(out_dir) if out_dir is not None else database.settings.release_dir
    target = release_folder(out_dir, version)
    options = _options(seed, like_official, check_labels(labels))

    with database.session() as session:
        source = read_build_input(session, version=version, labels=labels)
        existing = session.scalars(
            select(Release).where(Release.kind == "built", Release.version == version)
        ).one_or_none()
        existing_info = (
            None
            if existing is None
            else (existing.db_state, existing.options_json, existing.checksum, existing.path)
        )
        layout = official_layout(session, like_official) if like_official is not None else None

    if existing_info is not None:
        state, old_options, checksum, old_path = existing_info
        if state != source.state or old_options != options:
            what = "from another database state" if state != source.state else "with other options"
            raise ReleaseExistsError(
                f"Release {version} exists (at {old_path}), built {what}; releases are "
                "immutable. Build a new version instead, e.g. "
                f"`kaokore build --version {_next_version(version)}`."
            )
        if target.exists():
            if _sums_checksum(target) == checksum:
                return _summary_of(
                    target,
                    version,
                    source,
                    existing_checksum=checksum,
                    like_official=like_official,
                )
            raise ReleaseExistsError(
                f"{target} exists with other content than release {version} (checksum "
                f"{str(checksum)[:12]}); releases are immutable. Move it away, or build into "
                "another folder with --out."
            )

    elif target.exists() and _sums_checksum(target) is None:
        raise ReleaseExistsError(
            f"{target} exists and is not a kaokore release (no {SUMS_FILE}); releases are "
            "immutable. Move it away, or build into another folder with --out."
        )

    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_partials(out_dir)
    partial = out_dir / f".kaokore-{version}.partial-{os.getpid()}-{secrets.token_hex(4)}"
    partial.mkdir()
    try:
        composed = _compose(
            partial,
            database,
            version=version,
            source=source,
            options=options,
            seed=seed,
            layout=layout,
            workers=workers,
            progress=progress,
        )
        checksum = hashlib.sha256((partial / SUMS_FILE).read_bytes()).hexdigest()
        if existing_info is not None and checksum != existing_info[2]:
            raise ReleaseExistsError(
                f"Release {version} exists and rebuilding it from the same database state gave "
                f"other bytes (checksum {checksum[:12]}, recorded {str(existing_info[2])[:12]}): "
                "the image library or kaokore changed since. Build a new version instead."
            )
        if target.exists():
            if _sums_checksum(target) != checksum:
                raise ReleaseExistsError(
                    f"{target} exists with other content; releases are immutable. Build a new "
                    "version, or build into another folder with --out."
                )
            shutil.rmtree(partial)
            created = False
        else:
            created = True
        if existing_info is None:
            _record(database, version, target, source, options, composed, checksum)
        if created:
            os.rename(partial, target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return ReleaseSummary(
        version=version,
        path=target,
        images=len(composed.entries),
        labelled=composed.counts["labelled"],
        left_out=len(composed.left_out),
        checksum=checksum,
        db_state=source.state,
        built_at=source.source_time,
        previous=source.previous.version if source.previous else None,
        like_official=like_official,
        created=created,
    )


# --- composition -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class _Composed:
    entries: tuple[ReleaseEntry, ...]
    left_out: tuple[LeftOut, ...]
    counts: Mapping[str, Any]
    new_numbers: Mapping[int, int]
    members: tuple[tuple[ReleaseEntry, str | None], ...]


def _options(seed: int, like_official: str | None, labels: str) -> dict[str, Any]:
    """What, besides the database, decides the release's bytes (``--workers`` does not)."""
    return {
        "labels": labels,
        "seed": seed,
        "like_official": like_official,
        "default_split": "official" if like_official else "stable",
        "thresholds": list(THRESHOLDS),
        "image_size": IMAGE_SIZE,
        "resample": "LANCZOS",
        "jpeg": {**JPEG_OPTIONS, "subsampling": "4:4:4"},
    }


def _usable(row: SampleRow, store: BlobStore) -> str | None:
    """Why a face has no usable crop, or None when it has one."""
    if row.crop_status == "failed":
        return f"no usable crop: the crop failed ({row.crop_error or 'no reason recorded'})"
    if row.crop_status != "ok" or row.blob_sha256 is None:
        return "no usable crop: not fetched yet (crop pending)"
    if row.blob_path is None or not store.path(row.blob_path).is_file():
        return (
            f"no usable crop: the stored crop {row.blob_sha256[:12]} is missing from the blob store"
        )
    return None


def _task(
    row: SampleRow, store: BlobStore, output: Path, layout: OfficialLayout | None = None
) -> ImageTask:
    official = layout.images.get(output.name) if layout is not None else None
    if official is not None and store.path(store.relative_path(official)).is_file():
        # The official image of this line, stored as it is: copied, not encoded again.
        return ImageTask(
            source=str(store.path(store.relative_path(official)).resolve()),
            source_sha256=official,
            box=None,
            output=str(output),
            copy=True,
        )
    box = None
    if row.blob_width and row.blob_height:
        box = crop_box(
            row.blob_width, row.blob_height, square=row.square, key_square=row.key_square
        )
    assert row.blob_path is not None and row.blob_sha256 is not None
    return ImageTask(
        source=str(store.path(row.blob_path).resolve()),
        source_sha256=row.blob_sha256,
        box=box,
        output=str(output),
    )


def _compose(
    root: Path,
    database: Database,
    *,
    version: str,
    source: BuildInput,
    options: Mapping[str, Any],
    seed: int,
    layout: OfficialLayout | None,
    workers: int | None,
    progress: bool,
) -> _Composed:
    store = BlobStore(database.settings.blob_dir)
    images_dir = root / IMAGE_DIR
    images_dir.mkdir()
    left_out: list[LeftOut] = []
    rows = {row.face_id: row for row in source.rows}
    usable: dict[int, SampleRow] = {}
    for row in source.rows:
        reason = _usable(row, store)
        if reason is None:
            usable[row.face_id] = row
        elif layout is None:
            left_out.append(LeftOut(face_key=row.key, reason=reason, image=_name(row.file_number)))

    new_numbers: dict[int, int] = {}
    official_names: dict[str, str] = {}
    if layout is None:
        slots = [(row, images_dir / f".face-{row.face_id}.jpg") for row in usable.values()]
    else:
        official_names = _official_sets(layout)
        slots = []
        for name, face_id in layout.members:
            if face_id is None:
                continue
            member_row = rows.get(face_id)
            reason = (
                "the face was deleted since the official import"
                if member_row is None
                else (_usable(member_row, store))
            )
            if reason is not None or member_row is None:
                key = member_row.key if member_row else f"face:{face_id}"
                left_out.append(LeftOut(face_key=key, reason=reason or "", image=name))
                continue
            slots.append((member_row, images_dir / name))

    tasks = [_task(row, store, output, layout) for row, output in slots]
    with _progress_bar(progress, len(tasks), f"images of {version}") as advance:
        results = run_image_stage(tasks, workers=workers, on_done=advance)

    made: list[tuple[SampleRow, ImageResult]] = []
    for (row, _output), result in zip(slots, results, strict=True):
        if result.sha256 is None:
            image = Path(result.output).name if layout is not None else _name(row.file_number)
            left_out.append(LeftOut(face_key=row.key, reason=result.error or "", image=image))
        else:
            made.append((row, result))

    if layout is None:
        next_number = source.max_file_number + 1
        for row, _result in sorted(made, key=lambda pair: pair[0].key):
            if row.file_number is None:
                new_numbers[row.face_id] = next_number
                next_number += 1
    urls = _layout_urls(layout) if layout is not None else {}
    entries: list[ReleaseEntry] = []
    for row, result in made:
        if layout is None:
            number = row.file_number if row.file_number is not None else new_numbers[row.face_id]
            row = replace(row, file_number=number)
            name = image_name(number)
            os.rename(result.output, images_dir / name)
            url = official_files.iiif_url(row)
        else:
            name = Path(result.output).name
            url = urls.get(name) or official_files.iiif_url(row)
        sets = compute_sets(row, seed=seed, official=source.official if layout is None else None)
        if name in official_names:
            sets["official"] = official_names[name]
        assert result.sha256 is not None
        entries.append(
            ReleaseEntry(image=name, row=row, image_sha256=result.sha256, url=url, sets=sets)
        )
    entries.sort(key=lambda e: e.image)
    if not entries:
        raise CompileError(
            "Nothing to build: the database holds no face with a usable crop "
            f"({len(left_out)} left out). Run `kaokore ingest` first."
        )
    _write_files(
        root,
        version=version,
        source=source,
        options=options,
        seed=seed,
        layout=layout,
        entries=entries,
        left_out=left_out,
    )
    release_counts = _counts(entries, left_out, layout)
    default_split = "official" if layout is not None else "stable"
    members = tuple((e, e.sets.get(default_split) if e.row.labelled else None) for e in entries)
    return _Composed(
        entries=tuple(entries),
        left_out=tuple(left_out),
        counts=release_counts,
        new_numbers=new_numbers,
        members=members,
    )


def _name(number: int | None) -> str | None:
    return None if number is None else image_name(number)


def _official_sets(layout: OfficialLayout) -> dict[str, str]:
    """File name -> set from the official ``labels.csv`` (by name: a face may have two)."""
    table = parse_labels(layout.files[LABELS_FILE].decode().splitlines(), LABELS_FILE)
    return {row.image: row.set for row in table.rows}


def _layout_urls(layout: OfficialLayout) -> dict[str, str]:
    lines = layout.files[URLS_FILE].decode().splitlines()
    return {image_name(i): line for i, line in enumerate(lines) if line.strip()}


def _counts(
    entries: Sequence[ReleaseEntry], left_out: Sequence[LeftOut], layout: OfficialLayout | None
) -> dict[str, Any]:
    result = counts(entries, left_out)
    if layout is not None:
        # labels.csv is the official one: count its rows, present or not.
        result["labelled"] = max(0, len(layout.files[LABELS_FILE].decode().splitlines()) - 1)
    return result


def _write_files(
    root: Path,
    *,
    version: str,
    source: BuildInput,
    options: Mapping[str, Any],
    seed: int,
    layout: OfficialLayout | None,
    entries: Sequence[ReleaseEntry],
    left_out: Sequence[LeftOut],
) -> None:
    def write(name: str, data: bytes) -> None:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    if layout is None:
        write(LABELS_FILE, official_files.labels_csv(entries, "stable"))
        write(METADATA_EN_FILE, official_files.metadata_en())
        write(METADATA_JA_FILE, official_files.metadata_ja())
        write(TAGS_FILE, official_files.original_tags(entries))
        write(URLS_FILE, official_files.urls_txt(entries))
    else:
        for name, data in sorted(layout.files.items()):
            write(name, data)
    split_info: dict[str, Any] = {}
    for name in SPLIT_FILES:
        if not any(name in e.sets for e in entries):
            continue
        write(split_path(name), official_files.labels_csv(entries, name))
        split_info[name] = _split_description(name, seed, source, layout)
    records = provenance_records(entries)
    write(FACES_CSV, faces_csv(records))
    write(FACES_PARQUET, faces_parquet(records))
    release_counts = _counts(entries, left_out, layout)
    built_at = source.source_time.strftime("%Y-%m-%dT%H:%M:%SZ")
    official_version = (
        layout.version
        if layout is not None
        else (source.official.version if source.official else None)
    )
    write(
        DATASHEET_FILE,
        datasheet(
            version=version,
            built_at=built_at,
            db_state=source.state,
            options=options,
            counts=release_counts,
            entries=entries,
            official_version=official_version if "official" in split_info else None,
        ),
    )
    write(CONTACT_SHEET_FILE, class_sheet(entries, root / IMAGE_DIR, seed=seed))
    write(
        RELEASE_FILE,
        release_json(
            version=version,
            built_at=source.source_time,
            db_state=source.state,
            options=options,
            counts=release_counts,
            splits=split_info,
            previous=source.previous,
            changes=diff(entries, source.previous, split="stable"),
            left_out=left_out,
        ),
    )
    known = {f"{IMAGE_DIR}/{e.image}": e.image_sha256 for e in entries}
    write(SUMS_FILE, sha256sums(root, known))


def _split_description(
    name: str, seed: int, source: BuildInput, layout: OfficialLayout | None
) -> dict[str, Any]:
    file = split_path(name)
    if name == "official":
        version = (
            layout.version
            if layout is not None
            else (source.official.version if source.official else None)
        )
        return {
            "file": file,
            "rule": "the sets of an official version",
            "official_version": version,
        }
    rule = {
        "stable": "sha256(seed, face key) -> u in [0,1): train < 0.8 <= dev < 0.9 <= test",
        "by-work": "the stable rule on the work key: no work in two sets",
        "by-page": "the stable rule on the canvas (else image service): no page in two sets",
    }[name]
    return {"file": file, "rule": rule, "seed": seed}


# --- database -----------------------------------------------------------------------------


def _record(
    database: Database,
    version: str,
    target: Path,
    source: BuildInput,
    options: Mapping[str, Any],
    composed: _Composed,
    checksum: str,
) -> None:
    """Commit the new file numbers and the Release row with its members, in one transaction."""
    try:
        with database.session() as session:
            if composed.new_numbers:
                session.connection().execute(
                    sa_update(Face)
                    .where(Face.id == bindparam("face"), Face.file_number.is_(None))
                    .values(file_number=bindparam("number")),
                    [{"face": f, "number": n} for f, n in sorted(composed.new_numbers.items())],
                )
            release = Release(
                version=version,
                kind="built",
                built_at=source.source_time,
                path=str(target.resolve()),
                db_state=source.state,
                options_json=dict(options),
                counts_json=dict(composed.counts),
                checksum=checksum,
            )
            session.add(release)
            session.flush()
            session.execute(
                insert(ReleaseMember),
                [
                    {
                        "release_id": release.id,
                        "face_id": entry.row.face_id,
                        "file_name": entry.image,
                        "split": split,
                        "gender": entry.row.gender,
                        "status": entry.row.status,
                        "checksum": entry.image_sha256,
                    }
                    for entry, split in composed.members
                ],
            )
    except IntegrityError as exc:
        raise CompileError(
            f"Could not record release {version}: another build changed the database at the "
            "same time (file numbers or the version were taken). Run the build again."
        ) from exc


# --- helpers ------------------------------------------------------------------------------


def _sums_checksum(folder: Path) -> str | None:
    return ReleaseFolder(folder).checksum()


def _summary_of(
    target: Path,
    version: str,
    source: BuildInput,
    *,
    existing_checksum: str | None,
    like_official: str | None,
) -> ReleaseSummary:
    """The summary of an existing, identical release (a no-op build)."""
    meta = ReleaseFolder(target).manifest() or {}
    release_counts = meta.get("counts", {})
    return ReleaseSummary(
        version=version,
        path=target,
        images=int(release_counts.get("images", 0)),
        labelled=int(release_counts.get("labelled", 0)),
        left_out=int(release_counts.get("left_out", 0)),
        checksum=existing_checksum or "",
        db_state=source.state,
        built_at=source.source_time,
        previous=source.previous.version if source.previous else None,
        like_official=like_official,
        created=False,
    )


def _remove_partials(out_dir: Path) -> None:
    """Delete the partial folders of builds whose process is gone."""
    for path in out_dir.iterdir():
        match = _PARTIAL.match(path.name)
        if match is None or not path.is_dir():
            continue
        if not _alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # our own leftovers: this build is not using them
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _next_version(version: str) -> str:
    match = re.match(r"^(.*?)(\d+)$", version)
    return f"{match.group(1)}{int(match.group(2)) + 1}" if match else f"{version}.1"


@contextmanager
def _progress_bar(enabled: bool, total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    if not enabled:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)
