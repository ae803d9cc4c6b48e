"""Many rows in and out without SQLAlchemy's per-row work: the bulk write path's engine room.

Why: an ``INSERT`` of 20,000 annotations through ``connection.execute(insert(t), rows)``
spends most of its time building and type-processing parameters row by row (every
timestamp converted again, though one import stamps them all alike). Here each column's
bind or result processor runs once per *distinct* value (a cache), and the rows go to the
driver's ``executemany`` as plain tuples. Values are converted exactly as the column types
would, so rows written here read back as any other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, Table, type_coerce
from sqlalchemy.types import NullType

__all__ = ["Converter", "insert_rows", "raw", "result_converter"]


class Converter:
    """A column type's bind or result processor, run once per distinct value."""

    def __init__(self, processor: Any) -> None:
        self.processor = processor
        self.cache: dict[Any, Any] = {}

    def __call__(self, value: Any) -> Any:
        if value is None or self.processor is None:
            return value
        try:
            return self.cache[value]
        except KeyError:
            converted = self.cache[value] = self.processor(value)
            return converted
        except TypeError:  # unhashable (JSON): convert every time
            return self.processor(value)


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """``INSERT`` ``rows`` (dicts with the same keys) with the driver's ``executemany``.

    Column defaults are not applied: give every value the row needs.
    """
    if not rows:
        return
    dialect = connection.dialect
    names = list(rows[0])
    columns: list[Column[Any]] = [table.c[name] for name in names]
    converters = [
        Converter(column.type.dialect_impl(dialect).bind_processor(dialect)) for column in columns
    ]
    quote = dialect.identifier_preparer.quote
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    statement = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join([marker] * len(names))})"
    )
    get = itemgetter(*names)
    convert = [(i, c) for i, c in enumerate(converters) if c.processor is not None]
    parameters: list[Any] = []
    for row in rows:
        values = get(row)
        if len(names) == 1:
            values = (values,)
        if convert:
            values = list(values)
            for index, converter in convert:
                values[index] = converter(values[index])
        parameters.append(tuple(values))
    connection.exec_driver_sql(statement, parameters)


def raw(column: Any) -> ColumnElement[Any]:
    """``column`` read as the driver gives it (no per-row result processing)."""
    return type_coerce(column, NullType()).label(getattr(column, "key", None))


def result_converter(connection: Connection, column: Any) -> Converter:
    """The result processor of ``column``'s type, cached per distinct raw value."""
    dialect = connection.dialect
    return Converter(column.type.dialect_impl(dialect).result_processor(dialect, None))
