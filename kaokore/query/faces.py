"""Finding faces, counting them by any column, and reading a face's history.

Why in two steps (ids, then rows): the filters run in SQL on indexed columns and return
only face ids; the rows are then loaded for those ids in chunks, with every current label,
so a query for ten faces reads ten faces' annotations whatever the database size.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, overload

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, aliased

from kaokore.db.models import (
    Annotation,
    Blob,
    Canvas,
    CurrentLabel,
    Document,
    Face,
    ImageService,
    Release,
    ReleaseMember,
    Work,
)
from kaokore.errors import ArgumentError, UnknownValueError
from kaokore.periods import century_label, century_of, combine_periods
from kaokore.query.connect import DatabaseLike, using_database
from kaokore.query.filters import FaceFilter, face_ids_select, not_indexed, validate
from kaokore.query.names import DERIVED_COLUMNS, label_key
from kaokore.query.provenance import annotation_provenance
from kaokore.query.rows import FaceRow, HistoryRow, Label, StatsResult, StatsRow
from kaokore.vocab import KEY_ENGLISH, RECORD_ID_KEYS, VALUE_ENGLISH

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "count_faces",
    "face_ids",
    "faces",
    "history",
    "load_rows",
    "resolve_face",
    "select_faces",
    "stats",
]

#: Rows per ``IN (...)`` list: under SQLite's oldest limit on bound parameters (999).
CHUNK = 900


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


#: Above this many faces, labels are read in one pass over the label's rows and filtered
#: in Python, instead of one ``face_id IN (...)`` query per chunk of ids.
BULK_THRESHOLD = 20 * CHUNK


def _current_labels(
    session: Session, ids: Sequence[int], labels: Sequence[str] | None = None
) -> dict[int, list[Label]]:
    """Current labels of ``ids`` (optionally only ``labels``), in label/position order.

    Current means what :mod:`kaokore.db.truth` decided, stored in ``current_labels``.
    """
    out: dict[int, list[Label]] = {face_id: [] for face_id in ids}
    columns = (
        CurrentLabel.face_id,
        CurrentLabel.label,
        CurrentLabel.value,
        CurrentLabel.raw_value,
        CurrentLabel.agent,
        CurrentLabel.position,
        CurrentLabel.document_id,
    )
    order = (CurrentLabel.face_id, CurrentLabel.label, CurrentLabel.position)
    queries = []
    if len(ids) > BULK_THRESHOLD:
        query = select(*columns)
        if labels is not None:
            query = query.where(CurrentLabel.label.in_(labels))
        queries.append(query.order_by(*order))
    else:
        for chunk in _chunks(ids):
            query = select(*columns).where(CurrentLabel.face_id.in_(chunk))
            if labels is not None:
                query = query.where(not_indexed(CurrentLabel.label).in_(labels))
            queries.append(query.order_by(*order))
    for query in queries:
        for face_id, label, value, raw, agent, position, document_id in session.execute(query):
            bucket = out.get(face_id)
            if bucket is None:
                continue
            bucket.append(
                Label(
                    label=label,
                    value=value,
                    raw_value=raw,
                    agent=agent,
                    position=position,
                    document_id=document_id,
                )
            )
    return out


def _label_values(
    session: Session, ids: Sequence[int], labels: Sequence[str]
) -> dict[int, list[str]]:
    """The current values of ``labels`` per face (empty ones kept), in position order.

    The lean version of :func:`_current_labels` for statistics: plain tuples, no rows.
    """
    out: dict[int, list[str]] = {face_id: [] for face_id in ids}
    order = (CurrentLabel.face_id, CurrentLabel.label, CurrentLabel.position)
    if len(ids) > BULK_THRESHOLD:
        queries = [
            select(CurrentLabel.face_id, CurrentLabel.value)
            .where(CurrentLabel.label.in_(labels))
            .order_by(*order)
        ]
    else:
        queries = [
            select(CurrentLabel.face_id, CurrentLabel.value)
            .where(
                CurrentLabel.face_id.in_(chunk),
                not_indexed(CurrentLabel.label).in_(labels),
            )
            .order_by(*order)
            for chunk in _chunks(ids)
        ]
    for query in queries:
        for face_id, value in session.execute(query):
            bucket = out.get(face_id)
            if bucket is not None:
                bucket.append(value)
    return out


def _first(labels: Sequence[Label], keys: Sequence[str]) -> str | None:
    for label in labels:
        if label.label in keys and label.value != "":
            return label.value
    return None


def _distinct(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v != ""))


def load_rows(session: Session, ids: Sequence[int]) -> list[FaceRow]:
    """Full rows of the faces ``ids``, in the order given."""
    labels = _current_labels(session, ids)
    rows: dict[int, FaceRow] = {}
    for chunk in _chunks(ids):
        query = (
            select(Face, Work, Canvas, ImageService, Blob.path)
            .outerjoin(Work, Work.id == Face.work_id)
            .outerjoin(Canvas, Canvas.id == Face.canvas_id)
            .outerjoin(ImageService, ImageService.id == Face.image_service_id)
            .outerjoin(Blob, Blob.sha256 == Face.blob_sha256)
            .where(Face.id.in_(chunk))
        )
        for face, work, canvas, service, blob_path in session.execute(query):
            own = labels.get(face.id, [])
            region = None
            if (
                face.region_x is not None
                and face.region_y is not None
                and face.region_w is not None
                and face.region_h is not None
            ):
                region = (face.region_x, face.region_y, face.region_w, face.region_h)
            rows[face.id] = FaceRow(
                face_id=face.id,
                key=face.key,
                work=_first(own, ["原典"]) or (work.label if work else None),
                holder=_first(own, ["所蔵"]) or (work.holder if work else None),
                record_id=_first(own, RECORD_ID_KEYS) or (work.record_id if work else None),
                gender=_first(own, ["性別"]),
                status=_first(own, ["身分"]),
                orientation=_first(own, ["向き"]),
                tags=_distinct(label.value for label in own if label.label == "タグ"),
                period=combine_periods(
                    _distinct_all(label.value for label in own if label.label == "制作年")
                ),
                work_key=work.key if work else None,
                manifest_url=work.manifest_url if work else None,
                canvas_uri=canvas.uri if canvas else None,
                canvas_width=canvas.width if canvas else None,
                canvas_height=canvas.height if canvas else None,
                image_service=service.base_url if service else None,
                image_width=service.width if service else None,
                image_height=service.height if service else None,
                member_uri=face.member_uri,
                region=region,
                square=(face.square_x, face.square_y, face.square_w, face.square_h),
                blob_sha256=face.blob_sha256,
                blob_path=blob_path,
                file_number=face.file_number,
                labels=tuple(own),
            )
    return [rows[face_id] for face_id in ids if face_id in rows]


def _distinct_all(values: Iterable[str]) -> tuple[str, ...]:
    """Distinct values in order, keeping empty ones (an empty 制作年 is a stated unknown)."""
    return tuple(dict.fromkeys(values))


def select_faces(
    session: Session, face_filter: FaceFilter, *, limit: int | None = None
) -> list[int]:
    """Ids of the faces matching ``face_filter`` (validated), in id order."""
    if limit is not None and limit < 0:
        raise ArgumentError("limit", limit, "use a positive number, or 0 for no limit")
    validate(session, face_filter)
    return list(session.scalars(face_ids_select(session, face_filter, limit=limit or None)))


@overload
def faces(
    database: DatabaseLike,
    *,
    where: FaceFilter | None = None,
    limit: int | None = None,
    as_dataframe: Literal[False] = False,
) -> list[FaceRow]: ...


@overload
def faces(
    database: DatabaseLike,
    *,
    where: FaceFilter | None = None,
    limit: int | None = None,
    as_dataframe: Literal[True],
) -> pd.DataFrame: ...


def faces(
    database: DatabaseLike,
    *,
    where: FaceFilter | None = None,
    limit: int | None = None,
    as_dataframe: bool = False,
) -> list[FaceRow] | pd.DataFrame:
    """The faces matching ``where`` (all faces if None), as rows or a pandas DataFrame.

    Rows come in face id order; ``limit=None`` returns all. The filters are the fields of
    :class:`~kaokore.query.FaceFilter` (combined with AND; several values of one filter with
    OR, tags with AND), which accepts Japanese values or English names.

    Example::

        >>> from kaokore.query import FaceFilter, faces
        >>> rows = faces("kaokore-data/kaokore.db",
        ...              where=FaceFilter(status="warrior", period="1600-1650"))
        >>> rows[0].work, rows[0].status_en
    """
    face_filter = where or FaceFilter()
    with using_database(database) as db, db.session() as session:
        rows = load_rows(session, select_faces(session, face_filter, limit=limit))
    if as_dataframe:
        import pandas as pd

        return pd.DataFrame([row.as_dict() for row in rows])
    return rows


def face_ids(
    database: DatabaseLike, *, where: FaceFilter | None = None, limit: int | None = None
) -> list[int]:
    """The ids of the faces matching ``where``, without loading rows."""
    with using_database(database) as db, db.session() as session:
        return select_faces(session, where or FaceFilter(), limit=limit)


def count_faces(database: DatabaseLike, *, where: FaceFilter | None = None) -> int:
    """How many faces match ``where`` (all faces if None)."""
    face_filter = where or FaceFilter()
    with using_database(database) as db, db.session() as session:
        validate(session, face_filter)
        subquery = face_ids_select(session, face_filter).order_by(None).subquery()
        return int(session.scalar(select(func.count()).select_from(subquery)) or 0)


# --- stats --------------------------------------------------------------------------------


def _per_face(session: Session, ids: Sequence[int], query: Any) -> dict[int, list[Any]]:
    """Run ``query`` (selecting face id and one value) for ``ids``; values per face."""
    out: dict[int, list[Any]] = {face_id: [] for face_id in ids}
    if len(ids) > BULK_THRESHOLD:
        queries = [query]
    else:
        column = query.selected_columns[0]
        queries = [query.where(column.in_(chunk)) for chunk in _chunks(ids)]
    for one in queries:
        for face_id, value in session.execute(one):
            bucket = out.get(face_id)
            if bucket is not None:
                bucket.append(value)
    return out


@lru_cache(maxsize=4096)
def _period_cells(values: tuple[str, ...]) -> tuple[str | None, str | None]:
    """(period label, century) of one face's 制作年 values; cached, as faces share them."""
    period = combine_periods(_distinct_all(values))
    century = century_of(period.year_from, period.year_to)
    return period.label, None if century is None else century_label(century)


