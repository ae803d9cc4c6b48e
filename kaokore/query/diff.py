"""What changed between two official versions, two releases or two dates.

Why one function for three kinds of side: each side is reduced to a *snapshot*, the labels
of every face it holds (``face id -> label -> values``) with who said them and when, and two
snapshots are compared the same way. The sides are read as follows:

* an imported official version (``1.3``, ``official:1.3``): the faces of its release and
  what that version's own ``original_tags.txt`` asserts (still stored after a newer version
  superseded it);
* a built release (``built:1.0``): its members and the classes it wrote (性別 and 身分);
* a date (``2024-05-01`` or an ISO time, UTC): the one rule of :mod:`kaokore.db.truth`
  applied to the assertions as they stood then (asserted by then, not yet retracted, and
  only the dataset versions imported by then), so the current labels of any past day can be
  compared with those of any other.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kaokore.db.current import claims_of, version_order
from kaokore.db.models import Annotation, Document, Face, Release, ReleaseMember
from kaokore.db.truth import Claim, current_labels
from kaokore.errors import UsageError
from kaokore.query.connect import DatabaseLike, using_database
from kaokore.vocab import GENDER_CLASSES, STATUS_CLASSES

__all__ = ["DiffResult", "LabelChange", "Side", "diff"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Side:
    """One side of a diff as resolved: its kind (``official``, ``built``, ``date``) and name."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True, kw_only=True, slots=True)
class LabelChange:
    """A face added or removed, or one label of a face that changed.

    ``old``/``new`` are the label's values joined with `` | `` (None: the side lacks the
    label or the face); ``who`` and ``when`` say which document (or release) asserted the
    new value and when (for a removal, the old one's).
    """

    change: str
    face_id: int
    face_key: str
    label: str | None
    old: str | None
    new: str | None
    who: str | None
    when: dt.datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "change": self.change,
            "face_id": self.face_id,
            "face_key": self.face_key,
            "label": self.label,
            "old": self.old,
            "new": self.new,
            "who": self.who,
            "when": self.when.isoformat() if self.when else None,
        }


@dataclass(frozen=True, kw_only=True)
class DiffResult:
    """The changes from side ``a`` to side ``b``, and their counts."""

    a: Side
    b: Side
    faces_a: int
    faces_b: int
    changes: tuple[LabelChange, ...]
    labels: tuple[str, ...] = field(default=())

    def summary(self) -> dict[str, Any]:
        """Counts: faces on each side, added, removed, relabelled, and relabels per label."""
        kinds = Counter(change.change for change in self.changes)
        relabelled = {c.face_id for c in self.changes if c.change == "relabelled"}
        per_label = Counter(c.label for c in self.changes if c.change == "relabelled")
        return {
            "a": str(self.a),
            "b": str(self.b),
            "faces_a": self.faces_a,
            "faces_b": self.faces_b,
            "added": kinds.get("added", 0),
            "removed": kinds.get("removed", 0),
            "relabelled_faces": len(relabelled),
            "relabelled_labels": dict(sorted((k or "", v) for k, v in per_label.items())),
        }

    def as_dicts(self) -> list[dict[str, Any]]:
        return [change.as_dict() for change in self.changes]


#: One face's labels on one side: label -> (values, who, when).
_Labels = dict[str, tuple[tuple[str, ...], str | None, dt.datetime | None]]


@dataclass
class _Snapshot:
    faces: dict[int, _Labels]


