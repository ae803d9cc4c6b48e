"""Rows as CSV or JSON text, the same for every research command.

Why in the library: a notebook that wants the CSV ``kaokore query faces --format csv``
prints gets it from the same function, byte for byte.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["to_csv", "to_json"]


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def to_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV with a header row; None is an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if value is None else _plain(value) for value in row])
    return buffer.getvalue()


def to_json(records: Iterable[Mapping[str, Any]]) -> str:
    """A JSON array of objects, UTF-8 text kept readable (no ``\\u`` escapes)."""
    data = [{key: _plain(value) for key, value in record.items()} for record in records]
    return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"