def _column_values(
    session: Session, ids: Sequence[int], column: str
) -> dict[int, tuple[str | None, ...]]:
    """Each face's values of one stats column (a key, or a derived column)."""
    empty: tuple[str | None, ...] = (None,)
    if column in ("period", "century"):
        values = _label_values(session, ids, ["制作年"])
        index = 0 if column == "period" else 1
        return {face_id: (_period_cells(tuple(values[face_id]))[index],) for face_id in ids}
    if column in ("work", "holder", "record_id"):
        keys = {"work": ["原典"], "holder": ["所蔵"], "record_id": list(RECORD_ID_KEYS)}[column]
        values = _label_values(session, ids, keys)
        attribute = {"work": Work.label, "holder": Work.holder, "record_id": Work.record_id}[column]
        fallback = _per_face(
            session, ids, select(Face.id, attribute).join(Work, Work.id == Face.work_id)
        )
        return {
            face_id: _distinct(values[face_id]) or (tuple(fallback[face_id][:1]) or empty)
            for face_id in ids
        }
    if column == "agent":
        agents = _per_face(
            session, ids, select(CurrentLabel.face_id, CurrentLabel.agent).distinct()
        )
        return {face_id: tuple(sorted(set(agents[face_id]))) or empty for face_id in ids}
    if column == "release":
        releases = _per_face(
            session,
            ids,
            select(ReleaseMember.face_id, Release.kind + ":" + Release.version).join(
                Release, Release.id == ReleaseMember.release_id
            ),
        )
        return {face_id: tuple(sorted(set(releases[face_id]))) or empty for face_id in ids}
    values = _label_values(session, ids, [column])
    return {face_id: _distinct(values[face_id]) or empty for face_id in ids}


