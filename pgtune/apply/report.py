"""What apply, rollback and status tell the caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ..history import PhaseState


class Outcome(StrEnum):
    """What happened to one unit of a script."""

    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"
    WOULD_RUN = "would-run"


@dataclass
class StepResult:
    phase: int
    statement: str
    status: Outcome
    note: str = ""


@dataclass
class Report:
    migration_id: str
    steps: list[StepResult] = field(default_factory=list)
    phases_run: list[int] = field(default_factory=list)
    phases_skipped: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(s.status == Outcome.DONE for s in self.steps)


@dataclass
class PhaseStatus:
    number: int
    name: str
    state: str                       # pending, applied, failed, rolled_back
    missing: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    sizes: list[IndexSize] = field(default_factory=list)


@dataclass
class IndexSize:
    """A planned index's forecast size (at emit) and its real size now (None: not built)."""

    name: str
    forecast_bytes: int | None
    real_bytes: int | None


@dataclass
class Status:
    migration_id: str
    phases: list[PhaseStatus]
    checksum_mismatches: list[str]

    @property
    def ok(self) -> bool:
        return not self.checksum_mismatches and all(
            p.state != PhaseState.FAILED and not p.missing and not p.invalid for p in self.phases)


