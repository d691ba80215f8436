"""Apply: run a migration's phases against a live database, and roll them back.

Safety rules, each for a reason a DBA has been bitten by:

* A *session-level* advisory lock keeps two appliers apart. A transaction-level
  lock cannot be used: CREATE INDEX CONCURRENTLY waits for every older
  transaction, including the one holding the lock, and would hang.
* Every statement runs in autocommit, after the script's own SET lock_timeout,
  so a blocked DDL gives up quickly instead of queueing application traffic
  behind it; lock timeouts are retried with a bounded backoff, and so is the
  cleanup of what a timed-out build left.
* What each unit touches comes from the manifest's typed steps (plan.steps),
  never from its SQL text; crashes are reconciled from the catalog
  (apply.reconcile): an index that exists, is valid and has the planned
  definition is done, an INVALID leftover is dropped and rebuilt, and rollback
  drops only what this migration created (the history records every OID).
* A partitioned table's index is built partition by partition (plan.recipe);
  before a phase runs, every partitioned table it indexes must still have the
  partitions it had at emit, else nothing runs and one line says which changed.
* A client that dies leaves no orphan build behind for long:
  ``client_connection_check_interval`` makes the server notice within seconds.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors as pgerrors

from .. import ddl
from .._text import Progress, one_line
from ..connect import force_session_settings, lost
from ..duration import to_ms
from ..errors import ApplyFailed, InputError, Interrupted, from_psycopg, interrupted_by
from ..history import DEFAULT_SCHEMA, History, PhaseState, StepStatus
from ..plan import Action, Direction, Name, ObjectKind, Phase, Step, index_key, load, mismatches, script, sha256
from . import prisma
from .catalog import ObjectStates
from .drift import built_outside, leftovers, problems
from .lock import AdvisoryLock
from .monitor import BuildMonitor
from .reconcile import StepGuard
from .report import IndexSize, Outcome, PhaseStatus, Report, Status, StepResult
from .retry import LockRetry
from .server import check_creates, check_server, check_version
from .waits import LockWaitTimeout, LockWatch, TransactionWait, WaitedTooLong, by_table, conninfo, share_only

ADVISORY_KEY = 0x70677475  # "pgtu": one applier per database
TAG = "/* pgtune */"       # marks what pgtune runs, so suggest leaves it out of the workload
CLIENT_CHECK_INTERVAL = "2s"  # how soon the server cancels the build of a client that died
INTERRUPT_CLEANUP_TIMEOUT = "3s"  # after Ctrl-C: how long to wait to drop the half-built index


def _own(stmt: str) -> str:
    """``stmt`` tagged at its end: PostgreSQL 18's pg_stat_statements drops a leading comment."""
    return f"{stmt}\n{TAG}"


def _may_not_create(phase: int, extension: str, role: str) -> str:
    return (f"phase {phase}: role {role} may not create extension {extension}: a superuser runs "
            f"CREATE EXTENSION IF NOT EXISTS {ddl.name(extension)} (or, PostgreSQL 13 and later, grants this role "
            "CREATE on the database when the extension is trusted), then apply again; nothing of the phase ran")


def _concurrent(step: Step) -> bool:
    """CREATE, REINDEX and DROP INDEX CONCURRENTLY: each waits for other transactions to end."""
    return step.kind == ObjectKind.INDEX and step.action in (Action.CREATE, Action.REBUILD, Action.DROP)


# Steps whose lock the table's readers or writers queue behind (ACCESS EXCLUSIVE for ADD/DROP CONSTRAINT and
# SET/DROP NOT NULL, SHARE for CREATE INDEX ON ONLY, a partitioned index's plain DROP INDEX).
_QUEUEING = (ObjectKind.CONSTRAINT, ObjectKind.NOT_NULL, ObjectKind.INDEX_ON_ONLY, ObjectKind.PARTITIONED_INDEX)


def _queues_the_table(step: Step) -> bool:
    """VALIDATE CONSTRAINT (SHARE UPDATE EXCLUSIVE) blocks neither reads nor writes, so it is not held back."""
    return step.kind in _QUEUEING and step.action != Action.VALIDATE and bool(step.table)


