"""Apply: run a migration's phases against a live database, and roll them back.

Safety rules, each for a reason a DBA has been bitten by:

* A *session-level* advisory lock keeps two appliers apart. A transaction-level
  lock cannot be used: CREATE INDEX CONCURRENTLY waits for every older
  transaction, including the one holding the lock, and would hang.
* Every statement runs in autocommit, after the script's own SET lock_timeout,
  so a blocked DDL gives up quickly instead of queueing application traffic
  behind it; lock timeouts are retried with a bounded backoff.
* Crashes are reconciled from the catalog, not from a "dirty" flag: an index
  that exists and is valid (pg_index.indisvalid) is done; an INVALID leftover
  of an interrupted concurrent build is dropped concurrently and rebuilt.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pglast
import psycopg
from pglast import ast
from pglast.enums import AlterTableType, TransactionStmtKind
from psycopg import errors as pgerrors
from psycopg import sql
from psycopg.rows import dict_row

from . import catalog_sql, ddl
from ._text import one_line
from .errors import ApplyFailed, LockBusy, UnsupportedServer
from .plan import Migration, Phase, load, mismatches, script, sha256

ADVISORY_KEY = 0x70677475  # "pgtu": one applier per database
OWN = "/* pgtune */ "      # tags what apply runs, so suggest leaves it out of the workload
DEFAULT_SCHEMA = "pgtune"

Progress = Callable[[str], None]


@dataclass
class StepResult:
    phase: int
    statement: str
    status: str           # done, skipped, failed, would-run
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
        return any(s.status == "done" for s in self.steps)


@dataclass
class PhaseStatus:
    number: int
    name: str
    state: str                       # pending, applied, failed, rolled_back
    missing: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


@dataclass
class Status:
    migration_id: str
    phases: list[PhaseStatus]
    checksum_mismatches: list[str]

    @property
    def ok(self) -> bool:
        return not self.checksum_mismatches and all(
            p.state != "failed" and not p.missing and not p.invalid for p in self.phases)


def check_server(conn: psycopg.Connection[Any]) -> None:
    check_version(conn.info.server_version)


def check_version(v: int) -> None:
    """Refuse concurrent builds where they can silently corrupt indexes."""
    if 140000 <= v < 140004:
        raise UnsupportedServer(
            f"PostgreSQL {v // 10000}.{v % 100} can corrupt indexes built CONCURRENTLY "
            "(fixed in 14.4): upgrade to 14.4 or later before applying")


def split(text: str) -> list[str]:
    """The statements of a script, as pglast's splitter sees them."""
    return [s.strip() for s in pglast.split(text) if s.strip()]


def index_target(stmt: str) -> tuple[str, str] | None:
    """(schema, index name) for a CREATE INDEX statement, else None."""
    node = pglast.parse_sql(stmt)[0].stmt
    if isinstance(node, ast.IndexStmt) and node.idxname:
        return (node.relation.schemaname or "public", node.idxname)
    return None


def history_exists(conn: psycopg.Connection[Any], schema: str = DEFAULT_SCHEMA) -> bool:
    """Has any pgtune apply run here (its history tables exist in ``schema``)?"""
    row = conn.execute("/* pgtune */ SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL",
                       (sql.Identifier(schema, "history").as_string(conn),
                        sql.Identifier(schema, "phases").as_string(conn))).fetchone()
    return bool(row and row[0])


def constraint_target(stmt: str) -> tuple[str, str, str] | None:
    """(schema, table, constraint) for ALTER TABLE … ADD CONSTRAINT, else None."""
    node = pglast.parse_sql(stmt)[0].stmt
    if isinstance(node, ast.AlterTableStmt):
        for cmd in node.cmds or ():
            if cmd.subtype == AlterTableType.AT_AddConstraint and getattr(cmd.def_, "conname", None):
                return (node.relation.schemaname or "public", node.relation.relname, cmd.def_.conname)
    return None


