"""Face filters: one vocabulary for the CLI's filter options and the library's ``where=``.

Why one dataclass: every research command (query faces, query stats, export rdf, export
curation, similar, review suggest) selects faces the same way, so the filters, their
English/Japanese equivalence, their help text and their SQL are written once: every
library function takes ``where: FaceFilter``, and the CLI derives its options from the
fields (``commands.common.face_filter_options``). :class:`FaceFilter` itself is defined in
:mod:`kaokore.face_filter`; this module is its SQL. Filters of different kinds combine with
AND; several values of one filter (``--status noble --status warrior``) combine with OR,
except tags, which must all be present.

The SQL uses only ``face_id IN (SELECT face_id FROM current_labels WHERE label = ? AND value
IN (...))``, which the ``(label, value)`` index serves, so a selective filter never scans the
table. ``current_labels`` holds what the one rule (:mod:`kaokore.db.truth`) decided, so a
face relabelled by a later version matches its new value only.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import get_close_matches
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from kaokore.db.models import CurrentLabel, Face, Release, ReleaseMember, Work
from kaokore.errors import UnknownValueError
from kaokore.face_filter import FaceFilter, FilterOption, filter_fields, release_parts
from kaokore.periods import parse_period
from kaokore.vocab import RECORD_ID_KEYS, VALUE_ENGLISH

__all__ = [
    "FaceFilter",
    "FilterOption",
    "face_ids_select",
    "filter_fields",
    "not_indexed",
    "validate",
]


def _record_forms(value: str) -> tuple[str, ...]:
    """A record id as given and with Keio's ``@`` written ``-`` (both forms occur)."""
    cleaned = value.strip()
    return tuple(dict.fromkeys((cleaned, cleaned.replace("@", "-"))))


def not_indexed(column: Any) -> Any:
    """``COALESCE(column, column)``: the same value, but no index can serve it.

    Per-face lookups must go through the ``(face_id, label)`` index. Without ``ANALYZE``
    statistics SQLite may instead pick the ``(label, value)`` or ``retracted_at`` index and
    read every row of a label once per face (minutes instead of milliseconds on 10,000
    faces); hiding the other columns from the planner leaves it the face id.
    """
    return func.coalesce(column, column)


# --- validation ---------------------------------------------------------------------------


def _present(session: Session, labels: Sequence[str]) -> set[str]:
    rows = session.scalars(
        select(CurrentLabel.value).where(CurrentLabel.label.in_(labels)).distinct()
    )
    return set(rows)


def _exists(session: Session, label: str, value: str, work_column: Any = None) -> bool:
    """Whether some annotation (or some work's ``work_column``) has ``value``: an index seek."""
    found = session.scalar(
        select(CurrentLabel.face_id)
        .where(CurrentLabel.label == label, CurrentLabel.value == value)
        .limit(1)
    )
    if found is None and work_column is not None:
        found = session.scalar(select(Work.id).where(work_column == value).limit(1))
    return found is not None


def _suggest(value: str, known: set[str]) -> str:
    close = [k for k in known if value and value in k][:5] or get_close_matches(
        value, sorted(known), n=5, cutoff=0.4
    )
    return f" Did you mean: {', '.join(sorted(close))}?" if close else ""


