"""The migration model: phases, planned objects, targets, and the folder's file names."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..constraints.model import ConstraintKind
from ..errors import MigrationError
from ..explain import PlanContext
from ..sqltext import statement_label
from .steps import Direction, Step

MANIFEST = "manifest.json"
TARGETS = "targets.json"     # targeted statements and their baselines, for verify
FORMAT_VERSION = 2           # 2: typed steps per phase (plan.steps)


@dataclass
class PartitionIndex:
    """The index one partition gets (or has) under a partitioned index.

    A leaf partition's is built CONCURRENTLY; a sub-partitioned partition's
    is itself made ON ONLY, and its own partitions' are attached to it. Each
    is then attached to ``parent``. ``definition`` is an existing one's
    pg_get_indexdef (health restores it exactly); empty for a planned one.
    """

    schema: str
    table: str
    name: str
    parent_schema: str
    parent: str
    partitioned: bool = False
    definition: str = ""


@dataclass
class PlannedIndex:
    """A proposed index; on a partitioned table, ``partitions`` lists its partitions' indexes (the recipe)."""

    schema: str
    table: str
    name: str
    ddl: str
    rollback: str
    analyze: str
    reason: str = ""
    forecast_bytes: int | None = None     # pgtune's size forecast at emit (status shows it beside the real size)
    partitions: list[PartitionIndex] = field(default_factory=list)
    partitioned: bool = False             # on a partitioned table: built ON ONLY, then per partition


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
class PlannedExtension:
    """An extension the migration's indexes need (pg_trgm for ``gin_trgm_ops``), created in a phase of its own.

    ``installed``: it was there at emit (its step then changes nothing and is
    never pgtune's to drop). Rollback drops it only when this migration
    created it and nothing else uses it (pg_depend).
    """

    name: str
    schema: str | None             # WITH SCHEMA pgtune chose (None: the server's default)
    create: str                    # CREATE EXTENSION IF NOT EXISTS …
    drop: str                      # DROP EXTENSION IF EXISTS … (RESTRICT)
    reason: str = ""
    needed_by: list[str] = field(default_factory=list)   # the indexes whose operator classes it provides
    installed: bool = False


@dataclass
class PlannedStatistics:
    """Extended statistics (CREATE STATISTICS) on columns the planner misestimates together, then ANALYZE.

    ``evidence`` holds what the proposal rests on: the planner's row
    estimate before and after (measured in a rolled-back trial), the sampled
    count, and the plan change of the statements it serves.
    """

    schema: str
    table: str
    name: str
    columns: list[str]
    kinds: list[str]               # dependencies, ndistinct, mcv
    create: str
    drop: str
    analyze: str
    reason: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)


class IndexFix(StrEnum):
    """What a phase does to an existing index."""

    DROP = "drop"              # DROP INDEX (CONCURRENTLY, plainly when partitioned); the down script restores it
    REINDEX = "reindex"        # REINDEX INDEX CONCURRENTLY: the same index, compact again
    RECREATE = "recreate"      # an INVALID index dropped and built again under its own definition
    COMPLETE = "complete"      # a partitioned index left INVALID: its missing partitions' indexes built and attached


@dataclass
class ExistingIndex:
    """An index that exists, which a phase drops or rebuilds (``pgtune health --emit``).

    ``definition`` is ``pg_get_indexdef`` at emit: apply refuses to drop an
    index of that name whose definition has changed since. ``restore`` builds
    it again exactly (CONCURRENTLY IF NOT EXISTS, or ON ONLY for a
    partitioned one, then tablespace, comment, statistics targets): a drop
    phase's down script. A partitioned index's ``partitions`` are its
    partitions' indexes: a drop removes them with it, a restore builds and
    attaches each again; COMPLETE builds those it lacks (a partition's own
    ``definition`` set: an unattached twin that is attached, not built).
    ``attached`` (COMPLETE) are those attached at emit: PostgreSQL cannot
    detach a partition's index, so the rollback drops the partitioned index
    and builds it again as it was, ON ONLY with exactly these attached.
    """

    schema: str
    table: str
    name: str
    definition: str
    fix: IndexFix = IndexFix.DROP
    restore: list[str] = field(default_factory=list)
    reason: str = ""
    bytes: int | None = None
    partitioned: bool = False
    partitions: list[PartitionIndex] = field(default_factory=list)
    served_by: str = ""            # a drop: the index of the same schema that serves in its place (health's keeper)
    attached: list[PartitionIndex] = field(default_factory=list)


