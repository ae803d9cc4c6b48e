"""Keeping ``period_terms`` (each distinct 制作年 value and its years) in step with the data.

Why a table at all: the SQL views (``faces_current.period_from``) must work without Python,
so the years of each value are stored once per distinct value, not per face. Python code
never depends on the table being complete: :func:`kaokore.query.faces` reads the values
itself. Rows are only ever added or recomputed here, from :mod:`kaokore.periods`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from sqlalchemy import Connection, Table, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kaokore.db.models import Annotation
from kaokore.db.models_research import PERIOD_LABEL, PeriodTerm
from kaokore.periods import parse_period

__all__ = ["ensure_period_terms", "refresh_period_terms", "term_row"]


def term_row(value: str) -> dict[str, object]:
    """The ``period_terms`` row of one value."""
    parsed = parse_period(value)
    if parsed is None:
        return {
            "value": value,
            "year_from": None,
            "year_to": None,
            "precise": False,
            "kind": "unmapped",
        }
    return {
        "value": value,
        "year_from": parsed.year_from,
        "year_to": parsed.year_to,
        "precise": parsed.precise,
        "kind": parsed.kind,
    }


def ensure_period_terms(connection: Connection, values: Iterable[str]) -> int:
    """Add the rows of ``values`` that the table lacks; returns how many were new."""
    wanted = sorted(set(values))
    if not wanted:
        return 0
    table = cast(Table, PeriodTerm.__table__)
    rows = [term_row(value) for value in wanted]
    dialect = connection.dialect.name
    if dialect in ("sqlite", "postgresql"):
        make = sqlite_insert if dialect == "sqlite" else pg_insert
        statement = make(table).on_conflict_do_nothing(index_elements=["value"])
        result = connection.execute(statement, rows)
        return max(result.rowcount or 0, 0)
    have = set(connection.scalars(select(PeriodTerm.value).where(PeriodTerm.value.in_(wanted))))
    missing = [row for row in rows if row["value"] not in have]
    if missing:
        connection.execute(table.insert(), missing)
    return len(missing)


def refresh_period_terms(connection: Connection, *, recompute: bool = False) -> int:
    """Make ``period_terms`` cover every 制作年 value stored; returns rows written.

    ``recompute=True`` rebuilds every row, after the era or period tables have changed.
    """
    values = set(
        connection.scalars(
            select(Annotation.value).where(Annotation.label == PERIOD_LABEL).distinct()
        )
    )
    if recompute:
        connection.execute(delete(PeriodTerm))
    return ensure_period_terms(connection, values)