def validate(session: Session, face_filter: FaceFilter) -> None:
    """Refuse values that exist nowhere, so a typo is an error and not an empty result.

    Values of the closed vocabularies (gender, status, orientation, holder) are valid when
    :mod:`kaokore.vocab` knows them, even if no face has them yet. Each check is an index
    seek; the list of known values is read only to word the error
    (:class:`~kaokore.errors.UnknownValueError`, naming the keyword).
    """
    for item, option in filter_fields():
        key = option.vocabulary
        if key is None:
            continue
        english = VALUE_ENGLISH.get(key, {})
        work_column = Work.holder if item.name == "holder" else None
        for value in getattr(face_filter, item.name):
            if value in english or _exists(session, key, value, work_column):
                continue
            known = _present(session, [key])
            if work_column is not None:
                known |= {h for h in session.scalars(select(Work.holder).distinct()) if h}
            names = [f"{en} ({ja})" for ja, en in english.items()] + sorted(known - set(english))
            raise UnknownValueError(
                item.name, value, f"not a known value. Valid values are: {', '.join(names)}"
            )
    for value in face_filter.work:
        if not _exists(session, "原典", value, Work.label):
            known = _present(session, ["原典"]) | {
                w for w in session.scalars(select(Work.label).distinct()) if w
            }
            raise UnknownValueError(
                "work", value, f"no work has this title.{_suggest(value, known)}"
            )
    for value in face_filter.tag:
        if not _exists(session, "タグ", value):
            known = _present(session, ["タグ"])
            raise UnknownValueError("tag", value, f"no face has this tag.{_suggest(value, known)}")
    if face_filter.in_release:
        kind, versions = release_parts(face_filter.in_release)
        query = select(Release.kind, Release.version).where(Release.version.in_(versions))
        if kind:
            query = query.where(Release.kind == kind)
        if session.execute(query).first() is None:
            have = [f"{k}:{v}" for k, v in session.execute(select(Release.kind, Release.version))]
            listed = ", ".join(sorted(have)) or "none"
            raise UnknownValueError(
                "in_release", face_filter.in_release, f"no such release. Releases: {listed}"
            )


# --- SQL ----------------------------------------------------------------------------------


def _labelled(
    labels: Sequence[str], values: Sequence[str] | None, agent: str | None
) -> Select[Any]:
    """Face ids with a current annotation of one of ``labels`` (and ``values``, ``agent``)."""
    query = select(CurrentLabel.face_id).where(
        CurrentLabel.label.in_(labels) if len(labels) > 1 else CurrentLabel.label == labels[0],
    )
    if values is not None:
        query = query.where(
            CurrentLabel.value.in_(values) if len(values) > 1 else CurrentLabel.value == values[0]
        )
    if agent is not None:
        query = query.where(CurrentLabel.agent == agent)
    return query


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _english_matches(text: str) -> list[str]:
    """Japanese values whose English name contains ``text`` (``warrior`` -> 武士)."""
    lowered = text.lower()
    return sorted(
        {
            ja
            for names in VALUE_ENGLISH.values()
            for ja, en in names.items()
            if lowered in en.lower()
        }
    )


def _period_condition(session: Session, low: int | None, high: int | None) -> ColumnElement[bool]:
    """Faces whose combined 制作年 range overlaps ``[low, high]``.

    The distinct values are read in Python (:func:`kaokore.periods.parse_period`) and
    pushed into SQL as CASE expressions, so the rule is the Python one, whatever
    ``period_terms`` holds, and no per-face data leaves the database.
    """
    values = session.scalars(
        select(CurrentLabel.value).where(CurrentLabel.label == "制作年").distinct()
    ).all()
    maps: dict[str, dict[str, int]] = {"pf": {}, "pt": {}, "nf": {}, "nt": {}}
    for value in values:
        parsed = parse_period(value)
        if parsed is None:
            continue
        prefix = "p" if parsed.precise else "n"
        if parsed.year_from is not None:
            maps[prefix + "f"][value] = parsed.year_from
        if parsed.year_to is not None:
            maps[prefix + "t"][value] = parsed.year_to

    def mapped(name: str) -> Any:
        mapping = maps[name]
        if not mapping:
            return literal(None)
        return case(mapping, value=CurrentLabel.value)

    year_from = func.coalesce(func.min(mapped("pf")), func.min(mapped("nf")))
    year_to = func.coalesce(func.max(mapped("pt")), func.max(mapped("nt")))
    having: list[ColumnElement[bool]] = [or_(year_from.is_not(None), year_to.is_not(None))]
    if high is not None:
        having.append(or_(year_from.is_(None), year_from <= high))
    if low is not None:
        having.append(or_(year_to.is_(None), year_to >= low))
    known = sorted({value for mapping in maps.values() for value in mapping})
    if not known:
        return literal(False)
    # Only values with years matter (不明 and empty add nothing), and naming them lets the
    # (label, value) index find the rows instead of a scan of every annotation.
    ids = (
        select(CurrentLabel.face_id)
        .where(CurrentLabel.label == "制作年", CurrentLabel.value.in_(known))
        .group_by(CurrentLabel.face_id)
        .having(and_(*having))
    )
    return Face.id.in_(ids)