def diff(
    database: DatabaseLike, a: str, b: str, *, labels: Sequence[str] | None = None
) -> DiffResult:
    """Faces added, removed and relabelled from ``a`` to ``b`` (see the module docstring).

    ``labels`` limits the relabelled rows to those labels (Japanese keys, e.g. ``向き``).

    Example::

        >>> from kaokore.query import diff
        >>> result = diff("kaokore-data/kaokore.db", "1.2", "1.3", labels=["向き"])
        >>> result.summary()["relabelled_faces"]
        3
    """
    with using_database(database) as db, db.session() as session:
        side_a, snap_a = _snapshot(session, a)
        side_b, snap_b = _snapshot(session, b)
        keys = _face_keys(session, set(snap_a.faces) | set(snap_b.faces))
    wanted = set(labels) if labels else None
    changes: list[LabelChange] = []
    for face_id in sorted(set(snap_a.faces) | set(snap_b.faces)):
        old, new = snap_a.faces.get(face_id), snap_b.faces.get(face_id)
        key = keys.get(face_id, "")
        if old is None or new is None:
            kind = "added" if old is None else "removed"
            present = new if new is not None else old
            assert present is not None
            who, when = _provenance(present)
            changes.append(
                LabelChange(
                    change=kind,
                    face_id=face_id,
                    face_key=key,
                    label=None,
                    old=None,
                    new=None,
                    who=who,
                    when=when,
                )
            )
            continue
        for label in sorted(set(old) | set(new)):
            if wanted is not None and label not in wanted:
                continue
            before, after = old.get(label), new.get(label)
            if before is not None and after is not None and before[0] == after[0]:
                continue
            source = after if after is not None else before
            assert source is not None
            changes.append(
                LabelChange(
                    change="relabelled",
                    face_id=face_id,
                    face_key=key,
                    label=label,
                    old=" | ".join(before[0]) if before is not None else None,
                    new=" | ".join(after[0]) if after is not None else None,
                    who=source[1],
                    when=source[2],
                )
            )
    return DiffResult(
        a=side_a,
        b=side_b,
        faces_a=len(snap_a.faces),
        faces_b=len(snap_b.faces),
        changes=tuple(changes),
        labels=tuple(sorted(wanted)) if wanted else (),
    )


def _provenance(labels: _Labels) -> tuple[str | None, dt.datetime | None]:
    for _values, who, when in labels.values():
        if who is not None:
            return who, when
    return None, None


def _face_keys(session: Session, ids: Iterable[int]) -> dict[int, str]:
    keys: dict[int, str] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 900):
        chunk = ordered[start : start + 900]
        query = select(Face.id, Face.key).where(Face.id.in_(chunk))
        keys.update({face_id: key for face_id, key in session.execute(query)})
    return keys


# --- sides -----------------------------------------------------------------------------


