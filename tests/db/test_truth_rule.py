"""The one rule for current labels (kaokore.db.truth), one test per case, on plain claims."""

from __future__ import annotations

import datetime as dt

from kaokore.db.truth import Claim, current_labels

T2020 = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
T2024 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
_ids = iter(range(1, 10_000))


def claim(
    label: str,
    value: str,
    *,
    doc: int = 1,
    at: dt.datetime = T2020,
    agent: str = "human",
    position: int = 0,
    retracted: bool = False,
    superseded: bool = False,
) -> Claim:
    return Claim(
        annotation_id=next(_ids),
        label=label,
        value=value,
        raw_value=value,
        agent=agent,
        position=position,
        document_id=doc,
        asserted_at=at,
        retracted=retracted,
        superseded=superseded,
    )


def values(claims: list[Claim], label: str) -> list[str]:
    return [c.value for c in current_labels(claims) if c.label == label]


def test_a_later_version_supersedes_the_earlier_one() -> None:
    claims = [
        claim("向き", "後", doc=1, superseded=True),
        claim("原典ID", "200012645", doc=1, superseded=True),
        claim("向き", "横", doc=2, at=T2020),  # same import time as the old one: still wins
    ]
    assert values(claims, "向き") == ["横"]
    assert values(claims, "原典ID") == []  # a label the new version dropped is gone


def test_a_changed_document_replaces_its_own_assertions() -> None:
    claims = [claim("身分", "庶民", retracted=True), claim("身分", "貴族", at=T2024)]
    assert values(claims, "身分") == ["貴族"]


def test_independent_sources_newest_assertion_wins_whatever_the_order() -> None:
    older, newer = claim("身分", "武士", doc=1, at=T2020), claim("身分", "貴族", doc=2, at=T2024)
    assert values([older, newer], "身分") == ["貴族"]
    assert values([newer, older], "身分") == ["貴族"]
    # The winner's values only: tags of two disagreeing sources are not merged.
    tags = [claim("タグ", "鬼", doc=1, at=T2020), claim("タグ", "少年", doc=2, at=T2024)]
    assert values(tags, "タグ") == ["少年"]


def test_human_over_machine() -> None:
    human = claim("身分", "貴族", doc=1, at=T2020)
    machine = claim("身分", "武士", doc=2, at=T2024, agent="machine")
    assert values([human, machine], "身分") == ["貴族"]
    (only,) = [c for c in current_labels([machine]) if c.label == "身分"]
    assert only.value == "武士" and only.claim.agent == "machine"
    # Free tags: a machine's tags are added after the experts', not instead of them.
    tags = [
        claim("タグ", "鬼", doc=1),
        claim("タグ", "bot", doc=2, agent="machine", at=T2024),
        claim("タグ", "鬼", doc=2, agent="machine", at=T2024, position=1),
    ]
    assert values(tags, "タグ") == ["鬼", "bot"]


def test_deletions_upstream_leave_no_current_label() -> None:
    claims = [claim("性別", "男", retracted=True), claim("身分", "貴族", retracted=True)]
    assert current_labels(claims) == []


def test_a_label_asserted_twice_by_one_source_counts_once() -> None:
    claims = [
        claim("制作年", "from 1600", position=0),
        claim("制作年", "to 1700", position=1),
        claim("制作年", "from 1600", position=2),
    ]
    current = [c for c in current_labels(claims) if c.label == "制作年"]
    assert [(c.value, c.position) for c in current] == [("from 1600", 0), ("to 1700", 1)]
    # The same value from two sources is one label: the winner's row.
    both = [claim("性別", "男", doc=1, at=T2020), claim("性別", "男", doc=2, at=T2024)]
    (one,) = current_labels(both)
    assert one.claim.document_id == 2