def units(stmts: list[str]) -> list[list[str]]:
    """Group a script's statements: BEGIN … COMMIT blocks become one unit each."""
    out: list[list[str]] = []
    block: list[str] | None = None
    for st in stmts:
        node = pglast.parse_sql(st)[0].stmt
        if isinstance(node, ast.TransactionStmt) and node.kind in (TransactionStmtKind.TRANS_STMT_BEGIN,
                                                                  TransactionStmtKind.TRANS_STMT_START):
            block = []
        elif isinstance(node, ast.TransactionStmt) and node.kind == TransactionStmtKind.TRANS_STMT_COMMIT:
            if block:
                out.append(block)
            block = None
        elif block is not None:
            block.append(st)
        else:
            out.append([st])
    if block:
        out.append(block)
    return out


class Applier:
    def __init__(self, conn: psycopg.Connection[Any], directory: Path, *, schema: str = DEFAULT_SCHEMA,
                 retries: int = 5, backoff: float = 1.0, progress: Progress | None = None,
                 monitor_dsn: str | None = None, monitor_interval: float = 1.0,
                 long_transaction_seconds: int = 60) -> None:
        self.conn = conn
        self.directory = Path(directory)
        self.schema = schema
        self.retries = retries
        self.backoff = backoff
        self.say = progress or (lambda _m: None)
        # Build progress needs a second connection (the first one is busy building).
        self.monitor_dsn = monitor_dsn if progress is not None else None
        self.monitor_interval = monitor_interval
        self.long_transaction_seconds = long_transaction_seconds

    # -- public operations --------------------------------------------------

    def apply(self, phases: list[int] | None = None, *, dry_run: bool = False) -> Report:
        m = load(self.directory)
        check_server(self.conn)
        report = Report(m.id)
        selected = [m.phase(n) for n in phases] if phases else m.phases
        report.warnings.extend(self._long_transactions())
        for w in report.warnings:
            self.say(f"warning: {w}")
        if dry_run:
            return self._dry_run(m, selected, report)
        with self._locked():
            for phase in selected:
                if self._phase_done(m, phase):
                    report.phases_skipped.append(phase.number)
                    self.say(f"phase {phase.number} already applied")
                    continue
                self._run_phase(m, phase, "up", report)
                report.phases_run.append(phase.number)
        return report

    def rollback(self, phases: list[int] | None = None) -> Report:
        m = load(self.directory)
        report = Report(m.id)
        selected = [m.phase(n) for n in phases] if phases else list(m.phases)
        with self._locked():
            states = self._states(m)
            for phase in reversed(selected):
                if phases is None and states.get(phase.number) in (None, "rolled_back"):
                    report.phases_skipped.append(phase.number)
                    continue
                self._run_phase(m, phase, "down", report)
                report.phases_run.append(phase.number)
        return report

    def status(self) -> Status:
        m = load(self.directory, check=False)
        bad = mismatches(m, self.directory)
        states = self._states(m) if self._history_exists() else {}
        out = []
        for phase in m.phases:
            state = states.get(phase.number, "pending")
            ps = PhaseStatus(phase.number, phase.name, state)
            if state == "applied":
                ps.missing, ps.invalid = self._problems(phase)
            out.append(ps)
        return Status(m.id, out, bad)

    # -- phases -------------------------------------------------------------

    def _dry_run(self, m: Migration, selected: list[Phase], report: Report) -> Report:
        states = self._states(m) if self._history_exists() else {}
        for phase in selected:
            if states.get(phase.number) == "applied" and self._objects_valid(phase):
                report.phases_skipped.append(phase.number)
                continue
            for unit in units(split(script(self.directory, phase.up_file))):
                report.steps.append(StepResult(phase.number, "\n".join(unit), "would-run"))
        return report

    def _phase_done(self, m: Migration, phase: Phase) -> bool:
        return self._states(m).get(phase.number) == "applied" and self._objects_valid(phase)

    def _objects_valid(self, phase: Phase) -> bool:
        missing, invalid = self._problems(phase)
        return not missing and not invalid

    def _problems(self, phase: Phase) -> tuple[list[str], list[str]]:
        """(missing, invalid) planned objects of an applied phase, from the catalog."""
        missing: list[str] = []
        invalid: list[str] = []
        found = self._index_states(phase)
        for ix in phase.indexes:
            valid = found.get((ix.schema, ix.name))
            if valid is None:
                missing.append(ix.name)
            elif not valid:
                invalid.append(ix.name)
        if not phase.constraints:
            return missing, invalid
        cons = self._constraint_states(phase)
        not_null = self._not_null_states(phase)
        for c in phase.constraints:
            validated = cons.get((c.schema, c.table, c.name))
            column_done = bool(c.set_not_null) and not_null.get((c.schema, c.table, c.columns[0])) is True
            if phase.step == "validate" and c.set_not_null:
                if not column_done:
                    invalid.append(f"{c.table}.{c.columns[0]} (still nullable)")
            elif column_done:
                continue          # the helper check did its job and was dropped
            elif validated is None:
                missing.append(c.name)
            elif phase.step == "validate" and not validated:
                invalid.append(f"{c.name} (NOT VALID)")
        return missing, invalid

    def _constraint_states(self, phase: Phase) -> dict[tuple[str, str, str], bool]:
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(catalog_sql.load("constraint_states"),
                        {"schemas": [c.schema for c in phase.constraints],
                         "tables": [c.table for c in phase.constraints],
                         "names": [c.name for c in phase.constraints]})
            return {(r["schema"], r["table"], r["name"]): bool(r["validated"]) for r in cur.fetchall()}

    def _not_null_states(self, phase: Phase) -> dict[tuple[str, str, str], bool]:
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(catalog_sql.load("not_null_columns"),
                        {"schemas": [c.schema for c in phase.constraints],
                         "tables": [c.table for c in phase.constraints],
                         "columns": [c.columns[0] for c in phase.constraints]})
            return {(r["schema"], r["table"], r["column"]): bool(r["not_null"]) for r in cur.fetchall()}

    def _run_phase(self, m: Migration, phase: Phase, direction: str, report: Report) -> None:
        name = phase.up_file if direction == "up" else phase.down_file
        text = script(self.directory, name)
        checksum = sha256(text)
        self.say(f"phase {phase.number} {direction}: {phase.name}")
        try:
            for unit in units(split(text)):
                report.steps.append(self._run_unit(m, phase, direction, unit, checksum))
        except ApplyFailed:
            self._set_state(m, phase, "failed", checksum)
            raise
        self._set_state(m, phase, "applied" if direction == "up" else "rolled_back", checksum)
        self._flush_stats()

    def _flush_stats(self) -> None:
        """Publish this backend's ANALYZE and write counters now, not within the next second."""
        if self.conn.info.server_version >= 150000:
            self.conn.execute("/* pgtune */ SELECT pg_stat_force_next_flush()")

    def _run_unit(self, m: Migration, phase: Phase, direction: str, unit: list[str],
                  checksum: str) -> StepResult:
        """Run one statement, or one BEGIN … COMMIT block as a single transaction."""
        block = len(unit) > 1 or bool(unit and constraint_target(unit[0]))
        todo = [st for st in unit if not self._constraint_exists(st)]
        stmt = "\n".join(unit)
        if not todo:
            self._log(m, phase, direction, stmt, checksum, "skipped", None, 0.0)
            return StepResult(phase.number, stmt, "skipped", "constraint exists")
        stmt = "\n".join(todo)
        target = index_target(stmt) if not block else None
        if target is not None:
            valid = self._index_state(*target)
            if valid is True:
                self._log(m, phase, direction, stmt, checksum, "skipped", None, 0.0)
                return StepResult(phase.number, stmt, "skipped", "index exists and is valid")
            if valid is False:
                self._drop_invalid(*target)
        attempt = 0
        while True:
            row_id = self._log_start(m, phase, direction, stmt, checksum)
            started = time.monotonic()
            try:
                with BuildMonitor(self.monitor_dsn if target else None, self.conn.info.backend_pid,
                                  target[1] if target else "", self.say, self.monitor_interval):
                    if block:
                        with self.conn.transaction():
                            for st in todo:
                                self.conn.execute(OWN + st)
                    else:
                        self.conn.execute(OWN + stmt)
            except pgerrors.LockNotAvailable as exc:
                self._log_end(row_id, "failed", str(exc).strip(), time.monotonic() - started)
                if target is not None and self._index_state(*target) is False:
                    self._drop_invalid(*target)
                attempt += 1
                if attempt > self.retries:
                    raise ApplyFailed(f"phase {phase.number}: gave up after {self.retries} lock "
                                      f"timeouts on: {one_line(stmt, 90)}") from None
                wait = self.backoff * 2 ** (attempt - 1)
                self.say(f"lock timeout; retry {attempt}/{self.retries} in {wait:.1f}s")
                time.sleep(wait)
                continue
            except psycopg.OperationalError:
                raise  # the connection is gone: nothing more can be recorded here
            except psycopg.Error as exc:
                msg = " ".join(str(exc).split())
                self._log_end(row_id, "failed", msg, time.monotonic() - started)
                if target is not None and self._index_state(*target) is False:
                    self._drop_invalid(*target)
                raise ApplyFailed(f"phase {phase.number} failed on {one_line(stmt, 90)}: {msg}") from None
            self._log_end(row_id, "done", None, time.monotonic() - started)
            return StepResult(phase.number, stmt, "done")

    def _constraint_exists(self, stmt: str) -> bool:
        target = constraint_target(stmt)
        if target is None:
            return False
        row = self.conn.execute(catalog_sql.load("constraint_states"),
                                {"schemas": [target[0]], "tables": [target[1]], "names": [target[2]]}).fetchone()
        return row is not None

    def _drop_invalid(self, schema: str, name: str) -> None:
        self.say(f"dropping INVALID index {ddl.qualified(schema, name)} left by an interrupted build")
        self.conn.execute(OWN + ddl.drop_index(schema, name))

    # -- catalog ------------------------------------------------------------

    def _index_states(self, phase: Phase) -> dict[tuple[str, str], bool]:
        if not phase.indexes:
            return {}
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(catalog_sql.load("index_states"),
                        {"schemas": [ix.schema for ix in phase.indexes],
                         "names": [ix.name for ix in phase.indexes]})
            return {(r["schema"], r["name"]): bool(r["is_valid"]) for r in cur.fetchall()}

    def _index_state(self, schema: str, name: str) -> bool | None:
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(catalog_sql.load("index_states"), {"schemas": [schema], "names": [name]})
            row = cur.fetchone()
        return None if row is None else bool(row["is_valid"])

    def _long_transactions(self) -> list[str]:
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(catalog_sql.load("long_transactions"), {"seconds": self.long_transaction_seconds})
            return [f"transaction pid {r['pid']} ({r['role']}) open for {r['seconds']}s: "
                    "concurrent index builds will wait for it to finish" for r in cur.fetchall()]

    # -- history ------------------------------------------------------------

    def _ident(self, table: str) -> sql.Composable:
        return sql.Identifier(self.schema, table)

    def _history_exists(self) -> bool:
        return history_exists(self.conn, self.schema)

    def _ensure_history(self) -> None:
        self.conn.execute(sql.SQL(catalog_sql.load("history_schema")).format(schema=sql.Identifier(self.schema)))
        # Rows left 'running' belong to an applier that died: only one can hold the lock.
        self.conn.execute(sql.SQL("/* pgtune */ UPDATE {} SET status = 'interrupted', finished = clock_timestamp() "
                                  "WHERE status = 'running'").format(self._ident("history")))

    def _states(self, m: Migration) -> dict[int, str]:
        if not self._history_exists():
            return {}
        rows = self.conn.execute(sql.SQL("/* pgtune */ SELECT phase, status FROM {} WHERE migration_id = %s")
                                 .format(self._ident("phases")), (m.id,)).fetchall()
        return {int(r[0]): str(r[1]) for r in rows}

    def _set_state(self, m: Migration, phase: Phase, state: str, checksum: str) -> None:
        self.conn.execute(sql.SQL(
            "/* pgtune */ INSERT INTO {} (migration_id, phase, status, checksum) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (migration_id, phase) DO UPDATE SET status = excluded.status, "
            "checksum = excluded.checksum, updated = clock_timestamp()").format(self._ident("phases")),
            (m.id, phase.number, state, checksum))

    def _log_start(self, m: Migration, phase: Phase, direction: str, stmt: str, checksum: str) -> int:
        row = self.conn.execute(sql.SQL(
            "/* pgtune */ INSERT INTO {} (migration_id, phase, direction, statement, checksum, status) "
            "VALUES (%s, %s, %s, %s, %s, 'running') RETURNING id").format(self._ident("history")),
            (m.id, phase.number, direction, stmt, checksum)).fetchone()
        assert row is not None
        return int(row[0])

    def _log_end(self, row_id: int, status: str, error: str | None, seconds: float) -> None:
        self.conn.execute(sql.SQL(
            "/* pgtune */ UPDATE {} SET status = %s, error = %s, finished = clock_timestamp(), "
            "duration_ms = %s WHERE id = %s").format(self._ident("history")),
            (status, error, seconds * 1000.0, row_id))

    def _log(self, m: Migration, phase: Phase, direction: str, stmt: str, checksum: str,
             status: str, error: str | None, seconds: float) -> None:
        self._log_end(self._log_start(m, phase, direction, stmt, checksum), status, error, seconds)

    # -- lock ---------------------------------------------------------------

    def _locked(self) -> "_AdvisoryLock":
        return _AdvisoryLock(self)


