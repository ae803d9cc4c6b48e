"""``export_parquet``: one file per set, read back by pyarrow, pandas and ``datasets``."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from kaokore.export import export_parquet
from tests.export.conftest import label_counts, label_rows

SETS = ("train", "dev", "test")


@pytest.mark.parametrize("split", [None, "by-page"])
def test_same_images_and_labels_as_the_release(
    built_release: Path, tmp_path: Path, split: str | None
) -> None:
    summary = export_parquet(built_release, tmp_path / "out", split=split)
    assert summary.files == ("train.parquet", "dev.parquet", "test.parquet")
    rows = label_rows(built_release, split)
    got: list[dict[str, str]] = []
    for set_name in SETS:
        table = pq.read_table(tmp_path / "out" / f"{set_name}.parquet")
        records = table.to_pylist()
        expected = [r["image"] for r in rows if r["set"] == set_name]
        assert [r["file_name"] for r in records] == expected  # labels.csv order
        for item in records:
            source = built_release / "images_256" / item["file_name"]
            assert item["image"]["bytes"] == source.read_bytes()
            assert item["image"]["path"] == item["file_name"]
            got.append(
                {"set": item["set"], "gender": str(item["gender"]), "status": str(item["status"])}
            )
        assert summary.counts[set_name] == len(records)
    assert Counter((r["set"], r["gender"], r["status"]) for r in got) == label_counts(rows)


def test_provenance_columns_and_schema_metadata(built_release: Path, tmp_path: Path) -> None:
    export_parquet(built_release, tmp_path / "out")
    table = pq.read_table(tmp_path / "out" / "train.parquet")
    faces = pq.read_table(built_release / "faces.parquet")
    for name in faces.column_names:
        if name not in ("image", "gender", "status"):
            assert table.schema.field(name).type == faces.schema.field(name).type, name
    by_image = {row["image"]: row for row in faces.to_pylist()}
    for row in table.to_pylist():
        face = by_image[row["file_name"]]
        assert row["face_key"] == face["face_key"]
        assert row["annotations"] == face["annotations"]
        assert row["gender"] == face["gender"] and row["status"] == face["status"]
    assert {row["gender_name"] for row in table.to_pylist()} <= {"male", "female"}
    meta = json.loads(table.schema.metadata[b"kaokore"])
    assert meta["release"]["version"] == "1.0"
    assert (
        meta["release"]["checksum"]
        == json.loads((tmp_path / "out" / "export.json").read_text())["release"]["checksum"]
    )
    assert meta["set"] == "train" and meta["license"]["name"] == "CC BY-SA 4.0"


def test_pandas_reads_it(built_release: Path, tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas", reason="needs pandas")
    export_parquet(built_release, tmp_path / "out")
    frame = pd.read_parquet(tmp_path / "out" / "train.parquet")
    rows = [r for r in label_rows(built_release) if r["set"] == "train"]
    assert list(frame["file_name"]) == [r["image"] for r in rows]
    first = frame.iloc[0]
    assert first["image"]["bytes"] == (built_release / "images_256" / rows[0]["image"]).read_bytes()


@pytest.mark.slow
def test_huggingface_datasets_loads_it(built_release: Path, tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets", reason="needs the datasets package")
    export_parquet(built_release, tmp_path / "out")
    files = {name: str(tmp_path / "out" / f"{name}.parquet") for name in SETS}
    loaded = datasets.load_dataset("parquet", data_files=files, cache_dir=str(tmp_path / "hf"))
    rows = label_rows(built_release)
    for set_name in SETS:
        part = loaded[set_name]
        expected = [r for r in rows if r["set"] == set_name]
        assert part.num_rows == len(expected)
        assert part.features["gender"].names == ["male", "female"]
        assert part.features["status"].names[1] == "warrior"
        assert isinstance(part.features["image"], datasets.Image)
        assert part["status"] == [int(r["status"]) for r in expected]
        raw = part.cast_column("image", datasets.Image(decode=False))
        for item, row in zip(raw, expected, strict=True):
            source = built_release / "images_256" / row["image"]
            assert item["image"]["bytes"] == source.read_bytes()
    image = loaded["train"][0]["image"]
    assert image.size == (256, 256)
