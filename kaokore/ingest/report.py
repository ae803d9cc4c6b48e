"""What an ingest did, per stage, for the closing summary and the exit code.

Failures and defects are told apart because a scheduled job must be able to trust the exit
code: a *failure* is something a later run can get (a network error after every retry, a
document that is not readable at all) and makes the exit code 1; a *defect* is upstream
data that was handled (a member left out, a label skipped, a region cut at the page edge),
counted by kind in the summary and recorded in the database, and the exit code stays 0.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Final, Literal

__all__ = ["OUTCOMES", "STAGES", "Failure", "HarvestReport", "Outcome", "Stage"]

#: Defects kept as examples for the summary (the full list is in the database).
MAX_DEFECT_EXAMPLES: Final = 5

Stage = Literal["documents", "faces", "crops"]
Outcome = Literal["new", "updated", "deleted", "unchanged", "failed"]
STAGES: Final[tuple[Stage, ...]] = ("documents", "faces", "crops")
OUTCOMES: Final[tuple[Outcome, ...]] = ("new", "updated", "deleted", "unchanged", "failed")


@dataclass(frozen=True)
class Failure:
    """One thing that could not be harvested: which stage, which URL, and why."""

    stage: Stage
    url: str
    reason: str


@dataclass
class HarvestReport:
    """Counts per stage and outcome, the failures with reasons, and warnings."""

    counts: dict[Stage, Counter[Outcome]] = field(
        default_factory=lambda: {stage: Counter() for stage in STAGES}
    )
    failures: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: Handled upstream defects by (code, outcome), and the first few as examples.
    defects: Counter[tuple[str, str]] = field(default_factory=Counter)
    defect_examples: list[str] = field(default_factory=list)
    requests: int = 0
    conditional_requests: int = 0
    bytes_received: int = 0
    #: Hosts declared unreachable (refused every attempt of a request), and why; their
    #: other requests were not sent (``requests_skipped``).
    unreachable: dict[str, str] = field(default_factory=dict)
    requests_skipped: int = 0

    def count(self, stage: Stage, outcome: Outcome, n: int = 1) -> None:
        if n:
            self.counts[stage][outcome] += n

    def fail(self, stage: Stage, url: str, reason: str) -> None:
        self.failures.append(Failure(stage, url, reason))
        self.count(stage, "failed")

    def defect(self, code: str, outcome: str, example: str) -> None:
        """Count a handled upstream defect (a warning: the exit code stays 0)."""
        self.defects[(code, outcome)] += 1
        if len(self.defect_examples) < MAX_DEFECT_EXAMPLES:
            self.defect_examples.append(example)

    def merge(self, other: HarvestReport) -> None:
        for stage in STAGES:
            self.counts[stage].update(other.counts[stage])
        self.failures.extend(other.failures)
        self.warnings.extend(other.warnings)
        self.defects.update(other.defects)
        room = MAX_DEFECT_EXAMPLES - len(self.defect_examples)
        self.defect_examples.extend(other.defect_examples[: max(0, room)])
        self.requests += other.requests
        self.conditional_requests += other.conditional_requests
        self.bytes_received += other.bytes_received
        self.unreachable.update(other.unreachable)
        self.requests_skipped += other.requests_skipped

    @property
    def ok(self) -> bool:
        """True when everything was stored: the CLI exits 0, else 1."""
        return not self.failures
