"""``kaokore export webdataset``: tar shards of ``NNNNNNNN.jpg`` + ``NNNNNNNN.json`` per set.

Why tar shards: streaming and multi-node training read large sequential files far faster
than many small ones, and the ``webdataset`` package (and its relatives) read plain POSIX
tar files, one sample per key. Shards are named ``{set}-NNNNNN.tar``, so a set is the brace
pattern ``train-{000000..000008}.tar`` that ``export.json`` and ``README.md`` give.

Why the bytes are deterministic: every member has the same owner (0/0, no names), mode
(0644) and modification time (the release's ``built_at``), the samples come in a fixed
order, and the tar is POSIX pax; so exporting one release twice gives identical shards, whose
checksums (in ``export.json``) can be compared across machines.

Why the order is ``labels.csv`` order unless ``seed`` is given: that is the loaders' index
order, so shard samples line up with ``KaoKore`` and the tf.data loader. But neighbouring
file numbers often come from one work, and a node that reads only some shards would then
see only some works; ``seed`` shuffles each set once, deterministically, before sharding.

Where the release and licence travel: each shard starts with a pax global header
(``KAOKORE.*`` keys: release version, checksum, licence, attribution, DOI), which tar readers
skip, and each sample's JSON names the release version, its checksum and the licence URL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import random
import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from kaokore.errors import ArgumentError
from kaokore.export.common import (
    CheckedRelease,
    ExportSample,
    ExportSummary,
    check_output,
    open_release,
    record,
    staged_output,
    write_provenance,
)
from kaokore.release.layout import SETS

__all__ = ["DEFAULT_SHARD_SIZE", "export_webdataset", "shard_name"]

DEFAULT_SHARD_SIZE: Final = 1000
_MODE: Final = 0o644


def shard_name(set_name: str, index: int) -> str:
    """``train-000003.tar``: the set, then the shard number, zero-padded to six digits."""
    return f"{set_name}-{index:06d}.tar"


def _pattern(set_name: str, shards: int) -> str:
    """The brace pattern naming every shard of a set (the one name when there is one)."""
    if shards == 1:
        return shard_name(set_name, 0)
    return f"{set_name}-{{000000..{shards - 1:06d}}}.tar"


def _mtime(release: CheckedRelease) -> int:
    """The members' modification time: the release's ``built_at`` (0 if it has none)."""
    if not release.built_at:
        return 0
    try:
        moment = dt.datetime.strptime(release.built_at, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return 0
    return int(moment.replace(tzinfo=dt.UTC).timestamp())


def _pax_headers(release: CheckedRelease) -> dict[str, str]:
    licence = release.terms["license"]
    return {
        "KAOKORE.release": release.version,
        "KAOKORE.checksum": release.checksum,
        "KAOKORE.split": release.split_source,
        "KAOKORE.license": f"{licence.get('name', '')} {licence.get('url', '')}".strip(),
        "KAOKORE.attribution": str(release.terms["attribution"]),
        "KAOKORE.doi": str(release.terms["doi"]),
    }


def _member(name: str, data: bytes, mtime: int) -> tuple[tarfile.TarInfo, io.BytesIO]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = mtime
    info.mode = _MODE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info, io.BytesIO(data)


def _write_shard(
    path: Path,
    release: CheckedRelease,
    samples: Sequence[ExportSample],
    faces: dict[str, dict[str, Any]],
) -> str:
    """Write one shard and return its sha256."""
    mtime = _mtime(release)
    stamp = {"version": release.version, "checksum": release.checksum, "split": release.split}
    with tarfile.open(
        path, "w", format=tarfile.PAX_FORMAT, pax_headers=_pax_headers(release)
    ) as tar:
        for sample in samples:
            meta = {**record(release, sample, faces), "release": stamp}
            text = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode()
            tar.addfile(*_member(f"{sample.key}.jpg", sample.path.read_bytes(), mtime))
            tar.addfile(*_member(f"{sample.key}.json", text, mtime))
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export_webdataset(
    release: Path | str,
    out: Path | str,
    *,
    split: str | None = None,
    shard_size: int = DEFAULT_SHARD_SIZE,
    seed: int | None = None,
) -> ExportSummary:
    """Write ``out/{set}-NNNNNN.tar`` shards of at most ``shard_size`` faces each.

    Each face is two members with the same key: ``NNNNNNNN.jpg`` (the release's bytes) and
    ``NNNNNNNN.json`` (labels, names, set, provenance, release). ``split`` picks the split file
    that assigns the sets (None: the ``set`` column of ``labels.csv``); ``seed`` shuffles each
    set once before sharding (None: ``labels.csv`` order). A set without faces has no shard.

    Raises UsageError for a non-empty ``out``, a shard size below 1 or an unknown split,
    ReleaseError for a release that fails ``kaokore verify``.
    """
    source, target = Path(release), Path(out)
    if shard_size < 1:
        raise ArgumentError("shard_size", shard_size, "must be at least 1")
    check_output(target, source)
    checked = open_release(source, split=split)
    sets = checked.by_set()
    if seed is not None:
        for set_name in SETS:
            random.Random(f"{seed}:{set_name}").shuffle(sets[set_name])
    faces = checked.face_records()
    shards: list[dict[str, Any]] = []
    with staged_output(target, source) as folder:
        for set_name in SETS:
            samples = sets[set_name]
            for index, start in enumerate(range(0, len(samples), shard_size)):
                chunk = samples[start : start + shard_size]
                name = shard_name(set_name, index)
                sha = _write_shard(folder / name, checked, chunk, faces)
                shards.append({"file": name, "set": set_name, "samples": len(chunk), "sha256": sha})
        counts = {name: len(sets[name]) for name in SETS}
        patterns = {
            name: _pattern(name, count)
            for name in SETS
            if (count := sum(1 for s in shards if s["set"] == name))
        }
        write_provenance(
            folder,
            checked,
            kind="webdataset",
            counts=counts,
            files=[s["file"] for s in shards],
            extra={
                "shard_size": shard_size,
                "order": "labels.csv" if seed is None else f"shuffled per set with seed {seed}",
                "patterns": patterns,
                "shards": shards,
            },
            how=[
                "```python",
                "import webdataset as wds",
                f'ds = wds.WebDataset("OUT/{patterns.get("train", "train-000000.tar")}", '
                'shardshuffle=100).decode("pil").to_tuple("jpg", "json")',
                "```",
                "",
                "Each sample is `NNNNNNNN.jpg` (the release's bytes) and `NNNNNNNN.json` "
                "(gender, status and their names, set, provenance, release).",
                "Shards per set: "
                + (", ".join(f"`{p}`" for p in patterns.values()) or "none")
                + ".",
            ],
        )
    return ExportSummary(
        format="webdataset",
        path=target,
        version=checked.version,
        checksum=checked.checksum,
        split=split,
        counts=counts,
        files=tuple(s["file"] for s in shards),
    )
