"""Waiting for other transactions: never blocking the application, never throwing a build away for it.

A concurrent build waits twice for other transactions. Its first phases wait
for those that hold a lock on the table; its last phase waits for every
transaction of the database whose snapshot is older than its own, whatever
table that transaction reads. Neither wait blocks anybody, yet under
``lock_timeout`` the second one fails the build after all its work. So:

* before a build (or a REINDEX, a DROP INDEX CONCURRENTLY), the transactions
  it would wait for once begun (a snapshot; a writer, or any locker for a
  drop), of any age, and those open over IN_THE_WAY_SECONDS holding a lock it
  would queue behind, are waited for up to ``--wait-for-transactions`` and
  named (pid, role, state, age, query) once one has been open
  IN_THE_WAY_SECONDS; still open then, nothing is started and one line lists
  them (TransactionWait);
* during it, a second connection watches what the build waits on
  (LockWatch): a relation lock, whose wait could queue the application behind
  it, is cancelled once it lasts ``lock_timeout`` (a lock timeout, retried as
  one); a wait on another transaction is named and left alone, so a long
  transaction that starts mid-build costs time, not the build. Only a build
  that has waited for transactions longer than ``--wait-for-transactions`` in
  all is cancelled (its INVALID index dropped), and apply stops naming them:
  apply never hangs on a session left idle in transaction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from .. import catalog_sql
from .._text import Progress, Tick, one_line
from ..ddl import qualified as ddl_name
from ..errors import ApplyFailed
from ..plan import Action, ObjectKind, Step
from .watcher import Watcher

IN_THE_WAY_SECONDS = 5         # younger ones are ordinary traffic: waited for unsaid, most end in milliseconds
PROGRESS_EVERY = 10.0          # seconds between two progress lines of one wait
TRANSACTION_LOCKS = ("virtualxid", "transactionid")   # waiting for a transaction to end: blocks nobody


class LockWaitTimeout(Exception):
    """The watch cancelled a build that waited on a relation lock past lock_timeout (retried like one)."""


class WaitedTooLong(Exception):
    """The watch cancelled a build that waited for other transactions past --wait-for-transactions."""


@dataclass(frozen=True)
class OpenTransaction:
    pid: int
    role: str
    state: str
    seconds: int
    query: str
    xact_start: datetime

    def describe(self) -> str:
        state = self.state or "active"
        return f"pid {self.pid} ({self.role}, {state}, open {self.seconds}s: {one_line(self.query, 80)})"


def conninfo(conn: psycopg.Connection[Any]) -> str:
    """The connection's own parameters (libpq's PQconninfo), to open a second one like it; never printed."""
    return make_conninfo(**{o.keyword.decode(): o.val.decode() for o in conn.pgconn.info
                            if o.val is not None and o.keyword.decode() not in ("replication",)})


def in_the_way(conn: psycopg.Connection[Any], schema: str, table: str, *, snapshots: bool, exclude: list[int],
               seconds: int = IN_THE_WAY_SECONDS, young: int | None = None,
               share: bool = False) -> list[OpenTransaction]:
    """``share``: the step waits only for locks that conflict with SHARE (CREATE INDEX CONCURRENTLY, ON ONLY).
    ``young``: the age from which a transaction the step waits for once begun counts (a snapshot, a lock its own
    SHARE UPDATE EXCLUSIVE does not wait behind); None: ``seconds``, as for the others."""
    with catalog_sql.uncompiled(conn), conn.cursor(row_factory=dict_row) as cur:
        cur.execute(catalog_sql.load("transactions_in_the_way"),
                    {"schema": schema, "table": table, "seconds": seconds, "snapshots": snapshots,
                     "exclude": exclude, "share": share, "young": seconds if young is None else young})
        return [OpenTransaction(int(r["pid"]), r["role"] or "?", r["state"], int(r["seconds"]), r["query"],
                                r["xact_start"]) for r in cur.fetchall()]


def share_only(step: Step) -> bool:
    """CREATE INDEX CONCURRENTLY and CREATE INDEX ON ONLY wait only for locks that conflict with SHARE (writers,
    not readers); a drop, a REINDEX and the ACCESS EXCLUSIVE steps wait for every lock on the table."""
    return step.action == Action.CREATE and step.kind in (ObjectKind.INDEX, ObjectKind.INDEX_ON_ONLY)


def by_table(steps: list[Step]) -> dict[tuple[str, str], bool]:
    """Each table the steps touch, and whether every one of them there waits only for SHARE's conflicts."""
    out: dict[tuple[str, str], bool] = {}
    for s in steps:
        out[(s.schema, s.table)] = out.get((s.schema, s.table), True) and share_only(s)
    return out


