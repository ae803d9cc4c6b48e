"""Face filters: one vocabulary for ``kaokore query faces`` options and ``faces(...)`` keywords.

Why one dataclass: every research command (query faces, query stats, export rdf, export
curation, similar) selects faces the same way, so the options, their English/Japanese
equivalence and their SQL are written once. Filters of different kinds combine with AND;
several values of one filter (``--status noble --status warrior``) combine with OR, except
tags, which must all be present.

The SQL uses only ``face_id IN (SELECT face_id FROM current_labels WHERE label = ? AND value
IN (...))``, which the ``(label, value)`` index serves, so a selective filter never scans the
table. ``current_labels`` holds what the one rule (:mod:`kaokore.db.truth`) decided, so a
face relabelled by a later version matches its new value only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from kaokore.db.models import CurrentLabel, Face, Release, ReleaseMember, Work
from kaokore.errors import UsageError
from kaokore.periods import parse_period, parse_period_query
from kaokore.vocab import RECORD_ID_KEYS, VALUE_ENGLISH, japanese_value

__all__ = ["FaceFilter", "Values", "face_ids_select", "not_indexed", "validate"]

#: A filter value as Python callers give it: one value, several, or None for "any".
Values = str | Sequence[str] | None

_CLOSED_KEYS = {"gender": "性別", "status": "身分", "orientation": "向き", "holder": "所蔵"}


def _tuple(values: Values) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        return (values,)
    return tuple(values)


def _record_forms(value: str) -> tuple[str, ...]:
    """A record id as given and with Keio's ``@`` written ``-`` (both forms occur)."""
    cleaned = value.strip()
    return tuple(dict.fromkeys((cleaned, cleaned.replace("@", "-"))))


def _release_parts(release: str) -> tuple[str | None, tuple[str, ...]]:
    """``official:1.3`` -> (``official``, versions); ``1.3`` or ``v1.3`` -> (None, both forms)."""
    kind: str | None = None
    version = release.strip()
    if ":" in version:
        kind, _, version = version.partition(":")
        kind = kind.strip().lower()
        if kind not in ("built", "official"):
            raise UsageError(f"--release {release!r}: the kind must be built or official")
    bare = version[1:] if version[:1] in ("v", "V") else version
    return kind, tuple(dict.fromkeys((version, bare, f"v{bare}")))


@dataclass(frozen=True, kw_only=True, slots=True)
class FaceFilter:
    """Which faces a query is about; empty fields do not filter. Values are Japanese.

    Build it with :meth:`build`, which accepts English names (``status="warrior"``), single
    values or sequences, and a ``period`` as text (``"1600-1650"``, ``"江戸前期"``).
    """

    work: tuple[str, ...] = ()
    holder: tuple[str, ...] = ()
    record_id: tuple[str, ...] = ()
    gender: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    orientation: tuple[str, ...] = ()
    tag: tuple[str, ...] = ()
    text: str | None = None
    period: tuple[int | None, int | None] | None = None
    agent: str | None = None
    release: str | None = None
    include_deleted: bool = False

    @classmethod
    def build(
        cls,
        *,
        work: Values = None,
        holder: Values = None,
        record_id: Values = None,
        gender: Values = None,
        status: Values = None,
        orientation: Values = None,
        tag: Values = None,
        text: str | None = None,
        period: str | tuple[int | None, int | None] | None = None,
        agent: str | None = None,
        release: str | None = None,
        include_deleted: bool = False,
    ) -> FaceFilter:
        """Normalise user input: English names to Japanese, text periods to years."""
        if agent is not None:
            agent = agent.strip().lower()
            if agent not in ("human", "machine"):
                raise UsageError(f"--agent {agent!r}: use human or machine")
        if isinstance(period, str):
            period = parse_period_query(period)
        if text is not None and not text.strip():
            text = None
        return cls(
            work=tuple(v.strip() for v in _tuple(work)),
            holder=tuple(japanese_value("所蔵", v.strip()) for v in _tuple(holder)),
            record_id=tuple(v.strip() for v in _tuple(record_id)),
            gender=tuple(japanese_value("性別", v.strip()) for v in _tuple(gender)),
            status=tuple(japanese_value("身分", v.strip()) for v in _tuple(status)),
            orientation=tuple(japanese_value("向き", v.strip()) for v in _tuple(orientation)),
            tag=tuple(v.strip() for v in _tuple(tag)),
            text=text.strip() if text else None,
            period=period,
            agent=agent,
            release=release.strip() if release else None,
            include_deleted=include_deleted,
        )

    @property
    def empty(self) -> bool:
        """Whether the filter selects every face."""
        return self == FaceFilter(include_deleted=self.include_deleted)

    def describe(self) -> str:
        """The filter as options, for captions and curation labels."""
        parts: list[str] = []
        for name in ("work", "holder", "record_id", "gender", "status", "orientation", "tag"):
            for value in getattr(self, name):
                parts.append(f"{name}={value}")
        if self.text:
            parts.append(f"text={self.text}")
        if self.period:
            low, high = self.period
            parts.append(f"period={'' if low is None else low}-{'' if high is None else high}")
        if self.agent:
            parts.append(f"agent={self.agent}")
        if self.release:
            parts.append(f"release={self.release}")
        return ", ".join(parts) if parts else "all faces"


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
    seek; the list of known values is read only to word the error.
    """
    for name, key in _CLOSED_KEYS.items():
        english = VALUE_ENGLISH.get(key, {})
        work_column = Work.holder if name == "holder" else None
        for value in getattr(face_filter, name):
            if value in english or _exists(session, key, value, work_column):
                continue
            known = _present(session, [key])
            if work_column is not None:
                known |= {h for h in session.scalars(select(Work.holder).distinct()) if h}
            names = [f"{en} ({ja})" for ja, en in english.items()] + sorted(known - set(english))
            raise UsageError(f"Unknown {name} {value!r}. Valid values are: {', '.join(names)}")
    for value in face_filter.work:
        if not _exists(session, "原典", value, Work.label):
            known = _present(session, ["原典"]) | {
                w for w in session.scalars(select(Work.label).distinct()) if w
            }
            raise UsageError(f"No work titled {value!r}.{_suggest(value, known)}")
    for value in face_filter.tag:
        if not _exists(session, "タグ", value):
            known = _present(session, ["タグ"])
            raise UsageError(f"No face has the tag {value!r}.{_suggest(value, known)}")
    if face_filter.release:
        kind, versions = _release_parts(face_filter.release)
        query = select(Release.kind, Release.version).where(Release.version.in_(versions))
        if kind:
            query = query.where(Release.kind == kind)
        if session.execute(query).first() is None:
            have = [f"{k}:{v}" for k, v in session.execute(select(Release.kind, Release.version))]
            listed = ", ".join(sorted(have)) or "none"
            raise UsageError(f"No release {face_filter.release!r}. Releases: {listed}")


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
    conditions: list[ColumnElement[bool]] = []
    if not f.include_deleted:
        conditions.append(Face.deleted.is_(False))

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
    if f.period is not None:
        conditions.append(_period_condition(session, *f.period))
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
    if f.release:
        kind, versions = _release_parts(f.release)
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