class BuildMonitor:
    """Reports pg_stat_progress_create_index for one backend from a second connection."""

    def __init__(self, dsn: str | None, pid: int, name: str, say: Progress, interval: float) -> None:
        self.dsn, self.pid, self.name, self.say, self.interval = dsn, pid, name, say, interval
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def __enter__(self) -> "BuildMonitor":
        if self.dsn:
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join()

    def _run(self) -> None:
        try:
            with psycopg.connect(self.dsn or "", autocommit=True, application_name="pgtune-monitor") as c:
                last = ""
                while not self.stop.wait(self.interval):
                    row = c.execute(catalog_sql.load("index_build_progress"), {"pid": self.pid}).fetchone()
                    if row is None:
                        continue
                    phase, done, total = row
                    pct = f" {100.0 * done / total:.0f}%" if total else ""
                    msg = f"building {self.name}: {phase}{pct}"
                    if msg != last:
                        self.say(msg)
                        last = msg
        except psycopg.Error:
            return   # progress is a courtesy; the build itself reports real errors


class _AdvisoryLock:
    def __init__(self, applier: Applier) -> None:
        self.a = applier

    def __enter__(self) -> None:
        conn = self.a.conn
        row = conn.execute("/* pgtune */ SELECT pg_try_advisory_lock(%s)", (ADVISORY_KEY,)).fetchone()
        if not (row and row[0]):
            holder = conn.execute(
                "/* pgtune */ SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND objid = %s AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                (ADVISORY_KEY & 0xFFFFFFFF,)).fetchone()
            who = f" (backend pid {holder[0]})" if holder else ""
            raise LockBusy(f"another pgtune apply or rollback is running on this database{who}; "
                           "wait for it to finish")
        self.a._ensure_history()

    def __exit__(self, *exc: object) -> None:
        conn = self.a.conn
        if not conn.closed and not conn.broken:
            conn.execute("/* pgtune */ SELECT pg_advisory_unlock(%s)", (ADVISORY_KEY,))
