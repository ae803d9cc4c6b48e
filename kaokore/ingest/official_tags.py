"""Normalising the official tags: record ids, annotations and works of a tag line.

Why a module: a face's labels must compare equal whichever door they came in by (a curation
or an official line), so the official values are normalised as curations' are
(:func:`kaokore.ingest.curation.normalise_value`), with the one official quirk (a Keio
``原典ID`` written with ``@``) handled here.
"""

from __future__ import annotations

from typing import Final

from kaokore.db.records import Assertion
from kaokore.ingest.curation import normalise_value
from kaokore.ingest.official_files import TagLine
from kaokore.vocab import RECORD_ID_KEYS

__all__ = ["assertions_of", "record_of", "work_of"]

_HOLDER: Final = "所蔵"
_TITLE: Final = "原典"
#: The record id key of versions 1.0 to 1.2, before each holder got its own key.
_OLD_RECORD_KEY: Final = "原典ID"
_KEIO: Final = "慶應義塾大学"

# --- normalising tags ----------------------------------------------------------------------


def record_of(tag: TagLine) -> tuple[str, str] | None:
    """The (key, normalised value) of the record id: the holder's own key, else ``原典ID``."""
    for key in (*RECORD_ID_KEYS, _OLD_RECORD_KEY):
        raw = tag.first(key)
        if raw is not None and raw.strip():
            return key, _normalise(key, raw, tag)
    return None


def _normalise(key: str, raw: str, tag: TagLine) -> str:
    """The comparable value, as curations have it; a Keio ``原典ID`` is a call number too."""
    if key == _OLD_RECORD_KEY and (tag.first(_HOLDER) or "").strip() == _KEIO:
        return raw.strip().replace("@", "-")
    return normalise_value(key, raw)


def assertions_of(tag: TagLine) -> tuple[Assertion, ...]:
    """The tag line as annotations: every pair, raw and normalised, in file order.

    A bare ``=`` (no key) is skipped, as a curation's metadata entry with an empty label
    is: one outcome per face whichever door it came in by (the ``empty_key`` defect).
    """
    return tuple(
        Assertion(
            label=pair.key,
            raw_value=pair.raw_value,
            value=_normalise(pair.key, pair.raw_value, tag),
            position=pair.position,
        )
        for pair in tag.pairs
        if pair.key.strip()
    )


def work_of(tag: TagLine) -> tuple[str, str, str, str | None] | None:
    """(key, holder, record id, title) of the work a tag line names, or None without both.

    The key is ``record:{holder}:{record id}``, as :func:`kaokore.ingest.store.work_key`
    makes it, so an official face and a curation face meet on one work.
    """
    holder = normalise_value(_HOLDER, tag.first(_HOLDER) or "")
    record = record_of(tag)
    if not holder or record is None:
        return None
    title = normalise_value(_TITLE, tag.first(_TITLE) or "") or None
    return f"record:{holder}:{record[1]}", holder, record[1], title