def _stats_python(
    session: Session, face_filter: FaceFilter, columns: Sequence[str]
) -> tuple[Counter[tuple[str | None, ...]], int]:
    """Cross-tabulate in Python: for columns SQL cannot compute (period, century)."""
    ids = select_faces(session, face_filter)
    per_column = [_column_values(session, ids, column) for column in columns]
    counts: Counter[tuple[str | None, ...]] = Counter()
    for face_id in ids:
        for combination in itertools.product(*(values[face_id] for values in per_column)):
            counts[combination] += 1
    return counts, len(ids)


def _stats_sql(
    session: Session, face_filter: FaceFilter, columns: Sequence[str]
) -> tuple[Counter[tuple[str | None, ...]], int]:
    """Cross-tabulate in SQL: the distinct (face, value, value ...) combinations of the
    matching faces, counted per combination, so a face with two tags counts under each
    (as in Python). Each column is a LEFT JOIN on ``current_labels`` by ``(face_id,
    label)``, which its key serves: one value per label and source, by the one rule."""
    validate(session, face_filter)
    ids = face_ids_select(session, face_filter).order_by(None).subquery("matching")
    total = int(session.scalar(select(func.count()).select_from(ids)) or 0)
    query: Any = select(ids.c.id)
    expressions: list[Any] = []
    fallbacks = {"work": Work.label, "holder": Work.holder, "record_id": Work.record_id}
    joined_works = False
    for index, column in enumerate(columns):
        expression: Any
        if column == "release":
            member = aliased(ReleaseMember, name=f"m{index}")
            release = aliased(Release, name=f"r{index}")
            query = query.outerjoin(member, member.face_id == ids.c.id).outerjoin(
                release, release.id == member.release_id
            )
            expression = case(
                (release.id.is_not(None), release.kind + ":" + release.version), else_=None
            )
        else:
            row = aliased(CurrentLabel, name=f"a{index}")
            condition = row.face_id == ids.c.id
            if column == "agent":
                expression = row.agent
            else:
                keys = {"work": ["原典"], "holder": ["所蔵"], "record_id": list(RECORD_ID_KEYS)}
                labels = keys.get(column, [column])
                condition = and_(condition, not_indexed(row.label).in_(labels), row.value != "")
                expression = row.value
            query = query.outerjoin(row, condition)
        if column in fallbacks:
            if not joined_works:
                query = query.outerjoin(Face, Face.id == ids.c.id).outerjoin(
                    Work, Work.id == Face.work_id
                )
                joined_works = True
            expression = func.coalesce(expression, fallbacks[column])
        expressions.append(expression.label(f"v{index}"))
    combinations = query.add_columns(*expressions).distinct().subquery("combinations")
    values = [combinations.c[f"v{index}"] for index in range(len(columns))]
    grouped = select(*values, func.count()).group_by(*values)
    counts: Counter[tuple[str | None, ...]] = Counter()
    for cells in session.execute(grouped):
        counts[tuple(cells[:-1])] += int(cells[-1])
    return counts, total


