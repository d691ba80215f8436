"""What apply, rollback and status tell the caller: typed results, and their JSON (docs/apply-json.md,
docs/status-json.md) from ``as_dict`` alone, so the CLI only renders."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

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

    def as_dict(self) -> dict[str, Any]:
        """``apply`` and ``rollback --format json`` (docs/apply-json.md)."""
        return {"migration_id": self.migration_id, "phases_run": list(self.phases_run),
                "phases_skipped": list(self.phases_skipped), "warnings": list(self.warnings),
                "steps": [asdict(s) for s in self.steps]}


@dataclass
class PhaseStatus:
    number: int
    name: str
    state: PhaseState
    missing: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    sizes: list[IndexSize] = field(default_factory=list)
    built_outside: list[str] = field(default_factory=list)   # not applied by pgtune, yet there as planned (psql)


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

    def as_dict(self) -> dict[str, Any]:
        """``status --format json`` (docs/status-json.md); ``settings`` only for a config migration."""
        return {"migration_id": self.migration_id, "ok": self.ok, "checksum_mismatches": list(self.checksum_mismatches),
                "phases": [asdict(p) for p in self.phases],
                **({"settings": [asdict(s) for s in self.settings]} if self.settings else {})}

    @property
    def ok(self) -> bool:
        return not self.checksum_mismatches and all(
            p.state != PhaseState.FAILED and not p.missing and not p.invalid for p in self.phases) and all(
            s.state != SettingState.CHANGED for s in self.settings)


