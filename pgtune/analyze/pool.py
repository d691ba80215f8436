"""A pool of sessions for what-if costing: many plans at once, each answered as one session would.

HypoPG's hypothetical indexes live in one backend's memory, so N sessions can
plan N statements at once. A what-if answer depends only on the question (the
statement and the candidates on the tables it reads, created in one fixed
order: whatif.Hypothetical.ensure), so the pool's answers are the serial run's.

The extra sessions are pgtune's own (application_name, connect's session
settings, every EXPLAIN under pgtune's statement_timeout in a READ ONLY
transaction). They are few: at most the server's cores (when it runs here, this
machine's but the one pgtune itself takes; else max_parallel_workers), at most
MAX_JOBS, and never more than a tenth of the sessions the server still accepts.
Whatever happens (an error, Ctrl-C), what they are planning is cancelled and
they are closed, their hypothetical indexes with them.

A what-if session's backend grows with the workload, not only with what it
keeps: the relation caches of every table it plans, its kept statements
(explain_script.Kept), and HypoPG's memory, which keeps ~300 bytes of each
hypothetical index made even once dropped or reset (HypoPG 1.3.1). At 20,000
statements over 2,000 tables one backend held 172 MB of memory contexts
(RssAnon 225 MB) and more with more tables. A session the pool opened is
recycled between blocks when its backend passes MAX_SESSION_MB: closed
(its memory goes back to the server) and opened again like the others. An
answer depends only on its question, so no answer changes.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import psycopg
from psycopg import pq
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from .. import catalog_sql
from ..connect import APPLICATION_NAME, force_session_settings, pooled
from ..tracking import untrack_statements

MAX_JOBS = 8
SHARE = 10          # at most one session in SHARE of those the server still accepts
BLOCK = 8           # questions a session takes at a time (neighbours share hypothetical indexes)
BATCH = 256         # questions a session takes at a time in map_blocks (sent in few round trips)
# A what-if session's memory contexts past which it is recycled (docs/selection.md: what a DBA should expect):
# above its 4,000 kept statements (~45 MB) and the caches of a few hundred tables, below the 172 MB of one session
# at 20,000 statements over 2,000 tables.
MAX_SESSION_MB = 128
CHECK_EVERY = 5.0   # seconds between two reads of a session's memory (one read: 26-56 ms at 8,000 contexts, load 13)

W = TypeVar("W")
Q = TypeVar("Q")
R = TypeVar("R")


@dataclass(frozen=True)
class Jobs:
    """How many sessions cost side by side, and why not more (empty when as many as asked)."""

    count: int
    note: str = ""


def jobs_for(conn: psycopg.Connection[Any], asked: int | None) -> Jobs:
    """``asked`` (None: the default from the server's cores; one session behind a pooler) capped by the server's
    free connections."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(catalog_sql.load("connection_headroom")).fetchone()
    free = int(row["free"]) if row else 0
    cap = max(1, free // SHARE)
    pooler = pooled(conn)
    if asked is None and pooler:
        # Behind a (session) pooler each session is one of the pool's few server sessions, the application's too;
        # max_connections says nothing of the pool's size (u9).
        return Jobs(1)
    if asked is None:
        if _local(conn):
            # pgtune's own process takes a core (its threads share one interpreter lock): the server has the
            # rest. On 2 cores a second session made suggest slower (speed.py at 5k: 45.7 s against 31.0 s): at 1k
            # it cost 35% more of pgtune's CPU and 33% more of the server's (each session makes the indexes of its
            # share of a call again: hypothetical indexes +15%, statements sent +27%, round trips +55%; the look-
            # ahead of two sessions, EXPLAINs +5%), and with pgtune on one core no core was left to plan on.
            cores = (os.cpu_count() or 1) - 1
        else:
            cores = int(row["parallel_workers"]) if row else 1
        want = max(1, min(cores, MAX_JOBS))
    else:
        want = max(1, asked)
    if want <= cap:
        # Asked for: given, but each session holds one of the pool's few server sessions, the application's too.
        return Jobs(want, f"--jobs {want} behind a session pooler: each what-if session holds one of the pool's "
                          "server sessions for the whole run, taken from the application" if pooler and want > 1
                    else "")
    sessions = "session" if free == 1 else "sessions"
    note = (f"--jobs {want} lowered to {cap}: the server accepts {free} more {sessions} and pgtune takes at most "
            f"one in {SHARE}")
    if pooler and cap > 1:
        # The server's headroom says nothing of the pooler's: 4 sessions on a pool of 3 waited out PgBouncer's
        # query_wait_timeout (127.6 s against 8.9 s with --jobs 2) and held the application's sessions (p11).
        note += (f"; behind a session pooler each of the {cap} holds one of the pool's server sessions for the whole "
                 "run, taken from the application, and more than the pool holds wait for one: without --jobs, one")
    return Jobs(cap, note)


def _local(conn: psycopg.Connection[Any]) -> bool:
    """Does the server run on this machine (a Unix socket, or the loopback address)?"""
    host = conn.info.host or ""
    return host.startswith("/") or host in ("localhost", "127.0.0.1", "::1")


def open_like(conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    """Another session to the same server, database and role, with pgtune's session settings."""
    return _open(Like.of(conn))


@dataclass(frozen=True)
class Like:
    """What a session opened like another takes from it: read once, so a session recycled in a worker's
    thread never sends a statement on the caller's connection (its own thread may be planning on it)."""

    conninfo: str
    changed: list[tuple[str, str]]

    @staticmethod
    def of(conn: psycopg.Connection[Any]) -> Like:
        params = {o.keyword.decode(): o.val.decode() for o in conn.pgconn.info if o.val is not None}
        params["application_name"] = APPLICATION_NAME
        changed = conn.execute(catalog_sql.load("session_settings")).fetchall()
        return Like(make_conninfo("", **params), changed)


def _open(like: Like) -> psycopg.Connection[Any]:
    other = psycopg.connect(like.conninfo, autocommit=True)
    try:
        untrack_statements(other)
        for name, setting in like.changed:
            # What the caller SET for its session (a planner cost, say): the answers must be its session's.
            with contextlib.suppress(psycopg.errors.InsufficientPrivilege, psycopg.errors.CantChangeRuntimeParam):
                other.execute("SELECT /* pgtune */ pg_catalog.set_config(%s, %s, false)", (name, setting))
        force_session_settings(other)
    except BaseException:
        other.close()
        raise
    return other


@dataclass
class _Slot(Generic[W]):
    """One worker and its session; ``own``: the session and worker the pool made (None: the caller's, kept)."""

    conn: psycopg.Connection[Any]
    worker: W
    own: ExitStack | None
    checked: float = field(default_factory=time.monotonic)


class Pool(Generic[W]):
    """Workers (one per session) that answer questions side by side; those on sessions the pool opened are
    recycled when their backend's memory passes MAX_SESSION_MB (``fresh``)."""

    def __init__(self, slots: list[_Slot[W]],
                 make: Callable[[psycopg.Connection[Any]], AbstractContextManager[W]] | None = None,
                 origin: Like | None = None) -> None:
        self.slots, self.make, self.origin = slots, make, origin
        self.recycled = 0       # sessions closed and opened again for their memory
        self.readable: bool | None = None    # may the role read its sessions' memory: asked once, all share it
        self.lock = threading.Lock()
        self.executor = ThreadPoolExecutor(max_workers=len(slots) - 1) if len(slots) > 1 else None

    @property
    def jobs(self) -> int:
        return len(self.slots)

    @property
    def workers(self) -> list[W]:
        return [s.worker for s in self.slots]

    @property
    def first(self) -> W:
        """The first worker as it is now (a recycled one is another object): ask it at each use, keep none."""
        return self.slots[0].worker

    @property
    def conns(self) -> list[psycopg.Connection[Any]]:
        return [s.conn for s in self.slots]

    def fresh(self, i: int) -> W:
        """Worker ``i``, on a new session if its backend has grown past MAX_SESSION_MB (read at most every
        CHECK_EVERY seconds). Called between questions, by the worker's own thread."""
        slot = self.slots[i]
        if slot.own is None or self.make is None or self.origin is None or \
                time.monotonic() - slot.checked < CHECK_EVERY:
            return slot.worker
        slot.checked = time.monotonic()
        with self.lock:
            if self.readable is None:
                self.readable = memory_readable(slot.conn)
        used = backend_bytes(slot.conn, readable=True) if self.readable else None
        if used is None or used <= MAX_SESSION_MB * 1048576:
            if used is None:
                slot.checked = math.inf     # not readable (no pg_read_all_stats, PostgreSQL 13): never asked again
            return slot.worker
        try:
            new = _opened(_open(self.origin), self.make)
        except psycopg.OperationalError:
            return slot.worker      # the server takes no more sessions now: this one goes on
        old, self.slots[i] = slot.own, new
        old.close()        # its hypothetical indexes and kept statements freed, then the session closed
        with self.lock:
            self.recycled += 1
        return new.worker

    def map(self, fn: Callable[[W, Q], R], items: Sequence[Q], block: int = BLOCK) -> list[R]:
        """``fn(worker, item)`` for every item, in the items' order; blocks of neighbours go to one session."""
        if self.executor is None or len(items) < 2:
            return [fn(self.fresh(0), q) for q in items]
        out: list[Any] = [None] * len(items)
        size = max(1, min(block, -(-len(items) // (2 * self.jobs))))
        blocks = iter(range(0, len(items), size))
        lock = threading.Lock()
        stop = threading.Event()

        def work(w: int) -> None:
            while not stop.is_set():
                with lock:
                    start = next(blocks, None)
                if start is None:
                    return
                worker = self.fresh(w)
                for i in range(start, min(start + size, len(items))):
                    out[i] = fn(worker, items[i])

        futures: list[Future[None]] = [self.executor.submit(work, w) for w in range(1, self.jobs)]
        try:
            work(0)
            for f in futures:
                f.result()
        except BaseException:
            stop.set()
            self._cancel()
            for f in futures:
                f.exception()     # wait for each: nothing may still run on a session about to close
            raise
        return out

    def map_blocks(self, fn: Callable[[W, list[Q]], list[R]], items: Sequence[Q],
                   key: Callable[[Q], Any] | None = None) -> list[R]:
        """``fn(worker, block)`` over blocks of the items (one session answers a block in few round trips:
        analyze.batch), the answers in the items' order; one session takes them all in blocks of BATCH.

        ``key``: items with the same key are put side by side first (what-if questions on the same tables
        share their hypothetical indexes; scattered over blocks, each block made them again)."""
        order = list(range(len(items)))
        if key is not None:
            keys = [key(q) for q in items]
            order.sort(key=keys.__getitem__)
        size = BATCH if self.executor is None else max(1, min(BATCH, -(-len(items) // (2 * self.jobs))))
        blocks = [[items[j] for j in order[i:i + size]] for i in range(0, len(items), size)]
        out: list[Any] = [None] * len(items)
        for j, r in zip(order, (r for answers in self.map(fn, blocks, block=1) for r in answers), strict=True):
            out[j] = r
        return out

    def _cancel(self) -> None:
        """Cancel what the other sessions are planning (they are closed right after)."""
        for c in self.conns[1:]:
            if not c.closed:
                with contextlib.suppress(psycopg.Error):      # already gone: nothing to cancel
                    c.cancel_safe()

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)


def memory_readable(conn: psycopg.Connection[Any]) -> bool:
    """May ``conn``'s role read pg_backend_memory_contexts (asked, so that a role without pg_read_all_stats leaves
    no "permission denied" ERROR in the server's log)? Every session of a pool is the same role's: a pool asks once."""
    try:
        row = conn.execute(catalog_sql.load("backend_memory_readable"), prepare=False).fetchone()
    except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedTable):
        return False
    return bool(row and row[0])


def backend_bytes(conn: psycopg.Connection[Any], *, readable: bool | None = None) -> int | None:
    """The memory ``conn``'s backend holds in its memory contexts; None where pgtune may not read it
    (``readable``: the role's answer to memory_readable, when known)."""
    if conn.info.transaction_status != pq.TransactionStatus.IDLE:
        return None
    if not (memory_readable(conn) if readable is None else readable):
        return None
    try:
        row = conn.execute(catalog_sql.load("backend_memory"), prepare=False).fetchone()
    except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedTable):
        return None
    return int(row[0]) if row and row[0] is not None else None


@contextmanager
def aside(conn: psycopg.Connection[Any]) -> Iterator[psycopg.Connection[Any]]:
    """A session like ``conn`` for the table reads of suggest (samples of keys, rows, widths), closed after them.

    A backend keeps the cache entries of every relation it reads until it ends: on ``conn``, which the caller
    keeps, the samplers' and reviews' caches outlived suggest (m17: 32 MB of memory contexts at 5,000 statements
    over 500 tables, 11 MB read aside). ``conn`` itself behind a pooler (another session is one of its few) or when
    the server refuses one.
    """
    if pooled(conn):
        yield conn
        return
    try:
        other = _open(Like.of(conn))
    except psycopg.OperationalError:
        yield conn
        return
    with other:
        yield other


@contextmanager
def pool(first: W | None, conn: psycopg.Connection[Any], jobs: int,
         make: Callable[[psycopg.Connection[Any]], AbstractContextManager[W]]) -> Iterator[Pool[W]]:
    """``first`` (on ``conn``; None: one made by ``make`` on a session opened like ``conn``, as the others) and
    ``jobs - 1`` workers made by ``make`` on sessions opened like ``conn``. The sessions the pool opened are
    recycled when they grow (Pool.fresh); ``conn`` is the caller's, never closed.

    A session the server refuses is one fewer: costing goes on with those opened (on ``conn`` if none).
    """
    with ExitStack() as stack:
        slots: list[_Slot[W]] = [] if first is None else [_Slot(conn, first, None)]
        stack.callback(_close, slots)       # read at the end: the sessions recycled meanwhile too
        if first is None and pooled(conn):
            # Behind a session pooler another session is one more of the pool's few server sessions, the
            # application's too (u9): the first stays on pgtune's own, never recycled.
            slots.append(_Slot(conn, stack.enter_context(make(conn)), None))
        like = Like.of(conn)
        while len(slots) < jobs:
            try:
                other = _open(like)
            except psycopg.OperationalError:
                break         # e.g. too many clients meanwhile
            slots.append(_opened(other, make))
        if not slots:
            slots.append(_Slot(conn, stack.enter_context(make(conn)), None))
        running = Pool(slots, make, like)
        stack.callback(running.close)
        yield running


def _opened(conn: psycopg.Connection[Any], make: Callable[[psycopg.Connection[Any]], AbstractContextManager[W]],
            ) -> _Slot[W]:
    """A worker made by ``make`` on ``conn``, a session the pool opened (closed with the worker)."""
    with ExitStack() as own:
        own.callback(conn.close)
        worker = own.enter_context(make(conn))
        return _Slot(conn, worker, own.pop_all())


def _close(slots: list[_Slot[W]]) -> None:
    """Each worker the pool made, then its session (their hypothetical indexes and kept statements go with it)."""
    for slot in reversed(slots):
        if slot.own is not None:
            slot.own.close()
