"""Apply: run a migration's phases against a live database, and roll them back.

Safety rules, each for a reason a DBA has been bitten by:

* A *session-level* advisory lock keeps two appliers apart. A transaction-level
  lock cannot be used: CREATE INDEX CONCURRENTLY waits for every older
  transaction, including the one holding the lock, and would hang.
* Every statement runs in autocommit, after the script's own SET lock_timeout,
  so a blocked DDL gives up quickly instead of queueing application traffic
  behind it; lock timeouts are retried with a bounded backoff, and so is the
  cleanup of what a timed-out build left.
* Crashes are reconciled from the catalog, not from a "dirty" flag: an index
  that exists, is valid and has the planned definition is done; an INVALID
  leftover of an interrupted concurrent build is dropped concurrently and rebuilt.
* What exists is compared by definition, not by name, and the history records
  the OID of every object pgtune built: an index of the same name but another
  definition is refused, and rollback drops only what this migration created.
* A client that dies leaves no orphan build behind for long:
  ``client_connection_check_interval`` makes the server notice within seconds.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors as pgerrors

from .. import ddl
from .._text import Progress, one_line
from ..connect import force_session_settings
from ..errors import ApplyFailed, InputError, Interrupted, ReadOnlyServer, UnsupportedServer, from_psycopg
from ..history import DEFAULT_SCHEMA, History, PhaseState, StepStatus
from ..plan import Migration, Phase, PhaseStep, load, mismatches, script, sha256
from ..script import Action, ObjectKind, ObjectRef, Unit, split, units
from .catalog import ObjectStates
from .lock import AdvisoryLock
from .monitor import BuildMonitor
from .report import IndexSize, Outcome, PhaseStatus, Report, Status, StepResult

ADVISORY_KEY = 0x70677475  # "pgtu": one applier per database
TAG = "/* pgtune */"       # marks what pgtune runs, so suggest leaves it out of the workload
CLIENT_CHECK_INTERVAL = "2s"  # how soon the server cancels the build of a client that died
INTERRUPT_CLEANUP_TIMEOUT = "3s"  # after Ctrl-C: how long to wait to drop the half-built index


def _own(stmt: str) -> str:
    """``stmt`` tagged at its end: PostgreSQL 18's pg_stat_statements drops a leading comment."""
    return f"{stmt}\n{TAG}"


def check_server(conn: psycopg.Connection[Any]) -> None:
    check_version(conn.info.server_version)
    row = conn.execute("SELECT /* pgtune */ pg_catalog.pg_is_in_recovery()").fetchone()
    if row and row[0]:
        raise ReadOnlyServer("this server is a hot standby (in recovery): it cannot build indexes or "
                             "change constraints; apply and rollback on the primary")


def check_version(v: int) -> None:
    """Refuse concurrent builds where they can silently corrupt indexes."""
    if 140000 <= v < 140004:
        raise UnsupportedServer(
            f"PostgreSQL {v // 10000}.{v % 100} can corrupt indexes built CONCURRENTLY "
            "(fixed in 14.4): upgrade to 14.4 or later before applying")