@dataclass
class ExistingConstraint:
    """A constraint left NOT VALID that a phase validates; there is nothing to undo."""

    schema: str
    table: str
    name: str
    validate: str
    reason: str = ""


class SettingScope(StrEnum):
    """Where a setting is changed, which is how it takes effect (pgtune config's phases, in this order)."""

    ROLE = "role"          # ALTER ROLE … IN DATABASE … SET: that role's new sessions
    TABLE = "table"        # ALTER TABLE … SET (…): a storage parameter, at once
    RELOAD = "reload"      # ALTER SYSTEM SET + pg_reload_conf(): every session, at once
    RESTART = "restart"    # ALTER SYSTEM SET: written now, in force after the next restart (pgtune never restarts)

    @property
    def rank(self) -> int:
        return list(SettingScope).index(self)


@dataclass
class PlannedSetting:
    """A setting a config phase changes, with what was there before: the down script restores exactly that.

    ``before`` is the value the scope's object held at emit — the
    postgresql.auto.conf entry (server scope), the role's own setting in the
    database, the table's storage parameter — or None when it held none (the
    down script then RESETs it). ``in_force``/``source`` are pg_settings'
    value and source at emit, for the record.
    """

    scope: SettingScope
    name: str
    value: str
    before: str | None
    in_force: str
    source: str
    up: str                        # the statement the up script runs
    down: str                      # the statement that restores ``before``
    reason: str = ""
    symptom: str = "none"          # what verify measures again (pgtune.config.model.Symptom)
    evidence: dict[str, Any] = field(default_factory=dict)
    role: str | None = None
    database: str | None = None
    schema: str | None = None
    table: str | None = None