def _parse_date(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if len(text) == 10:  # a bare date: the end of that day
        moment += dt.timedelta(days=1) - dt.timedelta(microseconds=1)
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _snapshot(session: Session, text: str) -> tuple[Side, _Snapshot]:
    spec = text.strip()
    kind, _sep, name = spec.partition(":") if ":" in spec[:9] else ("", "", spec)
    kind = kind.lower()
    if kind in ("", "date") and (moment := _parse_date(name)) is not None:
        return Side(kind="date", name=moment.isoformat()), _at_date(session, moment)
    if kind not in ("", "official", "built"):
        raise UsageError(
            f"diff side {text!r}: give an official version (1.3, official:1.3), a built "
            "release (built:1.0) or a date (2024-05-01)"
        )
    bare = name[1:] if name[:1] in ("v", "V") else name
    kinds = (kind,) if kind else ("official", "built")
    for candidate in kinds:
        release = session.scalars(
            select(Release).where(
                Release.kind == candidate, Release.version.in_({name, bare, f"v{bare}"})
            )
        ).first()
        if release is None:
            continue
        side = Side(kind=candidate, name=release.version)
        if candidate == "official":
            return side, _official(session, release)
        return side, _built(session, release)
    have = sorted(f"{k}:{v}" for k, v in session.execute(select(Release.kind, Release.version)))
    raise UsageError(
        f"diff side {text!r}: no such release and not a date (YYYY-MM-DD). "
        f"Releases: {', '.join(have) or 'none'}"
    )


def _members(session: Session, release: Release) -> list[tuple[int, int | None, int | None]]:
    query = select(ReleaseMember.face_id, ReleaseMember.gender, ReleaseMember.status).where(
        ReleaseMember.release_id == release.id, ReleaseMember.face_id.is_not(None)
    )
    return [(int(f), g, s) for f, g, s in session.execute(query) if f is not None]


def _official(session: Session, release: Release) -> _Snapshot:
    """An official version: its faces, and its own document's assertions on them."""
    faces: dict[int, _Labels] = {face_id: {} for face_id, _g, _s in _members(session, release)}
    document = session.scalars(
        select(Document).where(
            Document.dataset_version == release.version, Document.dataset.is_not(None)
        )
    ).first()
    if document is None:
        url = (release.options_json or {}).get("document_url")
        document = session.scalars(select(Document).where(Document.url == url)).first()
    if document is None:
        return _Snapshot(faces=faces)
    query = (
        select(Annotation.face_id, Annotation.label, Annotation.value, Annotation.asserted_at)
        .where(Annotation.document_id == document.id, Annotation.retracted_at.is_(None))
        .order_by(Annotation.face_id, Annotation.label, Annotation.position, Annotation.id)
    )
    values: dict[tuple[int, str], list[str]] = {}
    when: dict[tuple[int, str], dt.datetime] = {}
    for face_id, label, value, at in session.execute(query):
        if face_id not in faces:
            continue
        bucket = values.setdefault((face_id, label), [])
        if value not in bucket:
            bucket.append(value)
        when[(face_id, label)] = at
    for (face_id, label), found in values.items():
        faces[face_id][label] = (tuple(found), document.url, when[(face_id, label)])
    return _Snapshot(faces=faces)


def _built(session: Session, release: Release) -> _Snapshot:
    """A built release: its members and the classes of ``labels.csv``."""
    faces: dict[int, _Labels] = {}
    who = f"release built:{release.version}"
    for face_id, gender, status in _members(session, release):
        labels: _Labels = {}
        if gender is not None:
            labels["性別"] = ((GENDER_CLASSES[gender][0],), who, release.built_at)
        if status is not None:
            labels["身分"] = ((STATUS_CLASSES[status][0],), who, release.built_at)
        faces[face_id] = labels
    return _Snapshot(faces=faces)


def _at_date(session: Session, moment: dt.datetime) -> _Snapshot:
    """The rule applied to the assertions as they stood at ``moment``."""
    connection = session.connection()
    alive = select(Face.id).where(
        Face.first_seen <= moment, (Face.deleted_at.is_(None)) | (Face.deleted_at > moment)
    )
    face_ids = list(session.scalars(alive))
    superseded = _superseded_at(session, moment)
    urls = {doc_id: url for doc_id, url in session.execute(select(Document.id, Document.url))}
    faces: dict[int, _Labels] = {}
    for face_id, claims in claims_of(connection, face_ids).items():
        then = [_as_of(c, moment, superseded) for c in claims if c.asserted_at <= moment]
        labels: _Labels = {}
        for current in current_labels(then):
            values, _who, _when = labels.get(current.label, ((), None, None))
            claim = current.claim
            labels[current.label] = (
                (*values, current.value),
                urls.get(claim.document_id) if claim.document_id is not None else None,
                claim.asserted_at,
            )
        faces[face_id] = labels
    return _Snapshot(faces=faces)


def _as_of(claim: Claim, moment: dt.datetime, superseded: set[int]) -> Claim:
    """The claim as it stood at ``moment``: retracted only if retracted by then."""
    retracted_at = claim.retracted_at
    return dataclasses.replace(
        claim,
        retracted=retracted_at is not None and retracted_at <= moment,
        superseded=claim.document_id in superseded,
    )


def _superseded_at(session: Session, moment: dt.datetime) -> set[int]:
    """Documents that a newer version of their dataset, imported by ``moment``, superseded."""
    first = (
        select(Annotation.document_id, func.min(Annotation.asserted_at))
        .group_by(Annotation.document_id)
        .subquery()
    )
    rows = session.execute(
        select(Document.id, Document.dataset, Document.dataset_version, first.c[1])
        .join(first, first.c.document_id == Document.id)
        .where(Document.dataset.is_not(None))
    ).all()
    by_dataset: dict[str, list[tuple[int, str]]] = {}
    for doc_id, dataset, version, since in rows:
        since = since if since.tzinfo else since.replace(tzinfo=dt.UTC)
        if since <= moment:
            by_dataset.setdefault(dataset, []).append((doc_id, version or ""))
    out: set[int] = set()
    for docs in by_dataset.values():
        newest = max(docs, key=lambda item: (version_order(item[1]), item[0]))[0]
        out.update(doc_id for doc_id, _v in docs if doc_id != newest)
    return out