def face_conditions(session: Session, face_filter: FaceFilter) -> list[ColumnElement[bool]]:
    """The WHERE conditions on ``faces`` that implement ``face_filter``."""
    f = face_filter
    agent = f.agent
    conditions: list[ColumnElement[bool]] = [Face.deleted.is_(False)]

    def labelled_or_work(
        labels: Sequence[str], values: Sequence[str], work_column: Any
    ) -> ColumnElement[bool]:
        # The work's own row (title, holder, record id) answers too, unless an agent is
        # asked for: a works row has no agent, only annotations do.
        by_label = Face.id.in_(_labelled(labels, values, agent))
        if agent:
            return by_label
        return or_(by_label, Face.work_id.in_(select(Work.id).where(work_column.in_(values))))

    if f.work:
        conditions.append(labelled_or_work(["原典"], f.work, Work.label))
    if f.holder:
        conditions.append(labelled_or_work(["所蔵"], f.holder, Work.holder))
    if f.record_id:
        forms = [form for value in f.record_id for form in _record_forms(value)]
        conditions.append(labelled_or_work(list(RECORD_ID_KEYS), forms, Work.record_id))
    for key, values in (("性別", f.gender), ("身分", f.status), ("向き", f.orientation)):
        if values:
            conditions.append(Face.id.in_(_labelled([key], values, agent)))
    for tag in f.tag:
        conditions.append(Face.id.in_(_labelled(["タグ"], [tag], agent)))
    if f.text:
        pattern = _like(f.text)
        matches = or_(
            CurrentLabel.value.ilike(pattern, escape="\\"),
            *(
                [CurrentLabel.value.in_(_english_matches(f.text))]
                if _english_matches(f.text)
                else []
            ),
        )
        # A substring search reads every value anyway: a plain scan beats any index.
        text_ids = select(CurrentLabel.face_id).where(
            not_indexed(CurrentLabel.value).is_not(None), matches
        )
        if agent:
            text_ids = text_ids.where(CurrentLabel.agent == agent)
        conditions.append(
            or_(
                Face.id.in_(text_ids),
                Face.work_id.in_(select(Work.id).where(Work.label.ilike(pattern, escape="\\"))),
            )
        )
    if f.years is not None:
        conditions.append(_period_condition(session, *f.years))
    if agent and not (
        f.gender
        or f.status
        or f.orientation
        or f.tag
        or f.work
        or f.holder
        or f.record_id
        or f.text
    ):
        conditions.append(
            Face.id.in_(select(CurrentLabel.face_id).where(CurrentLabel.agent == agent))
        )
    if f.in_release:
        kind, versions = release_parts(f.in_release)
        members = (
            select(ReleaseMember.face_id)
            .join(Release, Release.id == ReleaseMember.release_id)
            .where(Release.version.in_(versions), ReleaseMember.face_id.is_not(None))
        )
        if kind:
            members = members.where(Release.kind == kind)
        conditions.append(Face.id.in_(members))
    return conditions


def face_ids_select(
    session: Session, face_filter: FaceFilter, *, limit: int | None = None
) -> Select[Any]:
    """``SELECT faces.id`` of the matching faces, in id order, at most ``limit``."""
    query = select(Face.id).where(*face_conditions(session, face_filter)).order_by(Face.id)
    if limit is not None:
        query = query.limit(limit)
    return query