class TransactionWait:
    """Before a concurrent step: wait, up to ``seconds``, for the transactions it would wait for, or stop."""

    def __init__(self, conn: psycopg.Connection[Any], seconds: float, say: Progress, interval: float = 0.5) -> None:
        self.conn, self.seconds, self.say, self.interval = conn, seconds, say, interval
        self.told: list[str] = []     # each wait that was told, once over: the report's warnings (p20: CI saw none)

    def before(self, what: str, schema: str, table: str, *, snapshots: bool, queue: bool = False,
               share: bool = False) -> None:
        """Return once no transaction stands in the way of ``what``; else ApplyFailed (nothing of it started).

        Young ones are waited for unsaid: the wait is told once one of them has
        been open IN_THE_WAY_SECONDS, or the wait has lasted that long.

        ``queue``: ``what`` asks for a lock that readers and writers of the table
        wait behind (ADD CONSTRAINT, SET NOT NULL, …). Asked while a long
        transaction holds any lock on the table, it would sit in the lock queue
        for its whole lock_timeout, and every query of the table behind it, at
        each retry; so it is not asked until those transactions have ended.

        ``share``: ``what`` waits only for locks that conflict with SHARE (a
        CREATE INDEX CONCURRENTLY, a CREATE INDEX ON ONLY): a reader idle in a
        READ COMMITTED transaction that keeps no snapshot is not in its way, and
        apply built nothing beside one for --wait-for-transactions where
        PostgreSQL would not wait.
        """
        # A lock request gives up at lock_timeout and leaves nothing: only a transaction open longer than ordinary
        # traffic is waited for first. But a concurrent statement waits for some transactions after it has begun
        # (a snapshot; a writer, or any locker for a drop): cancelled past --wait-for-transactions, it leaves an
        # INVALID index the same transaction's lock on the table can keep from being dropped (p14 F3: a READ
        # COMMITTED app idle 2 s after a parameterized read keeps its portal's snapshot). Those, of any age, are
        # waited for here.
        first = in_the_way(self.conn, schema, table, snapshots=snapshots, exclude=[], share=share,
                           young=IN_THE_WAY_SECONDS if queue else 0)
        if not first:
            return
        waiting = {(t.pid, t.xact_start) for t in first}
        started = time.monotonic()
        said: float | None = None     # when the wait was last told; None: not yet (young ones end unsaid)
        named = ""
        pause = 0.01
        while True:
            now = {(t.pid, t.xact_start): t for t in in_the_way(self.conn, schema, table, snapshots=snapshots,
                                                                 exclude=[], seconds=0, share=share)}
            left = [now[k] for k in sorted(waiting, key=lambda k: k[1]) if k in now]
            if not left:
                if said is not None:
                    self.say(f"{what}: the transactions it would wait for have ended")
                    self.told.append(f"{what} waited {time.monotonic() - started:.0f}s for {named} to end")
                return
            waited = time.monotonic() - started
            if waited >= self.seconds:
                raise ApplyFailed(_not_started(what, left, waited, queue=queue, snapshots=snapshots))
            if said is None and (waited >= IN_THE_WAY_SECONDS or max(t.seconds for t in left) >= IN_THE_WAY_SECONDS):
                said, named = waited, "; ".join(t.describe() for t in left)
                self.say(self._waiting(what, schema, table, left, queue=queue))
            elif said is not None and waited - said >= PROGRESS_EVERY:
                said = waited
                self.say(Tick(f"{what}: still waiting ({waited:.0f}s of {self.seconds:.0f}s) for "
                              f"{'; '.join(t.describe() for t in left)}"))
            # Ordinary traffic ends within milliseconds: look again soon, then every ``interval``.
            time.sleep(min(pause, self.interval, max(self.seconds - waited, 0.01)))
            pause *= 2

    def _waiting(self, what: str, schema: str, table: str, left: list[OpenTransaction], *, queue: bool) -> str:
        cost = ("would queue every query of the table behind its lock request while they last"
                if queue else "at its end, which blocks nobody but may last")
        named = "; ".join(t.describe() for t in left)
        if queue:
            return (f"{what} would wait for {len(left)} transaction(s) holding {ddl_name(schema, table)} ({cost}): "
                    f"{named}; waiting up to {self.seconds:.0f}s for them to end, without asking for the lock "
                    "(--wait-for-transactions)")
        return (f"{what} would wait for {len(left)} transaction(s) {cost}: {named}; waiting up to "
                f"{self.seconds:.0f}s for them to end (--wait-for-transactions)")


