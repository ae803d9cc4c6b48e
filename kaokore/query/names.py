"""The research vocabulary: English and Japanese names of keys, values and columns.

Why here: :mod:`kaokore.vocab` holds the label vocabulary every stage shares; the names
only the research queries need (stats columns, agents, key aliases) live here, so that
``--by status``, ``--by 身分`` and ``by=["status"]`` all mean the same column.
"""

from __future__ import annotations

from typing import Final

from kaokore import vocab
from kaokore.errors import ArgumentError

__all__ = [
    "AGENTS",
    "DERIVED_COLUMNS",
    "KEY_FOR_NAME",
    "english_value",
    "label_key",
]

#: Who asserted a label.
AGENTS: Final[dict[str, str]] = {
    "human": "an expert, via the curation or official files",
    "machine": "a machine (a bot tag)",
}

#: Column name (English, or the Japanese key itself) -> the Japanese metadata key.
KEY_FOR_NAME: Final[dict[str, str]] = {
    **{english: key for key, english in vocab.KEY_ENGLISH.items()},
    **{key: key for key in vocab.KEY_ENGLISH},
    "record": "record_id",
}

#: Stats columns that are not one label: what each means.
DERIVED_COLUMNS: Final[dict[str, str]] = {
    "work": "原典, else the work's title",
    "holder": "所蔵, else the work's holder",
    "record_id": "the record id (DOI, Kyoto RB..., Keio call number), else the work's",
    "period": "the 制作年 values read as a year range (1600-1700)",
    "century": "the century the date range starts in (17th century)",
    "agent": "human or machine: who asserted the face's current labels",
    "release": "the releases the face is a member of (official:1.3, built:1.0)",
}


def english_value(key: str, value: str | None) -> str | None:
    """The English name of a Japanese value of ``key``, or None (also for None)."""
    if value is None:
        return None
    return vocab.english_value(key, value)


def label_key(name: str) -> str:
    """The Japanese metadata key of a column name: ``status`` and ``身分`` give ``身分``.

    Names of derived columns (work, holder, record_id, period, century, agent, release)
    come back unchanged; any other name is taken as a metadata key as written (テーマ).
    """
    cleaned = name.strip()
    if not cleaned:
        raise ArgumentError("by", name, "an empty column name")
    lowered = cleaned.lower()
    if lowered in DERIVED_COLUMNS:
        return lowered
    alias = KEY_FOR_NAME.get(lowered) or KEY_FOR_NAME.get(cleaned)
    if alias in DERIVED_COLUMNS:
        return alias
    if alias is not None:
        english = vocab.KEY_ENGLISH.get(alias)
        if english in DERIVED_COLUMNS:
            return english
        return alias
    return cleaned