class Applier:
    def __init__(self, conn: psycopg.Connection[Any], directory: Path, *, schema: str = DEFAULT_SCHEMA,
                 retries: int = 5, backoff: float = 1.0, progress: Progress | None = None,
                 monitor_dsn: str | None = None, monitor_interval: float = 1.0,
                 long_transaction_seconds: int = 60, wait: float = 0.0,
                 wait_for_transactions: float = 300.0) -> None:
        self.conn = conn
        self.directory = Path(directory)
        self.schema = schema
        self.retries = retries
        self.say = progress or (lambda _m: None)
        self.lock_retry = LockRetry(retries, backoff, self.say)
        # Build progress needs a second connection (the first one is busy building).
        self.monitor_dsn = monitor_dsn if progress is not None else None
        self.monitor_interval = monitor_interval
        self.states = ObjectStates(conn, self.say)
        self.long_transaction_seconds = long_transaction_seconds
        self.wait = wait              # seconds to wait for another applier's lock
        # Before each concurrent build: how long to wait for the transactions it would wait for (waits).
        self.transaction_wait = TransactionWait(conn, wait_for_transactions, self.say)
        self.watch_dsn: str | None = conninfo(conn)

    # -- public operations --------------------------------------------------

    def apply(self, phases: list[int] | None = None, *, through: int | None = None,
              dry_run: bool = False) -> Report:
        m = load(self.directory)
        history = History(self.conn, m.id, self.schema)
        report = Report(m.id)
        if phases and through is not None:
            raise InputError("use --phase or --through, not both")
        selected = [m.phase(n) for n in phases] if phases else m.phases
        if through is not None:
            selected = [p for p in m.phases if p.number <= through]
        if dry_run:
            check_version(self.conn.info.server_version)
            report.warnings.extend(self.states.long_transactions(self.long_transaction_seconds))
            return self._dry_run(history, selected, report)
        self._prepare_session(m.phases)
        check_creates(self.conn, selected, self.schema)
        report.warnings.extend(self.states.long_transactions(self.long_transaction_seconds))
        for w in report.warnings:
            self.say(f"warning: {w}")
        with self._locked(history):
            states = history.states()
            for phase in selected:
                if states.get(phase.number) == PhaseState.APPLIED and self._objects_valid(phase):
                    report.phases_skipped.append(phase.number)
                    self.say(f"phase {phase.number} already applied")
                    continue
                self._run_phase(history, phase, Direction.UP, report)
                report.phases_run.append(phase.number)
        report.warnings.extend(self.transaction_wait.told + self.lock_retry.told)
        return report

    def rollback(self, phases: list[int] | None = None, *, force: bool = False) -> Report:
        """Undo phases, last first; refused (unless ``force``) where a later migration relies on what goes."""
        m = load(self.directory)
        history = History(self.conn, m.id, self.schema)
        report = Report(m.id)
        selected = [m.phase(n) for n in phases] if phases else list(m.phases)
        self._prepare_session(m.phases)
        with self._locked(history):
            states = history.states(ADVISORY_KEY)       # a phase whose run died is undone too (p23)
            todo = []
            for phase in reversed(selected):
                if phases is None and states.get(phase.number) in (None, PhaseState.ROLLED_BACK):
                    report.phases_skipped.append(phase.number)
                    self._by_hand(phase, report)
                else:
                    todo.append(phase)
            self._check_dependents(history, todo, force, report)
            self._check_own_drops(m.phases, states, todo, force, report)
            for phase in todo:
                self._run_phase(history, phase, Direction.DOWN, report)
                report.phases_run.append(phase.number)
        report.warnings.extend(self.transaction_wait.told + self.lock_retry.told)
        return report

    def _by_hand(self, phase: Phase, report: Report) -> None:
        """A phase pgtune never applied whose indexes stand as planned: its up script was run by hand (or someone
        built the same); rollback leaves what pgtune did not build, and says how to undo it (u2's R1)."""
        found = built_outside(self.states, phase)
        if found:
            report.warnings.append(
                f"phase {phase.number} was not applied by pgtune, yet {', '.join(found)} stand as planned (built "
                f"outside pgtune apply): left in place; run {phase.down_file} by hand to remove them, or pgtune "
                f"apply --phase {phase.number} to adopt them (then rollback drops them)")

    def _check_own_drops(self, phases: list[Phase], states: dict[int, PhaseState], todo: list[Phase], force: bool,
                         report: Report) -> None:
        """Refuse to drop an index a later phase of this migration, applied and staying, dropped another in favour
        of (u2's R6: the index a new one made redundant): the table would be left with neither."""
        going = {Name(s.schema, s.name) for p in todo for s in p.up if s.is_index and s.action == Action.CREATE}
        staying = [p for p in phases if p not in todo and states.get(p.number) == PhaseState.APPLIED]
        for p in staying:
            for s in p.up:
                if s.action == Action.DROP and s.relies_on in going:
                    why = (f"phase {p.number} dropped {s.name} because {s.relies_on} serves in its place, and this "
                           f"rollback drops {s.relies_on}")
                    if not force:
                        raise ApplyFailed(f"rollback refused: {why}; roll phase {p.number} back first, or use --force")
                    report.warnings.append(f"--force: {why}")
                    return

    def _check_dependents(self, history: History, phases: list[Phase], force: bool, report: Report) -> None:
        """Refuse to drop an index that a later migration, applied now, relies on (issue 23.6).

        A health migration that dropped an index because this migration's index
        serves in its place relies on it: rolling this one back would leave a
        foreign key or a query with neither. Its history says so (relies_on).
        """
        keys = [s.key for p in phases for s in p.down if s.action == Action.DROP and s.is_index and s.key]
        mine = [k for k in keys
                if (own := history.ownership(k)) is not None and own.owned and own.direction == Direction.UP]
        found = history.dependents(mine)
        if not found:
            return
        d = found[0]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        why = (f"migration {d.migration_id} relies on {d.relies_on.removeprefix('index ')}, which this rollback "
               f"drops: it dropped {d.dropped.removeprefix('index ')} because that index serves in its place{more}")
        if not force:
            raise ApplyFailed(f"rollback refused: {why}; roll {d.migration_id} back first, or use --force")
        report.warnings.append(f"--force: {why}")
        self.say(f"warning: --force: {why}")

    def status(self) -> Status:
        m = load(self.directory, check=False)
        bad = mismatches(m, self.directory)
        # A Prisma-layout migration: Prisma's ledger says what it deployed; pgtune's own history comes first.
        states = {**prisma.phase_states(self.conn, self.directory, m.id),
                  **History(self.conn, m.id, self.schema).states(ADVISORY_KEY)}
        out = []
        for phase in m.phases:
            state = states.get(phase.number, PhaseState.PENDING)
            ps = PhaseStatus(phase.number, phase.name, state)
            if state == PhaseState.APPLIED:
                ps.missing, ps.invalid = problems(self.states, phase)
            elif state == PhaseState.FAILED:    # what its run did not make yet, and the INVALID builds it left
                ps.missing, ps.invalid = problems(self.states, phase)[0], leftovers(self.states, phase)
            elif not prisma.is_prisma_plan(self.directory):     # Prisma's: pgtune apply never adopts it
                ps.built_outside = built_outside(self.states, phase)
            ps.sizes = self._sizes(phase)
            out.append(ps)
        return Status(m.id, out, bad)

    def _sizes(self, phase: Phase) -> list[IndexSize]:
        """Each planned or existing index: its size at emit (forecast or measured) and now (a partitioned
        index: the sum over its partitions' indexes)."""
        planned = [(ix.schema, ix.name, ix.forecast_bytes) for ix in phase.indexes]
        planned += [(e.schema, e.name, e.bytes) for e in phase.existing]
        found = self.states.indexes([(s, n) for s, n, _ in planned])
        return [IndexSize(n, b, found[(s, n)].bytes if (s, n) in found else None) for s, n, b in planned]

    # -- session ------------------------------------------------------------

    def _prepare_session(self, phases: list[Phase]) -> None:
        check_server(self.conn, phases)
        force_session_settings(self.conn)
        if self.conn.info.server_version >= 140000:
            # A killed client's build is cancelled within seconds instead of running on, holding the lock.
            self.conn.execute(f"SET /* pgtune */ client_connection_check_interval = '{CLIENT_CHECK_INTERVAL}'")

    # -- phases -------------------------------------------------------------

    def _dry_run(self, history: History, selected: list[Phase], report: Report) -> Report:
        states = history.states()
        for phase in selected:
            if states.get(phase.number) == PhaseState.APPLIED and self._objects_valid(phase):
                report.phases_skipped.append(phase.number)
                continue
            report.steps += [StepResult(phase.number, s.text, Outcome.WOULD_RUN) for s in phase.up]
        return report

    def _objects_valid(self, phase: Phase) -> bool:
        missing, invalid = problems(self.states, phase)
        return not missing and not invalid

    def _run_phase(self, history: History, phase: Phase, direction: Direction, report: Report) -> None:
        checksum = sha256(script(self.directory, phase.file(direction)))
        steps = phase.steps(direction)
        self._check_partitions(phase, steps)
        try:
            self._wait_for_transactions(phase, steps)
        except ApplyFailed as exc:          # a failed run's INVALID leftover stays until then: say so (p14 F3)
            left = leftovers(self.states, phase) if direction == Direction.UP else []
            raise ApplyFailed(f"{exc}; left by the last run: {', '.join(left)}" if left else str(exc)) from None
        self.say(f"phase {phase.number} {direction}: {phase.name}")
        guard = StepGuard(self.states, history, phase, direction, checksum, self._drop_if_invalid)
        try:
            for step in steps:
                report.steps.append(self._run_step(history, guard, step))
        except ApplyFailed:
            history.set_state(phase.number, PhaseState.FAILED, checksum)
            raise
        except BaseException as exc:
            # Part of the phase ran (c19: left as it was, a phase rolled back before read rolled_back with the
            # interrupted run's index standing, and rollback left it as 'built outside pgtune apply'): failed, so
            # status shows its leftovers and rollback undoes what it built. Ctrl-C anywhere in the phase, not only
            # in a step's statement: between steps, in a step's checks, as its history row is written (r20).
            if isinstance(exc, (Interrupted, KeyboardInterrupt)) or interrupted_by(exc):
                self._failed_by_interrupt(history, phase, checksum)
            raise
        history.set_state(phase.number, PhaseState.APPLIED if direction == Direction.UP else PhaseState.ROLLED_BACK,
                          checksum)
        self._flush_stats()

    def _failed_by_interrupt(self, history: History, phase: Phase, checksum: str) -> None:
        """Record a phase Ctrl-C stopped as failed, where the session still answers (the interrupt can leave a
        statement's result unread: then the state stays, as after a lost connection)."""
        if lost(self.conn):
            return
        with contextlib.suppress(psycopg.Error):
            history.set_state(phase.number, PhaseState.FAILED, checksum)

    def _wait_for_transactions(self, phase: Phase, steps: list[Step]) -> None:
        """Before anything of the phase runs: the transactions its concurrent steps would wait for, and those its
        table-locking steps would queue behind, waited for (or apply stops, naming them, with nothing of the phase
        done). Each step looks again before it runs."""
        concurrent = [s for s in steps if _concurrent(s)]
        snapshots = any(s.action != Action.DROP for s in concurrent)
        for (schema, table), share in by_table(concurrent).items():
            self.transaction_wait.before(f"phase {phase.number}", schema, table, snapshots=snapshots, share=share)
        for (schema, table), share in by_table([s for s in steps if _queues_the_table(s)]).items():
            self.transaction_wait.before(f"phase {phase.number}", schema, table, snapshots=False, queue=True,
                                         share=share)

    def _check_partitions(self, phase: Phase, steps: list[Step]) -> None:
        """Before anything of the phase runs: each partitioned table it indexes has the partitions of emit.

        A partition added since emit would leave the partitioned index INVALID
        (its index is not in the reviewed scripts), unless the partitioned
        index exists already: PostgreSQL then gave the new partition its index.
        """
        for s in steps:
            if s.kind != ObjectKind.INDEX_ON_ONLY:
                continue
            now = self.states.partitions(s.schema, s.table)
            gone = sorted(set(s.partitions) - now, key=str)
            index = Name(s.schema, s.name)
            added = sorted((p for p in now - set(s.partitions)
                            if self.states.indexed_under(index, p.schema, p.name) is None), key=str)
            if gone:
                raise ApplyFailed(f"phase {phase.number}: partition {', '.join(map(str, gone))} of "
                                  f"{ddl.qualified(s.schema, s.table)} is gone since emit (detached or dropped): "
                                  "re-emit the migration")
            if added:
                raise ApplyFailed(f"phase {phase.number}: {ddl.qualified(s.schema, s.table)} has partitions added "
                                  f"since emit ({', '.join(map(str, added))}); the reviewed scripts do not build "
                                  f"their index, so {s.name} would stay INVALID: re-emit the migration")

    def _flush_stats(self) -> None:
        """Publish this backend's ANALYZE and write counters now, not within the next second."""
        if self.conn.info.server_version >= 150000:
            self.conn.execute("SELECT /* pgtune */ pg_stat_force_next_flush()")

    def _run_step(self, history: History, guard: StepGuard, step: Step) -> StepResult:
        """Run one step: one statement, or one BEGIN … COMMIT block as a single transaction."""
        skip = guard.before(step)
        if skip is not None:
            return skip
        was_not_null = (step.kind == ObjectKind.NOT_NULL
                        and self.states.column_not_null(step.schema, step.table, step.name))
        concurrent = _concurrent(step)
        if concurrent:
            self.transaction_wait.before(f"{step.action} {step.label}", step.schema, step.table,
                                         snapshots=step.action != Action.DROP, share=share_only(step))
        row: list[tuple[int, float]] = []

        def attempt() -> None:
            if _queues_the_table(step):
                self.transaction_wait.before(f"{step.action} {step.label}", step.schema, step.table,
                                             snapshots=False, queue=True, share=share_only(step))
            self._attempt(history, guard, step, concurrent, row)

        self.lock_retry.run(attempt, what=f"on {one_line(step.text, 70)}", give_up=lambda n, why: (
            ApplyFailed(f"phase {guard.phase.number}: gave up after {n} lock timeouts on: {one_line(step.text, 90)} "
                        f"(the last: {why})")))
        owned, oid = guard.after(step, was_not_null)
        row_id, started = row[0]
        history.end(row_id, StepStatus.DONE, None, time.monotonic() - started, owned=owned, oid=oid)
        return StepResult(guard.phase.number, step.text, Outcome.DONE, guard.notes.get(step.text, ""))

    def _attempt(self, history: History, guard: StepGuard, step: Step, concurrent: bool,
                 row: list[tuple[int, float]]) -> None:
        """One try of a step, recorded in the history; a lock timeout is cleaned up after and re-raised."""
        phase = guard.phase.number
        row_id = history.start(phase, guard.direction, step.text, guard.checksum, step.key,
                               index_key(step.relies_on) if step.relies_on is not None else None)
        started = time.monotonic()
        row[:] = [(row_id, started)]
        try:
            self._execute_watched(step, concurrent)
        except KeyboardInterrupt:
            # psycopg has asked the server to cancel the statement and waited for it.
            left = self._interrupted(history, row_id, step if concurrent else None, time.monotonic() - started)
            again = "apply" if guard.direction == Direction.UP else "rollback"     # r20: rollback's said apply
            raise Interrupted(f"interrupted during phase {phase} ({one_line(step.text, 70)}); "
                              + (f"{left}; " if left else "nothing half built is left; ")
                              + f"re-run {again} to continue") from None
        except (pgerrors.LockNotAvailable, pgerrors.DeadlockDetected, LockWaitTimeout) as exc:
            history.end(row_id, StepStatus.FAILED, one_line(str(exc), 500), time.monotonic() - started)
            self._clean_after(step, concurrent)
            raise
        except WaitedTooLong as exc:
            history.end(row_id, StepStatus.FAILED, one_line(str(exc), 500), time.monotonic() - started)
            try:
                self._clean_after(step, concurrent)
            except ApplyFailed as left:         # the transaction it waited for holds the table: say both
                raise ApplyFailed(f"phase {phase}: {exc}; then {left}") from None
            raise ApplyFailed(f"phase {phase}: {exc}") from None
        except psycopg.Error as exc:
            if lost(self.conn):
                raise from_psycopg(exc) from None   # the connection is gone: nothing more can be recorded
            msg = one_line(str(exc), 500)
            history.end(row_id, StepStatus.FAILED, msg, time.monotonic() - started)
            self._clean_after(step, concurrent)
            if step.kind == ObjectKind.EXTENSION and isinstance(exc, pgerrors.InsufficientPrivilege):
                raise ApplyFailed(_may_not_create(phase, step.name, self.conn.info.user)) from None
            raise ApplyFailed(f"phase {phase} failed on {one_line(step.text, 90)}: {msg}") from None

    def _execute_watched(self, step: Step, concurrent: bool) -> None:
        """A concurrent statement runs without lock_timeout while a second connection bounds its lock waits.

        Its waits for other transactions (its last phase waits for every older
        snapshot) block nobody and are never cut; a wait on a relation lock is
        cancelled once it lasts lock_timeout, as the server would (LockWatch).
        Where no second connection can be opened, lock_timeout stays on.
        """
        pid = self.conn.info.backend_pid
        limit = to_ms(self._setting("lock_timeout")) / 1000.0 if concurrent else 0.0
        building = concurrent and step.action == Action.CREATE
        with BuildMonitor(self.monitor_dsn if building else None, pid, step.name, self.say, self.monitor_interval), \
                LockWatch(self.watch_dsn if concurrent else None, pid, limit, f"{step.action} {step.label}",
                          self.say, patience=self.transaction_wait.seconds) as watch:
            if not watch.available:
                self._execute(step)
                return
            previous = self._setting("lock_timeout")
            self.conn.execute("SET /* pgtune */ lock_timeout = 0")
            try:
                self._execute(step)
            except pgerrors.QueryCanceled:
                if watch.cancelled:
                    raise LockWaitTimeout(f"lock timeout: {watch.cancelled}") from None
                if watch.gave_up:
                    raise WaitedTooLong(f"{step.action} {step.label} was cancelled: it {watch.gave_up}; end them, "
                                        "or apply again with a longer --wait-for-transactions") from None
                raise
            finally:
                if not (lost(self.conn)):
                    self.conn.execute("SELECT /* pgtune */ pg_catalog.set_config('lock_timeout', %s, false)",
                                      (previous,))

    def _setting(self, name: str) -> str:
        row = self.conn.execute("SELECT /* pgtune */ pg_catalog.current_setting(%s)", (name,)).fetchone()
        return str(row[0]) if row else ""

    def _execute(self, step: Step) -> None:
        if step.block:
            with self.conn.transaction():
                for st in step.sql:
                    self.conn.execute(_own(st))
        else:
            self.conn.execute(_own(step.sql[0]))

    def _clean_after(self, step: Step, concurrent: bool) -> None:
        """What a failed concurrent build or REINDEX left behind: an INVALID index, or its ``_ccnew`` copy."""
        if not concurrent:
            return
        if step.action == Action.CREATE:
            self._drop_if_invalid(step.schema, step.name)
        else:
            self._drop_reindex_leftovers(step.schema, step.name)

    # -- leftovers ----------------------------------------------------------

    def _interrupted(self, history: History, row_id: int, building: Step | None, seconds: float) -> str:
        """Record the interruption and drop the build's INVALID leftover; say what could not be cleaned."""
        if lost(self.conn):
            return "the connection is gone: a re-run drops any INVALID leftover"
        history.end(row_id, StepStatus.INTERRUPTED, "interrupted by the user", seconds)
        if building is None:
            return ""
        # Someone pressing Ctrl-C wants out: one short try, not the script's lock_timeout and retries.
        self.conn.execute(f"SET /* pgtune */ lock_timeout = '{INTERRUPT_CLEANUP_TIMEOUT}'")
        try:
            self._drop_if_invalid(building.schema, building.name, retries=0)
            self._drop_reindex_leftovers(building.schema, building.name, retries=0)
        except ApplyFailed:
            return (f"the INVALID index {ddl.qualified(building.schema, building.name)} is left (a transaction "
                    "holds its table): a re-run drops and rebuilds it")
        return "the half-built index is dropped"

    def _drop_reindex_leftovers(self, schema: str, name: str, retries: int | None = None) -> None:
        """Drop the INVALID ``_ccnew`` copy a failed REINDEX CONCURRENTLY of the index left beside it."""
        for leftover in self.states.reindex_leftovers(schema, name):
            self._drop_if_invalid(schema, leftover, retries)

    def _drop_if_invalid(self, schema: str, name: str, retries: int | None = None) -> None:
        """Drop the INVALID leftover of an interrupted or failed build, retrying lock timeouts like a build."""
        st = self.states.index(schema, name)
        if st is None or st.valid or st.partitioned:
            return
        self.say(f"dropping INVALID index {ddl.qualified(schema, name)} left by an interrupted build")
        self.lock_retry.run(lambda: self.conn.execute(_own(ddl.drop_index(schema, name))), what="dropping the "
                            "INVALID index", retries=retries, give_up=lambda n, _why: ApplyFailed(
                                f"could not drop the INVALID index {ddl.qualified(schema, name)} left by a "
                                f"timed-out build: {n + 1} lock timeouts in a row; it stays INVALID (unused by "
                                "queries): re-run apply once the blocking transaction ends"))

    # -- lock ---------------------------------------------------------------

    def _locked(self, history: History) -> AdvisoryLock:
        return AdvisoryLock(self.conn, ADVISORY_KEY, wait=self.wait, say=self.say, on_acquired=history.ensure)
