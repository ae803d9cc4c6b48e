"""What every export shares: a checked release, the rows to export, the output folder and
the licence and provenance files.

Why exports refuse a release that fails ``kaokore verify``: an export is a copy that travels
without its ``SHA256SUMS``; once the images are in a Parquet file or a tar shard nobody can
tell a damaged face from a sound one. So the release is verified first and a failing one is
refused with its problems (:class:`~kaokore.errors.ReleaseError`).

Why exports never write into a non-empty folder: an export mixed with older files (another
category, another split) would be read as one dataset by ``ImageFolder`` or a glob of shards.
The export is written into a temporary folder beside ``OUT`` and renamed into place when it
is complete, so an interrupted export leaves nothing under the real name.

Why every export carries ``README.md`` and ``export.json``: the files must keep saying where
they came from (the release version and the checksum of its ``SHA256SUMS``) and on what terms
(CC BY-SA 4.0, the attribution, the DOI, and CODH's request not to redistribute derived
datasets that carry the images). The terms are read from the release's ``release.json`` so
an export repeats exactly what its release was published under.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

from kaokore import __version__
from kaokore.compiler import verify_release
from kaokore.compiler.terms import ATTRIBUTION, DOI, LICENSE, LICENSE_URL, REDISTRIBUTION
from kaokore.errors import ReleaseError, UsageError
from kaokore.release import ReleaseFolder
from kaokore.release.layout import (
    CATEGORIES,
    FACES_CSV,
    FACES_PARQUET,
    SETS,
    SPLIT_FILES,
    SUMS_FILE,
)
from kaokore.vocab import class_names

__all__ = [
    "EXPORT_FORMAT",
    "MANIFEST_FILE",
    "README_FILE",
    "CheckedRelease",
    "ExportSample",
    "ExportSummary",
    "check_category",
    "check_output",
    "open_release",
    "record",
    "staged_output",
    "write_provenance",
]

#: The ``format`` of ``export.json``; bump it when a field changes meaning.
EXPORT_FORMAT: Final = "kaokore-export/1"
MANIFEST_FILE: Final = "export.json"
README_FILE: Final = "README.md"
#: Problems quoted in the error that refuses a release; ``kaokore verify`` lists them all.
_QUOTED_PROBLEMS: Final = 5
#: Columns of the provenance table that the label columns of an export replace.
_REPLACED: Final = frozenset({"image", "gender", "status"})


@dataclass(frozen=True, kw_only=True, slots=True)
class ExportSample:
    """One labelled face to export: its file, its two labels and its set in the chosen split."""

    image: str
    path: Path
    gender: int
    status: int
    set: str

    @property
    def key(self) -> str:
        """The file name without ``.jpg`` (``00000042``): the sample key of a shard."""
        return self.image.rsplit(".", 1)[0]

    def label(self, category: str) -> int:
        """The class index of ``category`` (``gender`` or ``status``)."""
        return self.gender if category == "gender" else self.status


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckedRelease:
    """A release that passed ``verify_release``, with the faces to export in ``labels.csv`` order.

    ``split`` is the split file that assigns the sets (``splits/NAME.csv``), or None for the
    ``set`` column of ``labels.csv`` (the release's default split), as ``KaoKore(split_file=)``.
    ``faces`` is the provenance table (``faces.parquet``, else ``faces.csv``), or None.
    """

    root: Path
    version: str
    checksum: str
    built_at: str | None
    split: str | None
    samples: tuple[ExportSample, ...]
    terms: Mapping[str, Any]
    faces: pa.Table | None = field(default=None, repr=False)

    @property
    def split_source(self) -> str:
        """The file whose rows assigned the sets, for people reading the export."""
        return "labels.csv (set column)" if self.split is None else f"splits/{self.split}.csv"

    def by_set(self) -> dict[str, list[ExportSample]]:
        """The samples of each set (train, dev, test, even if empty), in ``labels.csv`` order."""
        sets: dict[str, list[ExportSample]] = {name: [] for name in SETS}
        for sample in self.samples:
            sets[sample.set].append(sample)
        return sets

    def identity(self) -> dict[str, Any]:
        """What names the release an export came from, as written into every export."""
        return {
            "name": "KaoKore",
            "version": self.version,
            "checksum": self.checksum,
            "checksum_of": SUMS_FILE,
            "built_at": self.built_at,
            "split": self.split,
            "split_source": self.split_source,
        }

    def face_records(self) -> dict[str, dict[str, Any]]:
        """Provenance rows by image file name, without the columns an export writes itself."""
        if self.faces is None:
            return {}
        return {
            row["image"]: {k: v for k, v in row.items() if k not in _REPLACED}
            for row in self.faces.to_pylist()
        }

    def provenance_schema(self) -> list[pa.Field]:
        """The provenance columns an export adds after the labels (typed as in the release)."""
        if self.faces is None:
            return []
        return [f for f in self.faces.schema if f.name not in _REPLACED]


@dataclass(frozen=True, kw_only=True, slots=True)
class ExportSummary:
    """What an export wrote: where, from which release, how many faces per set.

    ``files`` are the data files (relative to ``path``); ``linked``/``copied`` count the
    images of an ImageFolder export that are hard links to the release or copies.
    """

    format: str
    path: Path
    version: str
    checksum: str
    split: str | None
    counts: Mapping[str, int]
    files: tuple[str, ...]
    linked: int = 0
    copied: int = 0


def check_category(category: str) -> str:
    """Refuse a category other than ``gender`` and ``status`` with a usage error."""
    if category not in CATEGORIES:
        raise UsageError(f"Unknown category {category!r}; use one of {', '.join(CATEGORIES)}.")
    return category


def check_output(out: Path, release: Path) -> None:
    """Refuse an output that is a file, a non-empty folder, or inside the release.

    Why inside the release is refused: a release is immutable, and a new folder in it would
    make it fail ``kaokore verify`` (an unlisted file).
    """
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} exists and is not a folder; give a new folder to export into.")
    if out.is_dir() and any(out.iterdir()):
        raise UsageError(
            f"{out} exists and is not empty; an export never writes among other files. "
            "Give a new folder, or empty this one."
        )
    target, source = out.resolve(), release.resolve()
    if target == source or source in target.parents:
        raise UsageError(
            f"{out} is inside the release {release}; releases are immutable. "
            "Export to a folder outside it."
        )


def _release_terms(meta: Mapping[str, Any]) -> dict[str, Any]:
    licence = meta.get("license")
    return {
        "license": licence if isinstance(licence, dict) else {"name": LICENSE, "url": LICENSE_URL},
        "attribution": meta.get("attribution") or ATTRIBUTION,
        "doi": meta.get("doi") or DOI,
        "redistribution": meta.get("redistribution") or REDISTRIBUTION,
    }


def _read_faces(root: Path) -> pa.Table | None:
    """The provenance table: ``faces.parquet`` (typed), else ``faces.csv`` (text), else None."""
    if (root / FACES_PARQUET).is_file():
        return pq.read_table(root / FACES_PARQUET)
    if (root / FACES_CSV).is_file():
        with (root / FACES_CSV).open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            names = list(reader.fieldnames or [])
            rows = [{name: row.get(name) or None for name in names} for row in reader]
        schema = pa.schema([pa.field(name, pa.string()) for name in names])
        return pa.Table.from_pylist(rows, schema=schema)
    return None


def open_release(path: Path | str, *, split: str | None = None) -> CheckedRelease:
    """Verify the release at ``path`` and read the faces to export.

    Raises ReleaseError naming the problems if the release fails ``kaokore verify`` (or is
    not a folder), UsageError for an unknown split name and DatasetNotFoundError for a split
    the release does not have.
    """
    root = Path(path)
    report = verify_release(root)
    if not report.ok:
        quoted = "; ".join(report.problems[:_QUOTED_PROBLEMS])
        more = len(report.problems) - _QUOTED_PROBLEMS
        rest = f"; and {more} more" if more > 0 else ""
        raise ReleaseError(
            f"Release {root} fails `kaokore verify` ({len(report.problems)} problem(s)), so it "
            f"is not exported: {quoted}{rest}. Run `kaokore verify {root}` for the full list."
        )
    if split is not None and split not in SPLIT_FILES:
        raise UsageError(f"Unknown split {split!r}; use one of {', '.join(SPLIT_FILES)}.")
    release = ReleaseFolder(root)
    meta = release.manifest() or {}
    samples = tuple(
        ExportSample(
            image=row.image,
            path=release.image_path(row.image),
            gender=row.gender,
            status=row.status,
            set=set_name,
        )
        for row, set_name in release.rows(split)
    )
    return CheckedRelease(
        root=root,
        version=report.version or str(meta.get("version")),
        checksum=release.checksum() or "",
        built_at=meta.get("built_at"),
        split=split,
        samples=samples,
        terms=_release_terms(meta),
        faces=_read_faces(root),
    )


def record(
    release: CheckedRelease, sample: ExportSample, faces: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """The labels and provenance of one face, as a flat record (a Parquet row, a shard's JSON).

    Why names next to indices: a reader of one JSON file or one Parquet row should not need
    ``labels.metadata.en.txt`` to know that status 1 is a warrior.
    """
    labels: dict[str, Any] = {
        "file_name": sample.image,
        "gender": sample.gender,
        "gender_name": class_names("gender")[sample.gender],
        "status": sample.status,
        "status_name": class_names("status")[sample.status],
        "set": sample.set,
    }
    provenance = faces.get(sample.image)
    if provenance is None:
        provenance = {f.name: None for f in release.provenance_schema()}
    return {**labels, **provenance}


@contextmanager
def staged_output(out: Path, release: Path) -> Iterator[Path]:
    """Yield a fresh folder beside ``out`` to write the export into; rename it to ``out`` at
    the end, or remove it if the export fails."""
    check_output(out, release)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.parent / f".{out.name}.partial-{os.getpid()}-{secrets.token_hex(4)}"
    partial.mkdir()
    try:
        yield partial
        if out.is_dir():
            try:
                out.rmdir()
            except OSError:
                raise UsageError(
                    f"{out} was filled by something else during the export; nothing written."
                ) from None
        partial.rename(out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def _readme(
    release: CheckedRelease, kind: str, counts: Mapping[str, int], how: Sequence[str]
) -> str:
    terms = release.terms
    licence = terms["license"]
    lines = [
        f"# KaoKore {release.version}: {kind} export",
        "",
        f"Exported by kaokore {__version__} from KaoKore release {release.version}, whose "
        f"`SHA256SUMS` has the sha256 checksum `{release.checksum}`.",
        f"Sets from {release.split_source}: "
        + ", ".join(f"{name} {counts.get(name, 0)}" for name in SETS)
        + " faces.",
        "",
        "## Licence and attribution",
        "",
        f"Licence: {licence.get('name', LICENSE)} ({licence.get('url', LICENSE_URL)}).",
        "",
        f"Attribution: {terms['attribution']}",
        "",
        f"DOI: https://doi.org/{terms['doi']}",
        "",
        str(terms["redistribution"]),
        "",
        "## Reading it",
        "",
        "In these examples OUT is this folder.",
        "",
        *how,
        "",
        f"`{MANIFEST_FILE}` says the same for programs: the release, the split, the counts and "
        "the files.",
    ]
    return "\n".join(lines) + "\n"


def write_provenance(
    folder: Path,
    release: CheckedRelease,
    *,
    kind: str,
    counts: Mapping[str, int],
    files: Sequence[str],
    how: Sequence[str],
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Write ``README.md`` (for people) and ``export.json`` (for programs) into ``folder``.

    Neither holds a wall-clock time, so exporting one release twice gives identical bytes.
    """
    manifest: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "export": kind,
        "generator": f"kaokore {__version__}",
        "release": release.identity(),
        **(extra or {}),
        "counts": {name: counts.get(name, 0) for name in SETS},
        "files": list(files),
        "license": release.terms["license"],
        "attribution": release.terms["attribution"],
        "doi": release.terms["doi"],
        "redistribution": release.terms["redistribution"],
    }
    (folder / MANIFEST_FILE).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    (folder / README_FILE).write_text(_readme(release, kind, counts, how), encoding="utf-8")