class Applier:
    def __init__(self, conn: psycopg.Connection[Any], directory: Path, *, schema: str = DEFAULT_SCHEMA,
                 retries: int = 5, backoff: float = 1.0, progress: Progress | None = None,
                 monitor_dsn: str | None = None, monitor_interval: float = 1.0,
                 long_transaction_seconds: int = 60, wait: float = 0.0) -> None:
        self.conn = conn
        self.directory = Path(directory)
        self.schema = schema
        self.retries = retries
        self.backoff = backoff
        self.say = progress or (lambda _m: None)
        # Build progress needs a second connection (the first one is busy building).
        self.monitor_dsn = monitor_dsn if progress is not None else None
        self.monitor_interval = monitor_interval
        self.states = ObjectStates(conn, long_transaction_seconds)
        self.wait = wait              # seconds to wait for another applier's lock

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
            report.warnings.extend(self.states.long_transactions())
            return self._dry_run(m, history, selected, report)
        self._prepare_session()
        report.warnings.extend(self.states.long_transactions())
        for w in report.warnings:
            self.say(f"warning: {w}")
        with self._locked(history):
            states = history.states()
            for phase in selected:
                if states.get(phase.number) == PhaseState.APPLIED and self._objects_valid(phase):
                    report.phases_skipped.append(phase.number)
                    self.say(f"phase {phase.number} already applied")
                    continue
                self._run_phase(history, phase, "up", report)
                report.phases_run.append(phase.number)
        return report

    def rollback(self, phases: list[int] | None = None) -> Report:
        m = load(self.directory)
        history = History(self.conn, m.id, self.schema)
        report = Report(m.id)
        selected = [m.phase(n) for n in phases] if phases else list(m.phases)
        self._prepare_session()
        with self._locked(history):
            states = history.states()
            for phase in reversed(selected):
                if phases is None and states.get(phase.number) in (None, PhaseState.ROLLED_BACK):
                    report.phases_skipped.append(phase.number)
                    continue
                self._run_phase(history, phase, "down", report)
                report.phases_run.append(phase.number)
        return report

    def status(self) -> Status:
        m = load(self.directory, check=False)
        bad = mismatches(m, self.directory)
        states = History(self.conn, m.id, self.schema).states()
        out = []
        for phase in m.phases:
            state = states.get(phase.number, "pending")
            ps = PhaseStatus(phase.number, phase.name, state)
            if state == PhaseState.APPLIED:
                ps.missing, ps.invalid = self._problems(phase)
            found = self.states.indexes([(ix.schema, ix.name) for ix in phase.indexes]
                                        + [(e.schema, e.name) for e in phase.existing])
            ps.sizes = [IndexSize(ix.name, ix.forecast_bytes,
                                  found[(ix.schema, ix.name)].bytes if (ix.schema, ix.name) in found else None)
                        for ix in phase.indexes]
            ps.sizes += [IndexSize(e.name, e.bytes, found[(e.schema, e.name)].bytes
                                   if (e.schema, e.name) in found else None) for e in phase.existing]
            out.append(ps)
        return Status(m.id, out, bad)

    # -- session ------------------------------------------------------------

    def _prepare_session(self) -> None:
        check_server(self.conn)
        force_session_settings(self.conn)
        if self.conn.info.server_version >= 140000:
            # A killed client's build is cancelled within seconds instead of running on, holding the lock.
            self.conn.execute(f"SET /* pgtune */ client_connection_check_interval = '{CLIENT_CHECK_INTERVAL}'")

    # -- phases -------------------------------------------------------------

    def _dry_run(self, m: Migration, history: History, selected: list[Phase], report: Report) -> Report:
        states = history.states()
        for phase in selected:
            if states.get(phase.number) == PhaseState.APPLIED and self._objects_valid(phase):
                report.phases_skipped.append(phase.number)
                continue
            for unit in units(split(script(self.directory, phase.up_file), phase.up_file)):
                report.steps.append(StepResult(phase.number, unit.text, Outcome.WOULD_RUN))
        return report

    def _objects_valid(self, phase: Phase) -> bool:
        missing, invalid = self._problems(phase)
        return not missing and not invalid

    def _problems(self, phase: Phase) -> tuple[list[str], list[str]]:
        """(missing, invalid) planned objects of an applied phase, from the catalog."""
        missing: list[str] = []
        invalid: list[str] = []
        if phase.existing:
            now = self.states.indexes([(e.schema, e.name) for e in phase.existing])
            for e in phase.existing:
                st = now.get((e.schema, e.name))
                if phase.step == PhaseStep.DROP_INDEXES:
                    if st is not None:
                        invalid.append(f"{e.name} (still present)")
                elif st is None:
                    missing.append(e.name)
                elif not st.valid:
                    invalid.append(e.name)
        if phase.existing_constraints:
            states = self.states.constraints([(c.schema, c.table, c.name) for c in phase.existing_constraints])
            for ec in phase.existing_constraints:
                con = states.get((ec.schema, ec.table, ec.name))
                if con is None:
                    missing.append(ec.name)
                elif not con[1]:
                    invalid.append(f"{ec.name} (NOT VALID)")
        found = self.states.indexes([(ix.schema, ix.name) for ix in phase.indexes])
        for ix in phase.indexes:
            st = found.get((ix.schema, ix.name))
            if st is None:
                missing.append(ix.name)
            elif not ddl.same_index(ix.ddl, st.definition):
                invalid.append(f"{ix.name} (different definition)")
            elif not st.valid:
                invalid.append(ix.name)
        if not phase.constraints:
            return missing, invalid
        cons = self.states.constraints([(c.schema, c.table, c.name) for c in phase.constraints])
        not_null = self.states.not_null(phase)
        for c in phase.constraints:
            con = cons.get((c.schema, c.table, c.name))
            column_done = bool(c.set_not_null) and not_null.get((c.schema, c.table, c.columns[0])) is True
            if phase.step == PhaseStep.VALIDATE and c.set_not_null:
                if not column_done:
                    invalid.append(f"{c.table}.{c.columns[0]} (still nullable)")
            elif column_done:
                continue          # the helper check did its job and was dropped
            elif con is None:
                missing.append(c.name)
            elif phase.step == PhaseStep.VALIDATE and not con[1]:
                invalid.append(f"{c.name} (NOT VALID)")
        return missing, invalid

    def _run_phase(self, history: History, phase: Phase, direction: str, report: Report) -> None:
        name = phase.up_file if direction == "up" else phase.down_file
        text = script(self.directory, name)
        checksum = sha256(text)
        todo = units(split(text, name))       # the whole file parses before anything runs
        self.say(f"phase {phase.number} {direction}: {phase.name}")
        try:
            for unit in todo:
                report.steps.append(self._run_unit(history, phase, direction, unit, checksum))
        except ApplyFailed:
            history.set_state(phase.number, PhaseState.FAILED, checksum)
            raise
        history.set_state(phase.number, PhaseState.APPLIED if direction == "up" else PhaseState.ROLLED_BACK,
                          checksum)
        self._flush_stats()

    def _flush_stats(self) -> None:
        """Publish this backend's ANALYZE and write counters now, not within the next second."""
        if self.conn.info.server_version >= 150000:
            self.conn.execute("SELECT /* pgtune */ pg_stat_force_next_flush()")

    def _run_unit(self, history: History, phase: Phase, direction: str, unit: Unit, checksum: str) -> StepResult:
        """Run one statement, or one BEGIN … COMMIT block as a single transaction."""
        obj = unit.target
        key = obj.key if obj is not None else None
        # A down script creates too: a drop phase's rollback builds the dropped index again.
        if (obj is not None and unit.action == Action.CREATE
                and (direction == "up" or obj.kind == ObjectKind.INDEX)):
            skip = self._before_create(history, phase, unit, obj, checksum)
            if skip is not None:
                return skip
        if obj is not None and unit.action in (Action.DROP, Action.REBUILD):
            skip = self._before_drop(history, phase, direction, unit, obj, checksum)
            if skip is not None:
                return skip
        was_not_null = obj is not None and obj.kind == ObjectKind.NOT_NULL and self.states.column_not_null(obj)
        building = obj if (obj is not None and obj.kind == ObjectKind.INDEX and unit.action == Action.CREATE) else None
        rebuilding = obj if unit.action == Action.REBUILD else None
        attempt = 0
        while True:
            row_id = history.start(phase.number, direction, unit.text, checksum, key)
            started = time.monotonic()
            try:
                with BuildMonitor(self.monitor_dsn if building else None, self.conn.info.backend_pid,
                                  building.name if building else "", self.say, self.monitor_interval):
                    if unit.block:
                        with self.conn.transaction():
                            for st in unit.statements:
                                self.conn.execute(_own(st))
                    else:
                        self.conn.execute(_own(unit.statements[0]))
            except KeyboardInterrupt:
                # psycopg has asked the server to cancel the statement and waited for it.
                left = self._interrupted(history, row_id, building or rebuilding, time.monotonic() - started)
                raise Interrupted(f"interrupted during phase {phase.number} ({one_line(unit.text, 70)}); "
                                  + (f"{left}; " if left else "nothing half built is left; ")
                                  + "re-run apply to continue") from None
            except pgerrors.LockNotAvailable as exc:
                history.end(row_id, StepStatus.FAILED, one_line(str(exc), 500), time.monotonic() - started)
                if building is not None:
                    self._drop_if_invalid(building)
                if rebuilding is not None:
                    self._drop_reindex_leftovers(rebuilding)
                attempt += 1
                if attempt > self.retries:
                    raise ApplyFailed(f"phase {phase.number}: gave up after {self.retries} lock "
                                      f"timeouts on: {one_line(unit.text, 90)}") from None
                wait = self.backoff * 2 ** (attempt - 1)
                self.say(f"lock timeout; retry {attempt}/{self.retries} in {wait:.1f}s")
                time.sleep(wait)
                continue
            except psycopg.Error as exc:
                if self.conn.broken or self.conn.closed:
                    raise from_psycopg(exc) from None   # the connection is gone: nothing more can be recorded
                msg = one_line(str(exc), 500)
                history.end(row_id, StepStatus.FAILED, msg, time.monotonic() - started)
                if building is not None:
                    self._drop_if_invalid(building)
                if rebuilding is not None:
                    self._drop_reindex_leftovers(rebuilding)
                raise ApplyFailed(f"phase {phase.number} failed on {one_line(unit.text, 90)}: {msg}") from None
            owned, oid = self._after(obj, unit, direction, was_not_null)
            history.end(row_id, StepStatus.DONE, None, time.monotonic() - started, owned=owned, oid=oid)
            return StepResult(phase.number, unit.text, Outcome.DONE)

    # -- what exists, and whose it is ----------------------------------------

    def _before_create(self, history: History, phase: Phase, unit: Unit, obj: ObjectRef,
                       checksum: str) -> StepResult | None:
        """None to run the unit; else why it is skipped (an error when the name is taken by another object)."""
        own = history.ownership(obj.key)
        if obj.kind == ObjectKind.INDEX:
            st = self.states.indexes([(obj.schema, obj.name)]).get((obj.schema, obj.name))
            if st is None:
                return None
            if not ddl.same_index(unit.statements[0], st.definition):
                raise ApplyFailed(
                    f"phase {phase.number}: {obj.label} already exists with another definition "
                    f"({one_line(st.definition, 200)}); pgtune will neither adopt nor replace it: "
                    "rename or drop it, or re-emit the migration (emit picks a free name)")
            if not st.valid:
                self._drop_if_invalid(obj)
                return None
            ours = bool(own and own.owned and own.oid == st.oid) or history.attempted(obj.key)
            note = ("index exists and is valid (built by this migration)" if ours else
                    "an identical index of this name already existed; it is not pgtune's: rollback leaves it")
            history.log(phase.number, "up", unit.text, checksum, StepStatus.SKIPPED, obj.key, owned=ours,
                        oid=st.oid, note=note)
            return StepResult(phase.number, unit.text, Outcome.SKIPPED, note)
        if obj.kind == ObjectKind.CONSTRAINT:
            con = self.states.constraints([(obj.schema, obj.table, obj.name)]).get((obj.schema, obj.table, obj.name))
            if con is None:
                return None
            if not (bool(own and own.owned and own.oid == con[0]) or history.attempted(obj.key)):
                raise ApplyFailed(
                    f"phase {phase.number}: {obj.label} already exists and was not created by this migration; "
                    "pgtune will not adopt it (rollback would drop it): rename or drop it, or re-emit")
            note = "constraint exists (created by this migration)"
            history.log(phase.number, "up", unit.text, checksum, StepStatus.SKIPPED, obj.key, owned=True,
                        oid=con[0], note=note)
            return StepResult(phase.number, unit.text, Outcome.SKIPPED, note)
        return None

    def _before_drop(self, history: History, phase: Phase, direction: str, unit: Unit, obj: ObjectRef,
                     checksum: str) -> StepResult | None:
        """None to run a DROP (or REINDEX); else why it is skipped. Rollback drops only what this migration created.

        An existing index a health phase drops or rebuilds must still have
        the definition it had at emit: the down script rebuilds that one.
        """
        if direction == "up":
            planned = phase.existing_index(obj.schema, obj.name) if obj.kind == ObjectKind.INDEX else None
            if planned is None:
                return None   # an up script's own drop (the NOT NULL helper check): part of the plan
            st = self.states.indexes([(obj.schema, obj.name)]).get((obj.schema, obj.name))
            if st is None:
                if unit.action == Action.REBUILD:
                    raise ApplyFailed(f"phase {phase.number}: {obj.label} no longer exists: nothing to rebuild; "
                                      "re-run pgtune health")
                note = "already gone"
            elif not ddl.same_index(planned.definition, st.definition):
                raise ApplyFailed(
                    f"phase {phase.number}: {obj.label} has changed since emit (now {one_line(st.definition, 200)}); "
                    "pgtune will not drop or rebuild an index it did not review: re-run pgtune health --emit")
            else:
                return None
            history.log(phase.number, direction, unit.text, checksum, StepStatus.SKIPPED, obj.key, owned=False,
                        note=note)
            return StepResult(phase.number, unit.text, Outcome.SKIPPED, note)
        own = history.ownership(obj.key)
        oid: int | None = None
        if obj.kind == ObjectKind.INDEX:
            st = self.states.indexes([(obj.schema, obj.name)]).get((obj.schema, obj.name))
            present, oid = st is not None, (st.oid if st else None)
        elif obj.kind == ObjectKind.CONSTRAINT:
            con = self.states.constraints([(obj.schema, obj.table, obj.name)]).get((obj.schema, obj.table, obj.name))
            present, oid = con is not None, (con[0] if con else None)
        else:
            present = self.states.column_not_null(obj)
        if not present:
            note = "already gone"
        elif own is None or not own.owned or own.direction != "up" or (oid is not None and own.oid != oid):
            note = f"{obj.label} was not created by this migration: left in place"
        else:
            return None
        history.log(phase.number, direction, unit.text, checksum, StepStatus.SKIPPED, obj.key, owned=False,
                    note=note)
        return StepResult(phase.number, unit.text, Outcome.SKIPPED, note)

    def _after(self, obj: ObjectRef | None, unit: Unit, direction: str,
               was_not_null: bool) -> tuple[bool | None, int | None]:
        """(owned, oid) to record once a unit ran."""
        if obj is None:
            return None, None
        if unit.action == Action.DROP:
            return False, None       # gone: nothing of this migration's is left to roll back
        if unit.action == Action.REBUILD:
            return None, None        # the same index, rebuilt: still not pgtune's
        if direction == "down":
            return None, None
        if obj.kind == ObjectKind.INDEX:
            st = self.states.indexes([(obj.schema, obj.name)]).get((obj.schema, obj.name))
            return (True, st.oid) if st else (None, None)
        if obj.kind == ObjectKind.CONSTRAINT:
            con = self.states.constraints([(obj.schema, obj.table, obj.name)]).get((obj.schema, obj.table, obj.name))
            return (True, con[0]) if con else (None, None)
        return (not was_not_null), None

    def _interrupted(self, history: History, row_id: int, building: ObjectRef | None, seconds: float) -> str:
        """Record the interruption and drop the build's INVALID leftover; say what could not be cleaned."""
        if self.conn.broken or self.conn.closed:
            return "the connection is gone: a re-run drops any INVALID leftover"
        history.end(row_id, StepStatus.INTERRUPTED, "interrupted by the user", seconds)
        if building is None:
            return ""
        # Someone pressing Ctrl-C wants out: one short try, not the script's lock_timeout and retries.
        self.conn.execute(f"SET /* pgtune */ lock_timeout = '{INTERRUPT_CLEANUP_TIMEOUT}'")
        try:
            self._drop_if_invalid(building, retries=0)
            self._drop_reindex_leftovers(building, retries=0)
        except ApplyFailed:
            return (f"the INVALID index {ddl.qualified(building.schema, building.name)} is left (a transaction "
                    "holds its table): a re-run drops and rebuilds it")
        return "the half-built index is dropped"

    def _drop_reindex_leftovers(self, obj: ObjectRef, retries: int | None = None) -> None:
        """Drop the INVALID ``_ccnew`` copy a failed REINDEX CONCURRENTLY of ``obj`` left beside it."""
        for name in self.states.reindex_leftovers(obj):
            self._drop_if_invalid(ObjectRef(ObjectKind.INDEX, obj.schema, name), retries)

    def _drop_if_invalid(self, obj: ObjectRef, retries: int | None = None) -> None:
        """Drop the INVALID leftover of an interrupted or failed build, retrying lock timeouts like a build."""
        retries = self.retries if retries is None else retries
        st = self.states.indexes([(obj.schema, obj.name)]).get((obj.schema, obj.name))
        if st is None or st.valid:
            return
        self.say(f"dropping INVALID index {ddl.qualified(obj.schema, obj.name)} left by an interrupted build")
        attempt = 0
        while True:
            try:
                self.conn.execute(_own(ddl.drop_index(obj.schema, obj.name)))
                return
            except pgerrors.LockNotAvailable:
                attempt += 1
                if attempt > retries:
                    raise ApplyFailed(
                        f"could not drop the INVALID index {ddl.qualified(obj.schema, obj.name)} left by a "
                        f"timed-out build: {retries + 1} lock timeouts in a row; it stays INVALID (unused by "
                        "queries): re-run apply once the blocking transaction ends") from None
                wait = self.backoff * 2 ** (attempt - 1)
                self.say(f"lock timeout dropping the INVALID index; retry {attempt}/{retries} in {wait:.1f}s")
                time.sleep(wait)

    # -- catalog ------------------------------------------------------------

    # -- lock ---------------------------------------------------------------

    def _locked(self, history: History) -> AdvisoryLock:
        return AdvisoryLock(self.conn, ADVISORY_KEY, wait=self.wait, say=self.say, on_acquired=history.ensure)