def stats(
    database: DatabaseLike,
    *,
    by: str | Sequence[str],
    where: FaceFilter | None = None,
) -> StatsResult:
    """Count the matching faces by one or more columns, with each cell's share of the total.

    ``by`` names columns in English or Japanese: ``gender``, ``status``, ``orientation``,
    ``tag``, ``theme`` (or 性別, 身分 ...), and the derived ``work``, ``holder``,
    ``record_id``, ``period``, ``century``, ``agent``, ``release``; a comma-separated string
    is split. ``where`` selects the faces, as in :func:`faces`. Rows are sorted by count,
    largest first.
    """
    names = [part for part in (by.split(",") if isinstance(by, str) else list(by)) if part.strip()]
    if not names:
        raise ArgumentError("by", by, "needs at least one column, e.g. work,status")
    columns = [label_key(name) for name in names]
    face_filter = where or FaceFilter()
    with using_database(database) as db, db.session() as session:
        if any(column in ("period", "century") for column in columns):
            counts, total = _stats_python(session, face_filter, columns)
        else:
            counts, total = _stats_sql(session, face_filter, columns)
    rows = tuple(
        StatsRow(values=values, count=count, share=count / total if total else 0.0)
        for values, count in sorted(counts.items(), key=lambda item: (-item[1], _sort_key(item[0])))
    )
    display = tuple(
        KEY_ENGLISH.get(column, column) if column not in DERIVED_COLUMNS else column
        for column in columns
    )
    english = {
        name: column
        for name, column in zip(display, columns, strict=True)
        if column in VALUE_ENGLISH
    }
    if "holder" in display:
        english["holder"] = "所蔵"
    return StatsResult(columns=display, rows=rows, total=total, english=english)