class PhaseStep(StrEnum):
    """What a phase does.

    suggest: build indexes, add CHECK constraints NOT VALID, validate them.
    health: rebuild existing indexes, validate existing constraints, drop indexes.
    config: change settings (ALTER ROLE/TABLE … SET, ALTER SYSTEM).
    """

    INDEXES = "indexes"
    ADD_NOT_VALID = "add-not-valid"
    VALIDATE = "validate"
    REBUILD = "rebuild"
    VALIDATE_EXISTING = "validate-existing"
    DROP_INDEXES = "drop-indexes"
    SETTINGS = "settings"
    EXTENSIONS = "extensions"          # CREATE EXTENSION for what the indexes need (pg_trgm)
    STATISTICS = "statistics"          # CREATE STATISTICS + ANALYZE: estimates, no index


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
    up: list[Step] = field(default_factory=list)      # the units of NN_up.sql, in order (filled at emit)
    down: list[Step] = field(default_factory=list)    # the units of NN_down.sql
    settings: list[PlannedSetting] = field(default_factory=list)             # SETTINGS
    extensions: list[PlannedExtension] = field(default_factory=list)         # EXTENSIONS
    statistics: list[PlannedStatistics] = field(default_factory=list)        # STATISTICS

    def existing_index(self, schema: str, name: str) -> ExistingIndex | None:
        return next((e for e in self.existing if (e.schema, e.name) == (schema, name)), None)

    @property
    def up_file(self) -> str:
        return f"{self.number:02d}_up.sql"

    @property
    def down_file(self) -> str:
        return f"{self.number:02d}_down.sql"

    def file(self, direction: Direction) -> str:
        """The script that runs the phase ``direction``."""
        return self.up_file if direction == Direction.UP else self.down_file

    def steps(self, direction: Direction) -> list[Step]:
        return self.up if direction == Direction.UP else self.down


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
    values: dict[str, str | None] = field(default_factory=dict)   # "$1" -> value (None: NULL) of the main scenario
    # Every value scenario suggest costed it over ({"values", "source", "weight"}; values {}: the generic
    # plan), so verify plans it as suggest did (analyze.scenarios.weighted_cost).
    scenarios: list[dict[str, Any]] = field(default_factory=list)
    # Indexes this migration drops that the statement's plan used at emit: verify checks that it
    # got no costlier without them, rather than that it uses a new index.
    dropped_indexes: list[str] = field(default_factory=list)
    # For verify's comparisons (suggest --emit fills them): the per-call cost the advisor predicted with
    # the migration's indexes (same value scenarios as its cost before), and how the baseline was timed.
    predicted_cost: float | None = None
    baseline_runs: int = 0                      # the baseline time is the best of this many runs (0: not timed)
    baseline_read_blocks: int | None = None     # shared blocks that run read from disk (0: a warm cache)
    baseline_note: str = ""                     # why the baseline was not timed at emit
    baseline_how: str = ""                      # how it was: runs, cache, value scenarios (baseline.Timed)
    baseline_standby: bool | None = None        # timed on a hot standby (False: on a primary; None: not timed)
    # A digest of the value scenarios the baseline was planned and timed with (baseline.values_digest): verify
    # compares with the baseline only while targets.json still holds them ("": not kept, an older migration).
    baseline_values: str = ""
    # The cost before and the predicted cost re-priced for a warm cache (random_page_cost = seq_page_cost,
    # baseline_warm): what verify compares a time cut measured on a warm cache with. None: not predicted.
    warm_baseline_cost: float | None = None
    warm_predicted_cost: float | None = None
    # predicted_cost (and warm_predicted_cost) planned at emit with statistics on the key expressions of the
    # expression indexes serving it, in a rolled-back trial (baseline_warm): what ANALYZE gives the built index.
    predicted_with_statistics: bool = False
    # The time predicted with the migration's indexes: warm_predicted_cost at the time per cost unit of an
    # index scan on its table, timed at emit (baseline_pace). None: not predicted.
    predicted_ms: float | None = None
    # The reference scan on its table timed at emit (baseline_pace: the REFERENCE_ROWS rows one) and its time: verify
    # times it again beside the target, and scales predicted_ms by how the machine's pace moved (load).
    pace_query: str = ""
    pace_ms: float | None = None
    # The CPU part of warm_predicted_cost: the same plan priced with page costs 0 (baseline_warm); the rest is
    # its page part. baseline_pace times each part at its own pace. None: not planned the same way.
    warm_predicted_cpu: float | None = None
    predicted_scans: list[str] = field(default_factory=list)   # how the warm predicted plan reads its tables
    # The heap pages its predicted index scan visits: the planner's (the warm cost's page part) and a count on a
    # sample of the table (baseline_pages); far more sampled than planned: predicted_ms prices the sampled ones.
    heap_pages_planned: float | None = None
    heap_pages_sampled: float | None = None
    # The session it ran in (analyze.sessions): its role's search_path (None: pgtune's own), the role
    # it is planned as for row security, and the settings its policies read.
    search_path: list[str] | None = None
    role: str | None = None
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def context(self) -> PlanContext:
        return PlanContext(search_path=tuple(self.search_path) if self.search_path is not None else None,
                           role=self.role, settings=tuple(self.settings.items()))

    @property
    def label(self) -> str:
        """A short name that stays the same for the same statement (verify's and status's rows)."""
        return statement_label(self.query)

    @property
    def tenant(self) -> str:
        """The session that tells this target from another tenant's same text: its search_path and role."""
        path = ", ".join(self.search_path or ()) or "''"
        parts = [f"search_path {path}"] if self.search_path is not None else []
        parts += [f"role {self.role}"] if self.role else []
        return "; ".join(parts) or "pgtune's session"

    @property
    def key(self) -> tuple[int | None, str, PlanContext]:
        """What tells two targets apart: a schema per tenant's roles run the same text, each its own statement, in
        its own session; from PostgreSQL 18 on with one queryid for all (r19)."""
        return self.queryid, self.query, self.context


def target_labels(targets: Sequence[Target]) -> list[str]:
    """Each target's label, with its tenant where two targets would share one (verify's rows, its JUnit test names):
    a schema per tenant's roles run the same text (from PostgreSQL 18 on under one queryid), and a CI reader must
    tell which tenant's statement regressed. A label no other target has stays as it is; one whose targets share
    their session too (psycopg sends a small int as int2, a large one as int8: one text, two queryids) is numbered
    only, not named after a session that tells nothing apart (p26)."""
    tenants: dict[str, set[str]] = {}
    for t in targets:
        tenants.setdefault(t.label, set()).add(t.tenant)
    labels = [t.label if len(tenants[t.label]) == 1 else f"{t.label} [{t.tenant}]" for t in targets]
    seen, taken = Counter(labels), Counter[str]()
    out = []
    for label in labels:
        taken[label] += 1
        out.append(label if seen[label] == 1 else f"{label} #{taken[label]}")
    return out


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
    # targets.json's digest with every value blanked (folder.targets_shape): `pgtune baseline` re-takes the
    # baselines of targets whose values a DBA edited, and refuses any other edit ("": an older migration).
    targets_shape: str = ""

    def phase(self, number: int) -> Phase:
        for p in self.phases:
            if p.number == number:
                return p
        raise MigrationError(f"migration {self.id} has no phase {number} "
                             f"(phases: {', '.join(str(p.number) for p in self.phases)})")
