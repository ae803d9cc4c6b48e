"""``faces.csv`` and ``faces.parquet``: where every face of a release comes from.

Why both: the CSV is for people and spreadsheets; the Parquet copy keeps the types (integers
stay integers, the annotations stay a list of records) for pandas, pyarrow and
``datasets.load_dataset``. They hold the same rows and columns; in the CSV the annotations are
a JSON array. One row per image, labelled or not, so a researcher can always get from a file
back to the holder, the record, the manifest, the canvas and the region the experts drew,
and from each label to its source: the upstream experts, or a reviewer (who, and which machine
suggestion they confirmed or overrode).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any, Final

import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from kaokore.box import box_columns, box_values
from kaokore.compiler.records import ReleaseEntry
from kaokore.compiler.reviewed import LabelSource
from kaokore.compiler.terms import LICENSE_URL
from kaokore.release.layout import SPLIT_FILES
from kaokore.vocab import KEY_ENGLISH

__all__ = ["COLUMNS", "faces_csv", "faces_parquet", "provenance_records"]

_INT_COLUMNS: Final = (
    "file_number",
    "gender",
    "status",
    "canvas_position",
    *box_columns("region"),
    *box_columns("square"),
    "iiif_level",
)
_META_COLUMNS: Final = tuple(f"meta_{english}" for english in KEY_ENGLISH.values())
#: Where each release label came from: ``expert`` or ``reviewer``; for a reviewer, who,
#: ``confirmed``/``overrode``/``labelled``, and the suggestion shown.
_SOURCE_COLUMNS: Final = tuple(
    f"{category}_{part}"
    for category in ("gender", "status")
    for part in ("source", "reviewer", "decision", "suggestion")
)

#: The columns, in file order.
COLUMNS: Final[tuple[str, ...]] = (
    "image",
    "file_number",
    "face_key",
    "gender",
    "status",
    *_SOURCE_COLUMNS,
    *(f"set_{name.replace('-', '_')}" for name in SPLIT_FILES),
    "holder",
    "record_id",
    "work_key",
    "work_label",
    "manifest_url",
    "canvas_uri",
    "canvas_label",
    "canvas_position",
    "member_uri",
    "range_id",
    "range_label",
    *box_columns("region"),
    *box_columns("square"),
    "image_service",
    "image_service_key",
    "iiif_api",
    "iiif_level",
    "url",
    "crop_url",
    "crop_sha256",
    "image_sha256",
    "source_document",
    "license",
    "attribution",
    *_META_COLUMNS,
    "annotations",
)


def provenance_records(entries: Iterable[ReleaseEntry]) -> list[dict[str, Any]]:
    """One dict per image (sorted by file name), the annotations as a list of dicts.

    ``meta_*`` columns repeat the human annotations of the known keys, several values
    joined with ``;`` as in ``original_tags.txt``; ``annotations`` has every current one.
    """
    records = []
    for entry in sorted(entries, key=lambda e: e.image):
        row = entry.row
        meta: dict[str, list[str]] = {column: [] for column in _META_COLUMNS}
        for value in row.annotations:
            english = KEY_ENGLISH.get(value.label)
            if english is not None and value.agent == "human":
                meta[f"meta_{english}"].append(value.value)
        record: dict[str, Any] = {
            "image": entry.image,
            "file_number": row.file_number if row.file_number is not None else None,
            "face_key": row.key,
            "gender": row.gender,
            "status": row.status,
            **_sources("gender", row.gender_source),
            **_sources("status", row.status_source),
            **{f"set_{n.replace('-', '_')}": entry.sets.get(n) for n in SPLIT_FILES},
            "holder": row.holder,
            "record_id": row.record_id,
            "work_key": row.work_key,
            "work_label": row.work_label,
            "manifest_url": row.manifest_url,
            "canvas_uri": row.canvas_uri,
            "canvas_label": row.canvas_label,
            "canvas_position": row.canvas_position,
            "member_uri": row.member_uri,
            "range_id": row.range_id,
            "range_label": row.range_label,
            **box_values("region", row.region),
            **box_values("square", row.square),
            "image_service": row.service_url,
            "image_service_key": row.service_key,
            "iiif_api": row.api_version,
            "iiif_level": row.level,
            "url": entry.url,
            "crop_url": row.crop_url,
            "crop_sha256": row.blob_sha256,
            "image_sha256": entry.image_sha256,
            "source_document": row.source_document,
            "license": row.license or LICENSE_URL,
            "attribution": row.attribution,
            **{column: ";".join(values) if values else None for column, values in meta.items()},
            "annotations": [
                {
                    "label": v.label,
                    "value": v.value,
                    "raw_value": v.raw_value,
                    "agent": v.agent,
                    "position": v.position,
                }
                for v in row.annotations
            ],
        }
        records.append(record)
    return records


def _sources(category: str, source: LabelSource | None) -> dict[str, str | None]:
    return {
        f"{category}_source": source.kind if source else None,
        f"{category}_reviewer": source.reviewer if source else None,
        f"{category}_decision": source.decision if source else None,
        f"{category}_suggestion": source.suggestion if source else None,
    }


def faces_csv(records: Sequence[dict[str, Any]]) -> bytes:
    """The records as CSV (``\\n`` line ends; empty cells for unknown values)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for record in records:
        cells = []
        for column in COLUMNS:
            value = record[column]
            if column == "annotations":
                value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            cells.append("" if value is None else value)
        writer.writerow(cells)
    return out.getvalue().encode()


def _schema() -> pa.Schema:
    annotation = pa.struct(
        [
            ("label", pa.string()),
            ("value", pa.string()),
            ("raw_value", pa.string()),
            ("agent", pa.string()),
            ("position", pa.int64()),
        ]
    )
    fields = []
    for column in COLUMNS:
        if column == "annotations":
            fields.append(pa.field(column, pa.list_(annotation)))
        elif column in _INT_COLUMNS:
            fields.append(pa.field(column, pa.int64()))
        else:
            fields.append(pa.field(column, pa.string()))
    return pa.schema(fields)


def faces_parquet(records: Sequence[dict[str, Any]]) -> bytes:
    """The records as Parquet (zstd; no timestamps, so the bytes are reproducible).

    The table is parsed from JSON lines against the fixed schema rather than built from
    Python lists: pyarrow's list conversion imports pandas when it is installed, which
    costs seconds per build for nothing.
    """
    schema = _schema()
    if records:
        payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
        table = pa_json.read_json(
            pa.BufferReader(payload),
            read_options=pa_json.ReadOptions(
                use_threads=False, block_size=max(1 << 20, len(payload))
            ),
            parse_options=pa_json.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="error"
            ),
        )
        table = table.select(list(COLUMNS)).cast(schema).combine_chunks()
    else:
        table = schema.empty_table()
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())