def _sort_key(values: tuple[str | None, ...]) -> tuple[tuple[int, str], ...]:
    return tuple((1, "") if value is None else (0, value) for value in values)


# --- history ------------------------------------------------------------------------------


def resolve_face(session: Session, face: int | str) -> int:
    """A face id from an id, a face key, a curation member id or a release file name."""
    if isinstance(face, int) or (isinstance(face, str) and face.strip().isdigit()):
        face_id = int(face)
        if session.get(Face, face_id) is None:
            raise UnknownValueError("face", face_id, "no face has this id")
        return face_id
    text = face.strip()
    for column in (Face.key, Face.member_uri):
        found = session.scalars(select(Face.id).where(column == text)).first()
        if found is not None:
            return found
    members = sorted(
        {
            member
            for member in session.scalars(
                select(ReleaseMember.face_id).where(ReleaseMember.file_name == text)
            )
            if member is not None
        }
    )
    if len(members) == 1:
        return members[0]
    if len(members) > 1:
        raise ArgumentError(
            "face",
            text,
            f"names {len(members)} different faces in different releases; "
            "give the face id or key instead",
        )
    raise UnknownValueError(
        "face", text, "no such face (give a face id, a face key, a member id or a file name)"
    )


def history(database: DatabaseLike, face: int | str) -> list[HistoryRow]:
    """Every annotation ``face`` ever had, with its state under the rule, oldest first.

    ``face`` is a face id, a face key, a curation member id (``canvas#xywh=...``) or a
    release file name (``00000572.jpg``) that names one face. See :class:`HistoryRow` for
    the states; a value that a newer official version changed shows ``retracted``, ended by
    that version's document.
    """
    with using_database(database) as db, db.session() as session:
        face_id = resolve_face(session, face)
        document = aliased(Document)
        query = (
            select(Annotation, document.url, document.kind, document.superseded_by_id)
            .outerjoin(document, document.id == Annotation.document_id)
            .where(Annotation.face_id == face_id)
            .order_by(Annotation.asserted_at, Annotation.label, Annotation.position, Annotation.id)
        )
        found = list(session.execute(query))
        current = set(
            session.scalars(
                select(CurrentLabel.annotation_id).where(CurrentLabel.face_id == face_id)
            )
        )
        by_document: dict[int | None, list[Annotation]] = {}
        for row, _url, _kind, _superseder in found:
            if row.retracted_at is None:
                by_document.setdefault(row.document_id, []).append(row)
        urls = {
            doc_id: url
            for doc_id, url in session.execute(
                select(Document.id, Document.url).where(
                    Document.id.in_({s for *_rest, s in found if s is not None})
                )
            )
        }
        provenance = annotation_provenance(session, [row.id for row, *_rest in found])
        out = []
        for row, url, kind, superseder in found:
            state, ended_at, ended_by = "outranked", None, None
            if row.id in current:
                state = "current"
            elif row.retracted_at is not None:
                state, ended_at, ended_by = "retracted", row.retracted_at, url
            elif superseder is not None:
                newer = by_document.get(superseder, [])
                same = [r for r in newer if (r.label, r.value) == (row.label, row.value)]
                state = "restated" if same else "retracted"
                ended_at = min((r.asserted_at for r in same or newer), default=None)
                ended_by = urls.get(superseder)
            out.append(
                HistoryRow(
                    annotation_id=row.id,
                    label=row.label,
                    label_en=KEY_ENGLISH.get(row.label),
                    value=row.value,
                    raw_value=row.raw_value,
                    agent=row.agent,
                    position=row.position,
                    document_url=url,
                    document_kind=kind,
                    asserted_at=row.asserted_at,
                    retracted_at=row.retracted_at,
                    state=state,
                    ended_at=ended_at,
                    ended_by=ended_by,
                    provenance=provenance.get(row.id),
                )
            )
        return out