def _not_started(what: str, left: list[OpenTransaction], waited: float, *, queue: bool, snapshots: bool) -> str:
    # A drop (no snapshot wait) is rollback's or a health migration's: not a build, not only apply's.
    why = ("its lock request would queue the table's queries behind them" if queue else
           "a concurrent build waits for each to end" if snapshots else
           "a concurrent drop waits for each to end")
    return (f"{what} was not started: {len(left)} transaction(s) still open after {waited:.0f}s, and {why}: "
            f"{'; '.join(t.describe() for t in left)}; end them, or run this again with a longer "
            "--wait-for-transactions (nothing of this step was done)")


class LockWatch(Watcher):
    """During one concurrent statement: from a second connection, cancel a relation-lock wait past ``limit``
    seconds; name a wait for another transaction, and cancel only past ``patience`` seconds of them in all.

    ``available`` is False when the second connection cannot be opened: the
    caller then keeps lock_timeout on the statement itself (every wait bounded,
    as plain psql runs the script).
    """

    def __init__(self, dsn: str | None, pid: int, limit: float, what: str, say: Progress, *,
                 patience: float = float("inf"), interval: float = 0.1) -> None:
        super().__init__(dsn, interval)
        self.pid, self.limit, self.what, self.say = pid, limit, what, say
        self.patience = patience
        self.cancelled: str | None = None        # the relation lock it waited on when the watch cancelled it
        self.gave_up: str | None = None          # the transactions it waited for when the watch cancelled it
        self.waited = 0.0                        # seconds waited for other transactions, in all
        self.current: tuple[str, str] | None = None     # the lock waited on, and since when
        self.since = self.said = self.last = 0.0

    def wanted(self) -> bool:
        return self.limit > 0

    def started(self) -> None:
        self.since = self.said = self.last = time.monotonic()

    def look(self, conn: psycopg.Connection[Any]) -> bool:
        with catalog_sql.uncompiled(conn), conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(catalog_sql.load("lock_waits"), {"pid": self.pid}).fetchall()
        now = time.monotonic()
        tick, self.last = now - self.last, now
        if not rows:
            self.current = None
            return True
        key = (rows[0]["locktype"], rows[0]["relation"] or "")
        if key != self.current:
            self.current, self.since = key, now
        holders = "; ".join(f"pid {r['holder']} ({r['holder_state'] or 'active'}, open "
                            f"{r['holder_seconds'] or 0}s: {one_line(r['holder_query'], 80)})"
                            for r in rows if r["holder"] is not None) or "another transaction"
        if key[0] in TRANSACTION_LOCKS:
            self.waited += tick
            if self.waited >= self.patience:
                self._cancel(gave_up=f"waited {self.waited:.0f}s in all for other transactions to end, "
                                     f"the last {holders}")
                return False
            if now - self.said >= PROGRESS_EVERY:
                self.said = now
                self.say(Tick(f"{self.what}: waiting for {holders} to end ({self.waited:.0f}s so far; this "
                              "wait blocks nobody and the build is kept)"))
        elif now - self.since >= self.limit:
            self._cancel(cancelled=f"waited {now - self.since:.1f}s for {rows[0]['mode']} on "
                                   f"{key[1] or key[0]}, held by {holders}")
            return False
        return True

    def _cancel(self, *, cancelled: str | None = None, gave_up: str | None = None) -> None:
        assert self.conn is not None
        self.cancelled, self.gave_up = cancelled, gave_up
        self.conn.execute("SELECT /* pgtune */ pg_catalog.pg_cancel_backend(%s)", (self.pid,))
