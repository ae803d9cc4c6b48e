"""What an ingest did, per stage, for the closing summary and the exit code."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Final, Literal

__all__ = ["OUTCOMES", "STAGES", "Failure", "HarvestReport", "Outcome", "Stage"]

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
    requests: int = 0
    conditional_requests: int = 0
    bytes_received: int = 0

    def count(self, stage: Stage, outcome: Outcome, n: int = 1) -> None:
        if n:
            self.counts[stage][outcome] += n

    def fail(self, stage: Stage, url: str, reason: str) -> None:
        self.failures.append(Failure(stage, url, reason))
        self.count(stage, "failed")

    def merge(self, other: HarvestReport) -> None:
        for stage in STAGES:
            self.counts[stage].update(other.counts[stage])
        self.failures.extend(other.failures)
        self.warnings.extend(other.warnings)

    @property
    def ok(self) -> bool:
        """True when everything was stored: the CLI exits 0, else 1."""
        return not self.failures
