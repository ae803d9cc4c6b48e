"""The one rule for what a face's labels are now: which of its annotations are current.

Every source's assertions are kept (``annotations`` is the history, never overwritten); this
module decides, for one face, which of them a reader sees. It is the only place that does:
:mod:`kaokore.db.current` applies it and stores the result in ``current_labels``, and every
reader (``kaokore query``, the SQL views, ``kaokore build``, the RDF and curation exports,
``kaokore similar``, the datasheet) reads that table.

The rule, in order (``docs/labels.md`` states it for users):

1. **Withdrawn assertions do not count.** An annotation with ``retracted_at`` set was withdrawn
   by its own document: a curation that changed (its new text no longer asserts it), a
   curation or face deleted upstream, a face a curation no longer lists.
2. **A later version of a dataset supersedes the earlier ones.** Documents that are versions
   of one dataset (the official ``original_tags.txt`` of 1.0 ... 1.3) form one source; only the
   newest imported version counts (``Document.superseded_by_id`` is set on the others). Its
   changed values thereby replace the old ones, a label it no longer states is gone, and a
   face it no longer lists has no labels from the dataset. The old rows stay as history.
3. **Per label, one source's word wins.** A source is a document (or the newest version of a
   dataset) together with the agent of the row. Among the sources that state a label, the
   winner is the one with the best assertion by (human before machine, newest
   ``asserted_at``, newest row): experts outrank models, and the experts' latest word
   outranks their earlier one. The label's values are the winner's values only, so two
   sources that disagree never both count. One exception, for free tags (タグ, see
   :data:`ADDITIVE_LABELS`): a machine's tags do not contradict the experts' and are added
   after them (the best machine source's), marked with their agent.
4. **A value asserted twice counts once.** The winner's values are taken in its position
   order, each distinct (normalised) value once, and renumbered 0, 1, ...

``asserted_at`` is when kaokore first recorded the assertion (an unchanged assertion keeps
it across re-harvests), so "newest" means the latest statement, not the latest fetch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["ADDITIVE_LABELS", "Claim", "Current", "current_labels", "rank"]

#: Labels to which a machine's values are added beside the experts' (rule 3's exception).
ADDITIVE_LABELS = frozenset({"タグ"})


@dataclass(frozen=True, kw_only=True, slots=True)
class Claim:
    """One stored annotation of a face, with what the rule needs to know about it."""

    annotation_id: int
    label: str
    value: str
    raw_value: str
    agent: str
    position: int
    document_id: int | None
    asserted_at: dt.datetime
    retracted: bool = False
    #: When its document withdrew it (kept so that a past day's labels can be recomputed).
    retracted_at: dt.datetime | None = None
    #: Whether the annotation's document is an older version of a dataset (rule 2).
    superseded: bool = False

    @property
    def live(self) -> bool:
        """Rules 1 and 2: neither withdrawn by its document nor superseded by a new version."""
        return not self.retracted and not self.superseded

    @property
    def source(self) -> tuple[int, str]:
        """Rule 3's source: the document (the dataset's newest version) and the agent.

        An annotation without a document (a reviewer's decision, a model's suggestion) is a
        source of its own, so two reviewers' decisions never both count.
        """
        if self.document_id is None:
            return (-self.annotation_id, self.agent)
        return (self.document_id, self.agent)


@dataclass(frozen=True, kw_only=True, slots=True)
class Current:
    """One current label of a face: its value at ``position`` and the claim that won."""

    label: str
    position: int
    claim: Claim

    @property
    def value(self) -> str:
        return self.claim.value


def rank(claim: Claim) -> tuple[bool, dt.datetime, int]:
    """Rule 3's order: human before machine, then the newest assertion, then the newest row."""
    return (claim.agent != "machine", claim.asserted_at, claim.annotation_id)


def current_labels(claims: Iterable[Claim]) -> list[Current]:
    """The current labels of one face from all its claims, by label then position."""
    by_label: dict[str, list[Claim]] = {}
    for claim in claims:
        if claim.live:
            by_label.setdefault(claim.label, []).append(claim)
    out: list[Current] = []
    for label in sorted(by_label):
        candidates = by_label[label]
        first = candidates[0].source
        if all(c.source == first for c in candidates):
            # The usual case (one document states the label): its word is the label's.
            chosen = sorted(candidates, key=_in_order) if len(candidates) > 1 else candidates
        else:
            chosen = _contested(label, candidates)
        seen: set[str] = set()
        for claim in chosen:
            if claim.value in seen:
                continue
            seen.add(claim.value)
            out.append(Current(label=label, position=len(seen) - 1, claim=claim))
    return out


def _in_order(claim: Claim) -> tuple[int, int]:
    return (claim.position, claim.annotation_id)


def _contested(label: str, candidates: list[Claim]) -> list[Claim]:
    """Rule 3 among several sources: the best one's values, plus a machine's free tags."""
    winner = max(candidates, key=rank).source
    chosen = sorted((c for c in candidates if c.source == winner), key=_in_order)
    machine = [c for c in candidates if c.agent == "machine"]
    if label in ADDITIVE_LABELS and machine and winner[1] != "machine":
        best = max(machine, key=rank).source
        chosen += sorted((c for c in machine if c.source == best), key=_in_order)
    return chosen
