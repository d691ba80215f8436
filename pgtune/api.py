"""The library entry points: one call per command.

The CLI parses options, makes one of these calls and renders what it
returns; the demo, the benchmarks and the tests call the same functions, so
the suggest → constraints → plan → baseline → emit pipeline exists once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import psycopg

from . import baseline, catalog_sql, heap, plan
from ._text import Progress
from .analyze import Advice, Budget, Options, advise, after_selection, check_trial, replan_withdrawn, twin_of
from .apply import Applier, Report, Status
from .baseline import Measurement
from .baseline_pace import paced
from .baseline_warm import warm_predictions
from .boundary import library_errors as _library_errors
from .boundary import without_jit as _without_jit
from .capabilities import Capabilities, probe
from .capture import Catalog, Statement, TableKey, read_catalog, sent_by_prisma
from .config import ConfigOptions, ConfigReport, Profile, ProfileConfig, Snapshot, Storage, compute_profile
from .config import migration as config_migration
from .config import run as run_config
from .config.evidence import read as read_evidence
from .config.units import check_memory
from .config.verify import ConfigVerification
from .config.verify import judge as judge_config
from .connect import no_lock_queue
from .constraints import ConstraintAdvice, ConstraintOptions, propose
from .duration import check_timeout
from .errors import InputError, MigrationError, PgtuneError
from .health import EmittedMigration, HealthReport, drop_replaced
from .health import build_migration as build_health_migration
from .health import fix_list as health_fix_list
from .health import run as run_health
from .plan import Migration
from .prisma import advice as prisma_advice
from .prisma import schema as prisma_schema
from .prisma import sync as prisma_sync
from .prisma.advice import PrismaAdvice
from .prisma.sync import PrismaOptions
from .prisma.sync import write as write_prisma
from .snapshot import snapshot
from .verify import DISAGREEMENT, TargetResult, Verdict, Verification
from .verify import verify as verify_migration
from .verify import verify_query as verify_one

__all__ = ["DISAGREEMENT", "ConfigOptions", "EmitOptions", "Measurement", "PrismaOptions", "Progress", "Report",
           "Status", "SuggestOptions", "Suggestion", "TargetResult", "Verdict", "Verification", "apply", "check",
           "config", "config_profile", "config_verify", "emit_migration", "health", "is_config_migration", "rollback",
           "status", "suggest", "verify", "verify_query", "write_prisma"]


@dataclass(frozen=True)
class SuggestOptions:
    """What ``suggest`` reads and proposes; validated where they are made (the CLI's option types)."""

    indexes: Options = field(default_factory=Options)
    constraints: bool = True                      # also propose CHECK constraints
    constraint_timeout_ms: int = 10_000           # per proving query
    index_kinds: bool = True                      # also GIN and BRIN (docs/indexes/): trigram, jsonb, arrays


@dataclass(frozen=True)
class EmitOptions:
    """How the migration is written: where, with which timeouts and phase split."""

    directory: Path | None = None                 # None: migrations/<id>
    slug: str = "indexes"
    lock_timeout: str = "5s"
    statement_timeout: str = "1min"
    first_phase_share: float = 0.8
    measure: bool = True                          # time read-only targets for verify's baseline (bounded)
    trust_functions: bool = False                 # with measure: run non-VOLATILE user functions too
    layout: plan.Layout = plan.Layout.PGTUNE      # or the files Prisma Migrate, Flyway, golang-migrate run
    constraints: bool = False                     # also write the proposed CHECK constraints (opt-in)
    drop_replaced: bool = True                    # a last phase drops the indexes the new ones make redundant
    # --prisma-schema's datasource ``schemas`` (multiSchema: every name stays qualified); None: no schema read.
    prisma_schemas: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        check_timeout(self.lock_timeout, "--lock-timeout")
        check_timeout(self.statement_timeout, "--statement-timeout")


@dataclass
class Suggestion:
    """Index advice and CHECK-constraint advice; with ``emit``, the migration written for them."""

    indexes: Advice
    constraints: ConstraintAdvice
    migration: Migration | None = None
    directory: Path | None = None
    prisma: PrismaAdvice | None = None
    # The tables among the proposals' that are partitioned: no one CREATE INDEX CONCURRENTLY builds their index.
    partitioned: set[TableKey] = field(default_factory=set)

    def without_values(self) -> int:
        """Targets of the migration pgtune could not time for want of a ``$n`` value (verify cannot either)."""
        return sum(baseline.lacks_values(t) for t in self.migration.targets) if self.migration else 0

    def as_dict(self) -> dict[str, Any]:
        return {**self.indexes.as_dict(), **self.constraints.as_dict(),
                "prisma": self.prisma.as_dict() if self.prisma is not None else None}


@_library_errors
@_without_jit
def check(conn: psycopg.Connection[Any]) -> Capabilities:
    """What the server offers pgtune."""
    return probe(conn)


@_library_errors
def suggest(conn: psycopg.Connection[Any], options: SuggestOptions | None = None, *,
            statements: list[Statement] | None = None, replicas: Sequence[psycopg.Connection[Any]] = (),
            emit: EmitOptions | None = None, progress: Progress | None = None,
            prisma: PrismaOptions | None = None, role: str | None = None,
            trial: psycopg.Connection[Any] | None = None) -> Suggestion:
    """Advice for the workload (pg_stat_statements, merged with ``replicas``, or ``statements``).

    With ``emit``, the advice is also written as a phased migration folder
    whose targets carry their baseline plans (``Suggestion.migration``). With
    ``prisma``, each proposal is mapped to the Prisma schema's models
    (``Suggestion.prisma``), and with ``prisma.write`` the lines are added to it.
    ``role``: the role ``statements`` ran as (its search_path and row security).
    ``trial``: a copy of this database where GIN candidates are built for real to be costed
    (analyze.trial; never this database: refused).
    """
    opts = options or SuggestOptions()
    say = progress or (lambda _m: None)
    schema = prisma_schema.load(prisma.schema) if prisma is not None else None   # a bad file fails first
    if emit is not None:
        plan.check_writable(emit.directory or Path("migrations"), emit.layout)      # before the work, not after it
    # settled: the run's large, long-lived heap is not traversed again at each full collection (pgtune.heap)
    with no_lock_queue(conn), heap.settled():     # a reading command never queues behind another session's lock
        with catalog_sql.uncompiled(conn):    # it reads only: the workload, the catalog, the roles, pg_qualstats
            snap = snapshot(conn, opts.indexes.workload, statements=statements, replicas=replicas, progress=say,
                            role=role)
        if trial is not None:
            check_trial(conn, trial)
        advice = advise(conn, snap, opts.indexes, say)
        for ix in advice.indexes:      # the global hint says why; each proposal says it is one of them (r11 F15)
            ix.statistics_hidden = (ix.schema, ix.table) in snap.capabilities.stats_hidden_keys
        after_selection(conn, snap, advice, trial=trial, index_kinds=opts.index_kinds,
                        database=opts.indexes.workload.database, say=say,
                        budget=Budget(opts.indexes.max_index_mb, opts.indexes.max_indexes, opts.indexes.size_basis))
        checks = (propose(conn, ConstraintOptions(timeout_ms=opts.constraint_timeout_ms, exclude=opts.indexes.exclude,
                                                  min_rows=opts.indexes.min_rows,
                                                  prisma=prisma is not None or sent_by_prisma(snap.statements)),
                          say, catalog=snap.catalog) if opts.constraints else ConstraintAdvice())
        result = Suggestion(advice, checks, partitioned={
            key for ix in advice.indexes for key in [(ix.schema, ix.table)]
            if (table := snap.catalog.tables.get(key)) is not None and table.partitioned})
        for ix in advice.indexes:
            ix.partitioned = (ix.schema, ix.table) in result.partitioned
        advice.hints += prisma_advice.hold_drops(schema, advice.indexes, sent_by_prisma(snap.statements) and
                                                 not snap.catalog.prisma_managed)
        if emit is not None:
            emit = replace(emit, prisma_schemas=schema.schemas) if schema is not None else emit
            result.migration, result.directory = emit_migration(conn, result, emit, progress=say, catalog=snap.catalog)
        elif any(twin_of(ix, snap.catalog) for ix in advice.indexes):
            # The advice is what the default --emit would write: a covering twin whose old index that migration
            # keeps is withdrawn here too (u12: suggest proposed one that suggest --emit then refused).
            _without_kept_twins(conn, result, EmitOptions(), snap.catalog)
    if prisma is not None and schema is not None:
        prisma_sync.anchor(conn, schema)
        result.prisma = prisma_sync.for_suggestion(conn, schema, advice.indexes, checks.constraints, result.migration,
                                                   snap.catalog)
        if prisma.write:
            write_prisma(schema, result.prisma)
    return result


@_library_errors
def emit_migration(conn: psycopg.Connection[Any], suggestion: Suggestion, options: EmitOptions, *,
                   progress: Progress | None = None, catalog: Catalog | None = None) -> tuple[Migration, Path]:
    """Group the advice into phases, capture each target's baseline plan, write the folder; a last phase drops
    the existing indexes the new ones make redundant (health.replaced: health's guards, u2's R6)."""
    say = progress or (lambda _m: None)
    catalog = catalog or read_catalog(conn)
    migration, kept = _without_kept_twins(conn, suggestion, options, catalog)
    suggestion.indexes.hints.extend(kept)
    return _write_migration(conn, migration, options, say)


def _without_kept_twins(conn: psycopg.Connection[Any], suggestion: Suggestion, options: EmitOptions,
                        catalog: Catalog) -> tuple[Migration, list[str]]:
    """The migration's phases once each covering twin whose old index the migration keeps is withdrawn (and the
    statements it served planned again), with a line per redundant index kept."""
    migration, kept = _phases(conn, suggestion, options, catalog)
    # A covering twin whose old index stays would be a second index with the same keys: not proposed (r9).
    # Keyed by schema too: a schema per tenant has the same proposal name in each, and one tenant's old index
    # says nothing of another's (p15).
    twins = {(ix.schema, ix.name): old for ix in suggestion.indexes.indexes
             if (old := twin_of(ix, catalog)) is not None}
    dropped = {(e.schema, e.name) for p in migration.phases for e in p.existing}
    stays = {key: old for key, old in twins.items() if (key[0], old) not in dropped}
    for (schema, name), old in stays.items():
        said = [*kept, *suggestion.indexes.hints]        # prisma_advice.hold_drops's lines are hints already
        why = next((k.split(": ", 1)[1] for k in said if k.startswith(f"existing index {old} kept beside {name}: ")),
                   "this layout has no phase that drops an existing index")
        suggestion.indexes.withdraw(name, f"{name} not proposed: it is the covering twin of existing index {old}, "
                                          f"which this migration keeps ({why}); beside it, an index with the same "
                                          "keys would only add writes", schema)
    if stays:
        replan_withdrawn(conn, catalog, suggestion.indexes)
        migration, kept = _phases(conn, suggestion, options, catalog)
    return migration, kept


def _phases(conn: psycopg.Connection[Any], suggestion: Suggestion, options: EmitOptions,
            catalog: Catalog) -> tuple[Migration, list[str]]:
    """The migration's phases for the advice, the last dropping what its indexes make redundant; a line per
    redundant index kept, and why."""
    # A partitioned table's index is built partition by partition (ON ONLY, then CONCURRENTLY on each, ATTACH).
    parts = plan.partitions.read(conn, [(s.schema, s.table) for s in suggestion.indexes.indexes])
    migration = plan.build(suggestion.indexes, slug=options.slug, lock_timeout=options.lock_timeout,
                           statement_timeout=options.statement_timeout,
                           first_phase_share=options.first_phase_share,
                           constraints=[c for c in suggestion.constraints.constraints if c.confidence.written]
                           if options.constraints else [],
                           partitions=parts)
    if not (options.drop_replaced and options.layout == plan.Layout.PGTUNE):
        return migration, []
    drop, kept = drop_replaced(conn, suggestion.indexes, catalog, len(migration.phases) + 1, options.layout)
    return (replace(migration, phases=[*migration.phases, drop]) if drop is not None else migration), kept


def _write_migration(conn: psycopg.Connection[Any], m: Migration, options: EmitOptions, say: Progress, *,
                     write_empty: bool = True) -> tuple[Migration, Path]:
    """Write ``m`` where ``options`` say: pgtune's folder, its targets' baselines captured first, or a tool's layout.

    A tool's layout adds files to the tool's own migrations folder (e.g. prisma/migrations), beside the
    others; it gets no baseline (verify reads pgtune's folder), and apply's definition guard is each
    file's "Definition at emit". ``write_empty``: write a migration with no phase too.
    """
    if options.layout not in (plan.Layout.PGTUNE, plan.Layout.PRISMA):
        folder = options.directory or Path("migrations")
        if m.phases or write_empty:
            _write_layout(m, folder, options.layout)
        return m, folder
    say("capturing baseline plans for verify")
    targets = baseline.capture(conn, m.targets, analyze=options.measure, say=say,
                               trust_functions=options.trust_functions)
    if options.measure:
        # What verify compares a time cut measured on a warm cache with (baseline_warm).
        targets = warm_predictions(conn, targets, [ix for p in m.phases for ix in p.indexes])
        targets = paced(conn, targets, [ix for p in m.phases for ix in p.indexes])
    m = replace(m, targets=targets)
    if options.layout == plan.Layout.PRISMA:
        # Prisma runs the folders; pgtune's own folder of the whole migration, in the first of them, is what
        # status, verify and rollback read (F6: a Prisma-layout migration had none of the three).
        folder = options.directory or Path("migrations")
        if m.phases or write_empty:
            home = _prisma_home(conn, options.prisma_schemas)
            files = _write_layout(m, folder, options.layout, home)
            if files:       # its down scripts name things as the folders do (c38: they stayed qualified)
                plan.emit(plan.without_ledgers(m)[0], plan.first_folder(files) / plan.PLAN_DIR,
                          down=plan.home_down(home))
        return m, folder
    folder = options.directory or Path("migrations") / m.id
    if m.phases or write_empty:
        plan.emit(m, folder)
    return m, folder


def _prisma_home(conn: psycopg.Connection[Any], schemas: tuple[str, ...] | None) -> str | None:
    """The schema Prisma migrates, whose names its migrations write unqualified: its ledger's, else (no ledger,
    --prisma-schema given) the connection's, Prisma's ?schema=. Prisma runs migration.sql with the search_path set
    to it, so such folders deploy to another schema too (a37). None where Prisma qualifies every name (multiSchema)
    or which schema it migrates is not known (several ledgers): every name stays qualified."""
    if schemas:
        return None
    with conn.cursor(row_factory=psycopg.rows.tuple_row) as cur:
        homes = [str(r[0]) for r in cur.execute(catalog_sql.load("migration_ledgers")) if r[1] == "_prisma_migrations"]
        if not homes and schemas is not None:
            homes = [str(r[0]) for r in cur.execute(catalog_sql.load("prisma_home")) if r[0] is not None]
    return homes[0] if len(homes) == 1 else None


def _write_layout(m: Migration, folder: Path, layout: plan.Layout, prisma_home: str | None = None) -> list[Path]:
    try:
        return plan.write_layout(m, folder, layout, prisma_home=prisma_home)
    except OSError as exc:
        raise InputError(f"cannot write the migration to {folder}: {exc.strerror or exc}") from None


@_library_errors
def apply(conn: psycopg.Connection[Any], directory: Path, *, phase: int | None = None, through: int | None = None,
          dry_run: bool = False, retries: int = 5, wait: float = 0.0, progress: Progress | None = None,
          monitor_dsn: str | None = None, wait_for_transactions: float = 300.0) -> Report:
    """Apply a migration folder's phases (all, one, or up to ``through``).

    ``wait_for_transactions``: seconds each concurrent build may wait, before it starts, for the
    transactions it would wait for (else it is not started and they are named).
    """
    _refuse_prisma(directory, "apply", "prisma migrate deploy runs its folders, and records them in its ledger")
    applier = Applier(conn, directory, retries=retries, progress=progress, monitor_dsn=monitor_dsn, wait=wait,
                      wait_for_transactions=wait_for_transactions)
    settings = _settings_migration(directory)
    if settings is not None and not dry_run:
        chosen = [phase] if phase is not None else ([p.number for p in settings.phases if p.number <= through]
                                                    if through is not None else None)
        config_migration.guard(conn, settings, chosen, plan.Direction.UP)
    return applier.apply([phase] if phase is not None else None, through=through, dry_run=dry_run)


def _refuse_prisma(directory: Path, verb: str, why: str) -> None:
    """A migration written with --layout prisma is Prisma's to run: pgtune status and verify read it, no more."""
    found = plan.prisma_plan(directory)
    if found is not None:
        raise MigrationError(f"{verb} refused: {directory} is a migration written for Prisma ({why}); pgtune status "
                             f"and pgtune verify read it ({found})")


def _settings_migration(directory: Path) -> Migration | None:
    """The migration in ``directory`` when it changes settings (pgtune config --emit), else None."""
    try:
        m = plan.load(directory, check=False)
    except PgtuneError:
        return None          # the Applier reports what is wrong with the folder
    return m if any(p.step == plan.PhaseStep.SETTINGS for p in m.phases) else None


def is_config_migration(directory: Path) -> bool:
    return _settings_migration(directory) is not None


@_library_errors
def rollback(conn: psycopg.Connection[Any], directory: Path, *, phase: int | None = None, wait: float = 0.0,
             progress: Progress | None = None, wait_for_transactions: float = 300.0, force: bool = False) -> Report:
    """Undo applied phases (or one), last first; only what this migration created is dropped.

    Refused when a later migration, applied now, relies on an index this one would drop (it dropped
    the index this one's replaced), unless ``force``.
    """
    _refuse_prisma(directory, "rollback", "Prisma has no down migrations, and its ledger would still list the "
                   "folders as applied: put the statements of the plan's NN_down.sql files, last phase first, into "
                   "new migrations (npx prisma migrate dev --create-only, each concurrent statement alone in its "
                   "own), and remove pgtune's lines from schema.prisma")
    settings = _settings_migration(directory)
    if settings is not None:
        config_migration.guard(conn, settings, [phase] if phase is not None else None, plan.Direction.DOWN)
    return Applier(conn, directory, progress=progress, wait=wait, wait_for_transactions=wait_for_transactions
                   ).rollback([phase] if phase is not None else None, force=force)


@_library_errors
@_without_jit
def status(conn: psycopg.Connection[Any], directory: Path) -> Status:
    """Each phase's state; for a config migration also each setting: applied, pending a restart, changed since."""
    st = Applier(conn, plan.prisma_plan(directory) or directory).status()
    settings = _settings_migration(directory)
    if settings is not None:
        st.settings = config_migration.states(conn, settings)
    return st


@_library_errors
@_without_jit
def config(conn: psycopg.Connection[Any], options: ConfigOptions | None = None, *,
           emit: EmitOptions | None = None, evidence: Snapshot | None = None) -> ConfigReport:
    """Settings proposals from the server's own statistics; with ``emit``, the migration that applies them.

    The migration is refused (config.migration.BudgetRefused, exit 1) when the
    memory budget refuses the set. ``evidence``: statistics already read (config.evidence.window
    around a load), instead of since their reset or over ``options.window_s``.
    """
    if options is not None and options.memory is not None:
        check_memory(options.memory)
    if emit is not None:
        plan.check_writable(emit.directory or Path("migrations"), emit.layout)
    report, _ = run_config(conn, options, snapshot=evidence)
    if emit is not None:
        m = config_migration.build(conn, report, lock_timeout=emit.lock_timeout,
                                   statement_timeout=emit.statement_timeout)
        folder = emit.directory or Path("migrations") / m.id
        if m.phases:
            plan.emit(m, folder)
        written = config_migration.write_platform(report, folder)
        report.migration = {"id": m.id, "directory": str(folder) if m.phases or written else "",
                            "phases": [f"{p.number}: {p.name}" for p in m.phases],
                            "platform_changes": str(written) if written else ""}
    return report


def config_profile(profile: Profile, memory: int, *, cpus: int | None = None, storage: Storage = Storage.SSD,
                   connections: int | None = None, server_version_num: int = 150000) -> ProfileConfig:
    """The settings for a new server of ``profile`` (no connection: documented formulas and the memory budget)."""
    return compute_profile(profile, check_memory(memory), cpus, storage, connections, server_version_num)


@_library_errors
@_without_jit
def config_verify(conn: psycopg.Connection[Any], directory: Path, *, window_s: float | None = None,
                  evidence: Snapshot | None = None) -> ConfigVerification:
    """Read the evidence again (over ``window_s``, or since the counters' reset, or ``evidence`` already read):
    per setting, did its symptom go?"""
    m = _settings_migration(directory)
    if m is None:
        raise InputError(f"{directory} is not a pgtune config migration")
    snap = evidence if evidence is not None else read_evidence(conn, window_s)
    return judge_config(m, snap, config_migration.states(conn, m))


@_library_errors
def verify(conn: psycopg.Connection[Any], directory: Path, *, tolerance: float = 0.10, measure: bool = False,
           timeout_ms: int = 30_000, trust_functions: bool = False, time_tolerance: float = 0.25) -> Verification:
    """Re-plan every target of a migration; ``measure`` also times the read-only ones."""
    return verify_migration(conn, plan.prisma_plan(directory) or directory,
                            tolerance=tolerance, analyze=measure, timeout_ms=timeout_ms,
                            trust_functions=trust_functions, time_tolerance=time_tolerance)


@_library_errors
@_without_jit
def health(conn: psycopg.Connection[Any], *, only: Sequence[str] = (), skip: Sequence[str] = (),
           replicas: Sequence[psycopg.Connection[Any]] = (), min_stats_age_s: float = 7 * 86_400,
           emit: EmitOptions | None = None, prisma: PrismaOptions | None = None,
           min_rows: float = 1000) -> HealthReport:
    """Review the indexes, constraints and sequences that exist (all checks, or ``only``, minus ``skip``).

    ``replicas``: servers whose index scans count too; ``min_stats_age_s``: how long the
    statistics must have counted before an index may be called unused; ``min_rows``: a foreign
    key on a smaller table needs no index. With ``emit``, the
    fixes a migration can carry are written as a phased migration folder (``report.migration``).
    """
    schema = prisma_schema.load(prisma.schema) if prisma is not None else None   # a bad file fails first
    if emit is not None:
        plan.check_writable(emit.directory or Path("migrations"), emit.layout)
    with no_lock_queue(conn):
        if schema is not None:
            prisma_sync.anchor(conn, schema)
        report = run_health(conn, only, skip, replicas=replicas, min_stats_age_s=min_stats_age_s, min_rows=min_rows,
                            declared=prisma_sync.declared(schema) if schema is not None else None)
    if prisma is not None and schema is not None:
        advice = prisma_sync.for_health(conn, schema, report.findings)
        if prisma.write:
            write_prisma(schema, advice)
        report.prisma = advice
    if emit is not None:
        emit = replace(emit, prisma_schemas=schema.schemas) if schema is not None else emit
        built = build_health_migration(conn, report, lock_timeout=emit.lock_timeout,
                                       statement_timeout=emit.statement_timeout, layout=emit.layout)
        m, folder = _write_migration(conn, built.migration, emit, lambda _m: None, write_empty=False)
        report.migration = EmittedMigration(m.id, str(folder) if m.phases else "",
                                            [f"{p.number}: {p.name}" for p in m.phases], built.left_out)
    elif report.findings:
        listed = health_fix_list(conn, report)
        report.fixes = list(dict.fromkeys(s for f in listed.carried for s in f.fix))
        report.not_fixed = listed.left_out
    return report


@_library_errors
def verify_query(conn: psycopg.Connection[Any], query: str, expect: list[str], *, measure: bool = False,
                 timeout_ms: int = 30_000, trust_functions: bool = False) -> Verification:
    result = verify_one(conn, query, expect, analyze=measure, timeout_ms=timeout_ms, trust_functions=trust_functions)
    # A name no index has reads as an index the plan does not use (u15: a name from a rolled-back migration).
    missing = [r[0] for r in conn.execute(catalog_sql.load("index_names_missing"), {"names": list(expect)})]
    for t in result.targets:
        if missing and t.problem:
            t.problem += (f"; no index is named {', '.join(missing)} in this database (names are case-sensitive; "
                          "pgtune status <migration> lists a migration's)")
    return result
