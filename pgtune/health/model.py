"""What a health check reports: a finding with its evidence and the statements that fix it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Severity(StrEnum):
    """How urgent a finding is; ``--fail-on`` names the lowest that makes health exit 1."""

    ERROR = "error"        # breaks, or will: an INVALID index, a sequence about to overflow
    WARNING = "warning"    # costs writes or space for nothing, or leaves a risk
    INFO = "info"          # worth a look

    @property
    def rank(self) -> int:
        return {Severity.ERROR: 3, Severity.WARNING: 2, Severity.INFO: 1}[self]


class CheckId(StrEnum):
    """A health check's kebab-case id: --check/--skip take it, docs/checks/<id>.md explains it."""

    INVALID_INDEX = "invalid-index"
    DUPLICATE_INDEX = "duplicate-index"
    OVERLAPPING_INDEX = "overlapping-index"
    FOREIGN_KEY_WITHOUT_INDEX = "foreign-key-without-index"
    NOT_VALID_CONSTRAINT = "not-valid-constraint"
    INDEX_LARGER_THAN_TABLE = "index-larger-than-table"
    SEQUENCE_NEAR_OVERFLOW = "sequence-near-overflow"
    UNUSED_INDEX = "unused-index"
    STALE_STATISTICS = "stale-statistics"
    BLOATED_INDEX = "bloated-index"
    BLOATED_TABLE = "bloated-table"
    HOT_BLOCKING_INDEX = "hot-blocking-index"
    XID_WRAPAROUND_RISK = "xid-wraparound-risk"


@dataclass(frozen=True)
class KeyRead:
    """One read of an INVALID unique index's table for rows with the same key (health.duplicate_keys): True, they
    exist; False, none; None, not known in time; a text, the server's error computing a row's keys. The check makes
    it and carries it in its finding, so health --emit (and the fix list) do not read the table again."""

    duplicates: bool | str | None


@dataclass
class Finding:
    check: CheckId
    severity: Severity
    schema: str
    table: str | None
    index: str | None                # the index concerned, if any
    message: str                     # one line for a person
    evidence: dict[str, Any] = field(default_factory=dict)
    fix: list[str] = field(default_factory=list)   # statements that fix it; empty when no safe one exists
    built_by: str | None = None      # the pgtune migration that built the index (pgtune.history), if one did
    keys: KeyRead | None = field(default=None, repr=False)   # invalid-index, unique: the read its check made

    def as_dict(self) -> dict[str, Any]:
        """The finding as JSON has it (docs/health-json.md): ``keys`` is the run's own, not output."""
        return {k: v for k, v in asdict(self).items() if k != "keys"}


@dataclass
class EmittedMigration:
    """What ``health --emit`` wrote: the folder, its phases, and the findings it leaves to a person."""

    id: str
    directory: str
    phases: list[str]
    left_out: list[str] = field(default_factory=list)


class Rendered(Protocol):
    def as_dict(self) -> dict[str, Any]: ...


@dataclass
class HealthReport:
    findings: list[Finding] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)    # the checks that ran
    notes: list[str] = field(default_factory=list)     # checks that could not run, and why
    migration: EmittedMigration | None = None          # with --emit
    prisma: Rendered | None = None                     # with --prisma-schema (pgtune.prisma.advice.PrismaAdvice)
    fixes: list[str] = field(default_factory=list)      # without --emit: the fixes to run, in order (as --emit)
    not_fixed: list[str] = field(default_factory=list)  # without --emit: findings whose fix is not in fixes, why

    def fails(self, threshold: Severity | None) -> bool:
        """Does any finding reach ``threshold`` (None: never fail)?"""
        return threshold is not None and any(f.severity.rank >= threshold.rank for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {"checks": self.checks, "notes": self.notes, "findings": [f.as_dict() for f in self.findings],
                "migration": asdict(self.migration) if self.migration is not None else None,
                "prisma": self.prisma.as_dict() if self.prisma is not None else None,
                "fixes": self.fixes, "not_fixed": self.not_fixed}
