"""``export_webdataset``: tar shards read back by ``webdataset``, with deterministic bytes."""

from __future__ import annotations

import datetime as dt
import gc
import json
import tarfile
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from kaokore.export import export_webdataset
from tests.export.conftest import label_counts, label_rows

SETS = ("train", "dev", "test")


def read_shards(paths: list[Path]) -> list[dict[str, Any]]:
    """Every sample of the shards, through ``webdataset.WebDataset``.

    webdataset leaves its shard files for the garbage collector to close; the collection
    runs here, with that one ResourceWarning silenced, so it cannot fail a later test.
    """
    wds = pytest.importorskip("webdataset", reason="needs the export extra (webdataset)")
    urls = [str(p) for p in paths]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"unclosed file .*\.tar", ResourceWarning)
        samples = list(wds.WebDataset(urls, shardshuffle=False, empty_check=False))
        gc.collect()
    return samples


@pytest.mark.parametrize("split", [None, "by-work"])
@pytest.mark.slow
def test_same_images_and_labels_as_the_release(
    built_release: Path, tmp_path: Path, split: str | None
) -> None:
    summary = export_webdataset(built_release, tmp_path / "out", split=split, shard_size=10)
    rows = label_rows(built_release, split)
    got: list[dict[str, Any]] = []
    for set_name in SETS:
        expected = [r for r in rows if r["set"] == set_name]
        shards = sorted((tmp_path / "out").glob(f"{set_name}-*.tar"))
        assert [p.name for p in shards] == [
            f"{set_name}-{i:06d}.tar" for i in range((len(expected) + 9) // 10)
        ]
        samples = read_shards(shards)
        assert [s["__key__"] for s in samples] == [r["image"][:-4] for r in expected]
        for sample, row in zip(samples, expected, strict=True):
            assert sample["jpg"] == (built_release / "images_256" / row["image"]).read_bytes()
            meta = json.loads(sample["json"])
            assert meta["file_name"] == row["image"]
            assert (meta["gender"], meta["status"]) == (int(row["gender"]), int(row["status"]))
            assert meta["set"] == set_name
            assert meta["release"]["version"] == "1.0"
            assert meta["release"]["checksum"] == summary.checksum
            assert meta["face_key"] and meta["license"].startswith("https://creativecommons")
            got.append(meta)
    counted = Counter((m["set"], str(m["gender"]), str(m["status"])) for m in got)
    assert counted == label_counts(rows)
    assert sum(summary.counts.values()) == len(got)


def test_shard_members_are_fixed_and_ordered(built_release: Path, tmp_path: Path) -> None:
    export_webdataset(built_release, tmp_path / "out", shard_size=4)
    manifest = json.loads((tmp_path / "out" / "export.json").read_text())
    first = tmp_path / "out" / "train-000000.tar"
    with tarfile.open(first) as tar:
        members = tar.getmembers()
        assert tar.pax_headers["KAOKORE.release"] == "1.0"
        assert tar.pax_headers["KAOKORE.checksum"] == manifest["release"]["checksum"]
        assert "CC BY-SA 4.0" in tar.pax_headers["KAOKORE.license"]
    names = [m.name for m in members]
    train = [r["image"][:-4] for r in label_rows(built_release) if r["set"] == "train"][:4]
    assert names == [f"{key}.{ext}" for key in train for ext in ("jpg", "json")]
    assert {(m.uid, m.gid, m.uname, m.gname, m.mode) for m in members} == {(0, 0, "", "", 0o644)}
    built_at = json.loads((built_release / "release.json").read_text())["built_at"]
    expected = int(dt.datetime.fromisoformat(built_at.replace("Z", "+00:00")).timestamp())
    assert {m.mtime for m in members} == {expected}  # the release's built_at
    shards = manifest["shards"]
    assert [s["samples"] for s in shards if s["set"] == "train"][0] == 4
    assert sum(s["samples"] for s in shards) == sum(manifest["counts"].values())
    assert manifest["patterns"]["train"].startswith("train-{000000..")


@pytest.mark.slow
def test_a_seed_shuffles_each_set_reproducibly(built_release: Path, tmp_path: Path) -> None:
    export_webdataset(built_release, tmp_path / "a", seed=7)
    export_webdataset(built_release, tmp_path / "b", seed=7)
    export_webdataset(built_release, tmp_path / "c")
    a = [s["__key__"] for s in read_shards([tmp_path / "a" / "train-000000.tar"])]
    b = [s["__key__"] for s in read_shards([tmp_path / "b" / "train-000000.tar"])]
    c = [s["__key__"] for s in read_shards([tmp_path / "c" / "train-000000.tar"])]
    assert a == b and a != c and sorted(a) == sorted(c)
    assert (tmp_path / "a" / "train-000000.tar").read_bytes() == (
        tmp_path / "b" / "train-000000.tar"
    ).read_bytes()
