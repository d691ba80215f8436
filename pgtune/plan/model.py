"""The migration model: phases, planned objects, targets, and the folder's file names."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..constraints.model import ConstraintKind
from ..errors import MigrationError
from ..sqltext import statement_label

MANIFEST = "manifest.json"
TARGETS = "targets.json"     # targeted statements and their baselines, for verify
FORMAT_VERSION = 1


@dataclass
class PlannedIndex:
    schema: str
    table: str
    name: str
    ddl: str
    rollback: str
    analyze: str
    reason: str = ""
    forecast_bytes: int | None = None     # pgtune's size forecast at emit (status shows it beside the real size)


@dataclass
class PlannedConstraint:
    """A CHECK constraint: added NOT VALID in one phase, validated in the next.

    For kind ``not-null`` the validate phase also runs SET NOT NULL (the
    validated check spares its scan) and then drops the helper check.
    """

    kind: ConstraintKind
    schema: str
    table: str
    name: str
    columns: list[str]
    add: str                      # ALTER TABLE … ADD CONSTRAINT … NOT VALID
    validate: str                 # ALTER TABLE … VALIDATE CONSTRAINT …
    drop: str                     # ALTER TABLE … DROP CONSTRAINT IF EXISTS …
    set_not_null: str | None = None
    drop_not_null: str | None = None


@dataclass
class ExistingIndex:
    """An index that exists, which a phase drops or rebuilds (``pgtune health --emit``).

    ``definition`` is ``pg_get_indexdef`` at emit: apply refuses to drop an
    index of that name whose definition has changed since. ``restore`` builds
    it again exactly (CONCURRENTLY IF NOT EXISTS, tablespace, comment,
    statistics targets): a drop phase's down script.
    """

    schema: str
    table: str
    name: str
    definition: str
    statements: list[str]          # what the up script runs for it
    restore: list[str] = field(default_factory=list)
    reason: str = ""
    bytes: int | None = None


@dataclass
class ExistingConstraint:
    """A constraint left NOT VALID that a phase validates; there is nothing to undo."""

    schema: str
    table: str
    name: str
    validate: str
    reason: str = ""


class PhaseStep(StrEnum):
    """What a phase does.

    suggest: build indexes, add CHECK constraints NOT VALID, validate them.
    health: rebuild existing indexes, validate existing constraints, drop indexes.
    """

    INDEXES = "indexes"
    ADD_NOT_VALID = "add-not-valid"
    VALIDATE = "validate"
    REBUILD = "rebuild"
    VALIDATE_EXISTING = "validate-existing"
    DROP_INDEXES = "drop-indexes"


@dataclass
class Phase:
    number: int
    name: str
    reason: str
    indexes: list[PlannedIndex] = field(default_factory=list)
    constraints: list[PlannedConstraint] = field(default_factory=list)
    step: PhaseStep = PhaseStep.INDEXES
    existing: list[ExistingIndex] = field(default_factory=list)              # REBUILD, DROP_INDEXES
    existing_constraints: list[ExistingConstraint] = field(default_factory=list)   # VALIDATE_EXISTING

    def existing_index(self, schema: str, name: str) -> ExistingIndex | None:
        return next((e for e in self.existing if (e.schema, e.name) == (schema, name)), None)

    @property
    def up_file(self) -> str:
        return f"{self.number:02d}_up.sql"

    @property
    def down_file(self) -> str:
        return f"{self.number:02d}_down.sql"


@dataclass(frozen=True)
class Target:
    """A statement the migration promises to speed up; verify re-plans it."""

    queryid: int | None
    query: str
    calls: int
    baseline_cost: float | None
    expected_indexes: list[str] = field(default_factory=list)
    param_types: list[str] = field(default_factory=list)   # of $1..$n, as the server inferred them
    baseline_ms: float | None = None                        # measured at emit with --analyze
    baseline_plan: dict[str, Any] | None = None             # EXPLAIN (FORMAT JSON) at emit
    values: dict[str, str] = field(default_factory=dict)    # "$1" -> value it is planned with (see analyze.values)
    # Indexes this migration drops that the statement's plan used at emit: verify checks that it
    # got no costlier without them, rather than that it uses a new index.
    dropped_indexes: list[str] = field(default_factory=list)
    # For verify's comparisons (suggest --emit fills them): the per-call cost the advisor predicted with
    # the migration's indexes (same value scenarios as its cost before), and how the baseline was timed.
    predicted_cost: float | None = None
    baseline_runs: int = 0                      # the baseline time is the best of this many runs (0: not timed)
    baseline_read_blocks: int | None = None     # shared blocks that run read from disk (0: a warm cache)
    baseline_note: str = ""                     # why the baseline was not timed at emit

    @property
    def label(self) -> str:
        """A short name that stays the same for the same statement (verify's and status's rows)."""
        return statement_label(self.query)


@dataclass
class Migration:
    id: str
    created: str
    server_version: str
    phases: list[Phase]
    targets: list[Target] = field(default_factory=list)
    lock_timeout: str = "5s"
    statement_timeout: str = "1min"
    checksums: dict[str, str] = field(default_factory=dict)

    def phase(self, number: int) -> Phase:
        for p in self.phases:
            if p.number == number:
                return p
        raise MigrationError(f"migration {self.id} has no phase {number} "
                             f"(phases: {', '.join(str(p.number) for p in self.phases)})")
