"""``kaokore export parquet``: one Parquet file per set, images and all columns in one table.

Why Parquet: it is what ``datasets.load_dataset("parquet", ...)``, pandas, pyarrow, polars
and DuckDB read directly, and what the Hugging Face hub serves. Each row is one face: the
JPEG bytes as they are in the release (never re-encoded), both labels as indices and names,
the set, and every provenance column of ``faces.parquet`` with its type.

Why the ``image`` column is a ``{bytes, path}`` struct with Hugging Face feature metadata:
that is the ``datasets.Image`` storage, so ``load_dataset`` hands out decoded images and
``ClassLabel`` labels with their names, while pandas and pyarrow still see plain bytes.

Why the release in the schema metadata (key ``kaokore``): a Parquet file is often copied on
its own; its schema then still names the release version, its checksum and the licence.

Why 100 rows per row group: the images make a row group about 3 MB, small enough for readers
that fetch row groups over the network (the hub's viewer, ``datasets`` streaming).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

from kaokore.export.common import (
    EXPORT_FORMAT,
    CheckedRelease,
    ExportSample,
    ExportSummary,
    check_output,
    open_release,
    staged_output,
    write_provenance,
)
from kaokore.release.layout import SETS
from kaokore.vocab import class_names

__all__ = ["DEFAULT_ROW_GROUP_SIZE", "export_parquet", "parquet_schema"]

DEFAULT_ROW_GROUP_SIZE: Final = 100
_IMAGE_TYPE: Final = pa.struct([pa.field("bytes", pa.binary()), pa.field("path", pa.string())])
_LABEL_FIELDS: Final = (
    pa.field("file_name", pa.string()),
    pa.field("gender", pa.int64()),
    pa.field("gender_name", pa.string()),
    pa.field("status", pa.int64()),
    pa.field("status_name", pa.string()),
    pa.field("set", pa.string()),
)


def _huggingface_features() -> dict[str, Any]:
    """``datasets`` features for the columns it would not infer: the image and the labels."""
    return {
        "info": {
            "features": {
                "image": {"_type": "Image"},
                "gender": {"names": class_names("gender"), "_type": "ClassLabel"},
                "status": {"names": class_names("status"), "_type": "ClassLabel"},
            }
        }
    }


def parquet_schema(release: CheckedRelease, set_name: str) -> pa.Schema:
    """The schema of one set's file, with the release and the terms in its metadata."""
    fields = [pa.field("image", _IMAGE_TYPE), *_LABEL_FIELDS, *release.provenance_schema()]
    kaokore = {
        "format": EXPORT_FORMAT,
        "release": release.identity(),
        "set": set_name,
        "license": release.terms["license"],
        "attribution": release.terms["attribution"],
        "doi": release.terms["doi"],
        "redistribution": release.terms["redistribution"],
    }
    metadata = {
        b"kaokore": json.dumps(kaokore, ensure_ascii=False).encode(),
        b"huggingface": json.dumps(_huggingface_features()).encode(),
    }
    return pa.schema(fields, metadata=metadata)


def _batch(
    release: CheckedRelease,
    samples: Sequence[ExportSample],
    schema: pa.Schema,
    rows: Mapping[str, int],
) -> pa.Table:
    """One row group: the images read from the release, the provenance taken by index."""
    names = [s.image for s in samples]
    image = pa.StructArray.from_arrays(
        [pa.array([s.path.read_bytes() for s in samples], pa.binary()), pa.array(names)],
        fields=list(_IMAGE_TYPE),
    )
    gender = [class_names("gender")[s.gender] for s in samples]
    status = [class_names("status")[s.status] for s in samples]
    columns: list[pa.Array | pa.ChunkedArray] = [
        image,
        pa.array(names, pa.string()),
        pa.array([s.gender for s in samples], pa.int64()),
        pa.array(gender, pa.string()),
        pa.array([s.status for s in samples], pa.int64()),
        pa.array(status, pa.string()),
        pa.array([s.set for s in samples], pa.string()),
    ]
    provenance = release.provenance_schema()
    if release.faces is not None and provenance:
        taken = release.faces.take(pa.array([rows.get(n) for n in names], pa.int64()))
        columns.extend(taken.column(f.name) for f in provenance)
    return pa.Table.from_arrays(columns, schema=schema)


def export_parquet(
    release: Path | str,
    out: Path | str,
    *,
    split: str | None = None,
    row_group_size: int = DEFAULT_ROW_GROUP_SIZE,
) -> ExportSummary:
    """Write ``out/{train,dev,test}.parquet``: every labelled face with its bytes and columns.

    ``split`` picks the split file that assigns the sets (None: the ``set`` column of
    ``labels.csv``). Rows are in ``labels.csv`` order, as the loaders index them. A set
    without faces still gets its (empty) file, so every export has the same three files.

    Raises UsageError for a non-empty ``out`` or an unknown split, ReleaseError for a
    release that fails ``kaokore verify``.
    """
    source, target = Path(release), Path(out)
    if row_group_size < 1:
        raise ValueError(f"row_group_size must be at least 1, not {row_group_size}")
    check_output(target, source)
    checked = open_release(source, split=split)
    sets = checked.by_set()
    rows: dict[str, int] = {}
    if checked.faces is not None and "image" in checked.faces.column_names:
        rows = {name: i for i, name in enumerate(checked.faces.column("image").to_pylist())}
    files = [f"{name}.parquet" for name in SETS]
    with staged_output(target, source) as folder:
        for set_name, file_name in zip(SETS, files, strict=True):
            schema = parquet_schema(checked, set_name)
            samples = sets[set_name]
            with pq.ParquetWriter(folder / file_name, schema, compression="zstd") as writer:
                for start in range(0, len(samples), row_group_size):
                    chunk = samples[start : start + row_group_size]
                    writer.write_table(_batch(checked, chunk, schema, rows), row_group_size)
        counts = {name: len(sets[name]) for name in SETS}
        write_provenance(
            folder,
            checked,
            kind="parquet",
            counts=counts,
            files=files,
            extra={"row_group_size": row_group_size},
            how=[
                "```python",
                "import datasets",
                'ds = datasets.load_dataset("parquet", data_files={"train": "OUT/train.parquet", '
                '"dev": "OUT/dev.parquet", "test": "OUT/test.parquet"})',
                'ds["train"][0]["image"]  # a PIL image; gender and status are ClassLabels',
                "",
                "import pandas as pd",
                'df = pd.read_parquet("OUT/train.parquet")  # image: {"bytes": ..., "path": ...}',
                "```",
                "",
                "Rows follow labels.csv. The schema metadata (key `kaokore`) names the release, "
                "its checksum and the licence.",
            ],
        )
    return ExportSummary(
        format="parquet",
        path=target,
        version=checked.version,
        checksum=checked.checksum,
        split=split,
        counts=counts,
        files=tuple(files),
    )
