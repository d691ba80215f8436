"""What apply, rollback and status tell the caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ..history import PhaseState
from ..plan import SettingScope


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


class SettingState(StrEnum):
    """What a config migration's setting holds now, against what it held at emit and what pgtune sets."""

    AS_EMITTED = "as-emitted"          # what it held at emit: not applied, or rolled back
    APPLIED = "applied"                # the proposed value
    CHANGED = "changed-since"          # someone else changed it since: pgtune leaves it alone


@dataclass(frozen=True)
class SettingStatus:
    phase: int
    scope: SettingScope
    name: str
    target: str                        # server, role r in d, table s.t
    before: str | None                 # what the object held at emit (None: not set there)
    value: str                         # what pgtune sets
    now: str | None                    # what the object holds now
    state: SettingState
    in_force: str | None               # pg_settings' value now (server settings; a role's is its sessions' own)
    pending_restart: bool              # written, in force only after a restart


@dataclass
class Status:
    migration_id: str
    phases: list[PhaseStatus]
    checksum_mismatches: list[str]
    settings: list[SettingStatus] = field(default_factory=list)    # a config migration's settings

    @property
    def ok(self) -> bool:
        return not self.checksum_mismatches and all(
            p.state != PhaseState.FAILED and not p.missing and not p.invalid for p in self.phases) and all(
            s.state != SettingState.CHANGED for s in self.settings)


