"""The statements an EXPLAIN Round sends (pgtune.explain.Round): its transaction, the settings it plans under,
its PREPAREs, one EXPLAIN per value scenario, the end; and ``Shared``, one transaction for many Rounds.

Every plan is made in a READ ONLY transaction (a READ ONLY savepoint inside a
caller's transaction) with LOCAL settings, rolled back after: a statement can
be planned but never change data, and nothing it set outlives it.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import abc, errors, generators, pq
from psycopg.adapt import PyFormat, Transformer
from psycopg.pq import Format

from .connect import lost
from .explain_names import LenientJson, LenientText

STMT_NAME = "pgtune_explain"


@dataclass(frozen=True)
class Run:
    """One EXPLAIN of a round trip: EXECUTE of the prepared statement ``name`` with ``args`` (None: generic)."""

    name: str | None          # None: the statement has no $n and is explained as it stands
    args: list[str] | None
    text: str | None = None   # a statement of its own to PREPARE first (some values inlined)
    nparams: int = 0
    types: str = ""
    settings: str = ""        # set_config calls for this plan alone (explain_settings)



def deallocate(conn: psycopg.Connection[Any], name: str) -> None:
    """Free pgtune's prepared statement ``name`` if it exists (never DEALLOCATE ALL: psycopg has its own)."""
    row = conn.execute("SELECT /* pgtune */ count(*) FROM pg_catalog.pg_prepared_statements WHERE name = %s",
                       (name,), prepare=False).fetchone()
    if row and row[0]:
        # Gone in between is fine: psycopg's DEALLOCATE ALL after a ROLLBACK (it holds its own _pg3_N) takes ours too.
        with contextlib.suppress(psycopg.errors.InvalidSqlStatementName):
            conn.execute(f"DEALLOCATE /* pgtune */ {name}", prepare=False)


_SAVEPOINT = "SAVEPOINT /* pgtune */ pgtune_explain"
_END_SAVEPOINT = ["ROLLBACK /* pgtune */ TO SAVEPOINT pgtune_explain", "RELEASE /* pgtune */ SAVEPOINT pgtune_explain"]


def end_failed(conn: psycopg.Connection[Any], nested: bool) -> None:
    """After a failure skipped the rest of a Round's pipeline: end its transaction (its savepoint when nested)."""
    if nested:
        if conn.info.transaction_status == pq.TransactionStatus.INERROR:
            for step in _END_SAVEPOINT:
                conn.execute(step, prepare=False)
    elif conn.info.transaction_status != pq.TransactionStatus.IDLE:
        conn.execute("ROLLBACK /* pgtune */", prepare=False)


@dataclass(frozen=True, slots=True)
class Script:
    """A Round's statements: its transaction, the settings it plans under, its PREPAREs, (plan_cache_mode,
    EXPLAIN) per scenario, the end of the transaction; the names it prepares (freed after the plans)."""

    begin: list[str]
    setup: list[str]          # set_config(..., true) calls: LOCAL, they end with the transaction
    role: list[str]
    prepares: list[str]
    lasts: list[tuple[str, str]]
    end: list[str]
    names: list[str]
    overrides: tuple[str, ...] = ()     # per plan of ``lasts``, its Run.settings; ``reset`` gives the Round's back
    reset: str = ""


class Shared:
    """One READ ONLY transaction for the Rounds of a pipeline (analyze.batch), instead of one each.

    Rounds that plan under the same settings (statement_timeout, the role's
    search_path and policies' settings, SET LOCAL ROLE) join the open one; a
    Round under other settings ends it and opens its own. plan_cache_mode is
    set only when a plan needs another than the one set. ``close`` ends the
    last one before the pipeline is synced for good. Nothing a plan does
    needs undoing between Rounds: EXPLAIN without ANALYZE runs nothing, and
    HypoPG's indexes live outside transactions. Not for a caller's open
    transaction (a Round nests its own savepoint there).
    """

    def __init__(self) -> None:
        self.key: tuple[tuple[str, ...], tuple[str, ...]] | None = None
        self.mode = ""

    def join(self, cur: psycopg.Cursor[Any] | Wire, s: Script) -> str:
        """Queue what opens a transaction under ``s``'s settings unless one is open; the mode set in it."""
        key = (tuple(s.setup), tuple(s.role))
        if key != self.key:
            self.close(cur)
            mode = s.lasts[0][0] if s.lasts else ""     # the first plan's mode is set with the rest
            for step in [*s.begin, select([*s.setup, *([mode_call(mode)] if mode else [])]), *s.role]:
                cur.execute(step, prepare=False)
            self.key, self.mode = key, mode
        return self.mode

    def ends(self, s: Script) -> bool:
        """Would ``s`` end the open transaction to open its own (other settings, another role)?"""
        return self.key is not None and (tuple(s.setup), tuple(s.role)) != self.key

    def close(self, cur: psycopg.Cursor[Any] | Wire) -> None:
        if self.key is not None:
            cur.execute("ROLLBACK /* pgtune */", prepare=False)
            self.key = None


def select(calls: list[str]) -> str:
    """One statement sets them all for this transaction only (set_config(..., true) is SET LOCAL)."""
    return f"SELECT /* pgtune */ {', '.join(calls)}"


def mode_call(mode: str) -> str:
    return f"pg_catalog.set_config('plan_cache_mode', '{mode}', true)"


@lru_cache(maxsize=64)
def _timeout_call(timeout_ms: int) -> str:
    """One text for every Round's timeout call (a new one each was 58 bytes a script, kept with its Round)."""
    return f"pg_catalog.set_config('statement_timeout', '{timeout_ms}', true)"


@lru_cache(maxsize=256)
def _setup(timeout_ms: int, context: tuple[str, ...]) -> list[str]:
    """The settings' calls: one list (never changed) for the Rounds with the same, 150 bytes a Round otherwise."""
    return ["pg_catalog.set_config('standard_conforming_strings', 'on', true)", _timeout_call(timeout_ms),
            # Whatever session this is: a forced generic plan sampled by pg_qualstats can crash the backend
            # (set only where the setting exists: connect.QUALSTATS_OFF).
            "CASE WHEN pg_catalog.current_setting('pg_qualstats.enabled', true) IS NOT NULL "
            "THEN pg_catalog.set_config('pg_qualstats.enabled', 'off', true) END",
            *context]      # the role's search_path, what its policies read (PlanContext)


def script(query: str, options: str, nparams: int, timeout_ms: int, types: str, runs: list[Run],
           context: list[str], role: str | None, nested: bool = False, name: str = STMT_NAME,
           reset: str = "") -> Script:
    """A Round's statements; ``context``: the set_config calls of the session it plans in (explain.PlanContext),
    ``role``: its SET LOCAL ROLE; ``name``: what the statement is prepared as (Kept's name for it)."""
    # PREPARE + a forced generic plan (or, with values, a custom plan) on every version. EXPLAIN (GENERIC_PLAN)
    # (16+) cannot go through the extended protocol: its $n must be bound then, and the planner folds the values.
    calls = _setup(int(timeout_ms), tuple(context))
    prepares = [f"PREPARE /* pgtune */ {name}{types} AS {query}"] if any(r.name == STMT_NAME for r in runs) else []
    names = [name] if prepares else []
    lasts: list[tuple[str, str]] = []
    for r in runs:
        if r.name is None:
            lasts.append(("", f"EXPLAIN /* pgtune */ ({options}) {query}"))
            continue
        if r.text is not None:
            prepares.append(f"PREPARE /* pgtune */ {r.name}{r.types} AS {r.text}")
            names.append(r.name)
        count = r.nparams if r.text is not None else nparams
        lasts.append(("force_custom_plan" if r.args else "force_generic_plan",
                      f"EXPLAIN /* pgtune */ ({options}) EXECUTE {name if r.name == STMT_NAME else r.name}"
                      f"({', '.join(r.args or ['NULL'] * count)})"))
    begin = [_SAVEPOINT, "SET /* pgtune */ TRANSACTION READ ONLY"] if nested else ["BEGIN /* pgtune */ READ ONLY"]
    overrides = tuple(r.settings for r in runs) if reset else ()
    return Script(begin, calls, [role] if role is not None else [], prepares, lasts,
                  _END_SAVEPOINT if nested else ["ROLLBACK /* pgtune */"], names, overrides, reset)


def renamed(s: Script, name: str) -> Script:
    """``s`` (every plan an EXECUTE of STMT_NAME, prepared first) with the statement prepared as ``name``: edited
    where ``script`` put the name, ahead of the statement and values (a Round keeps no other copy of them)."""
    head = f"PREPARE /* pgtune */ {STMT_NAME}"
    call = f") EXECUTE {STMT_NAME}("
    assert s.prepares[0].startswith(head) and all(call in last for _, last in s.lasts)
    lasts = []
    for mode, last in s.lasts:
        at = last.index(call)       # the first: the options before it hold no such text
        lasts.append((mode, f"{last[:at]}) EXECUTE {name}({last[at + len(call):]}"))
    return replace(s, prepares=[f"PREPARE /* pgtune */ {name}{s.prepares[0][len(head):]}", *s.prepares[1:]],
                   lasts=lasts, names=[name if n == STMT_NAME else n for n in s.names])


def read_only(conn: psycopg.Connection[Any], query: abc.Query, timeout_ms: int) -> list[tuple[Any, ...]]:
    """``query``'s rows, read in a READ ONLY transaction under ``timeout_ms`` and rolled back: one round trip (a
    pipeline), not five (BEGIN, two SETs, the query, ROLLBACK: 2,500 of them for speed.py's key samples at 5,000
    statements, issue 28). Its failure is raised as the server's (a timeout: QueryCanceled), never psycopg's
    "pipeline aborted" for the ROLLBACK it skipped; the transaction is ended all the same. Within a caller's
    transaction, a savepoint stands for it (psycopg's own, as before)."""
    if conn.info.transaction_status != pq.TransactionStatus.IDLE or not conn.autocommit:
        with conn.transaction(force_rollback=True):
            conn.execute("SET /* pgtune */ TRANSACTION READ ONLY")
            conn.execute(f"SET /* pgtune */ LOCAL statement_timeout = {int(timeout_ms)}")
            return conn.execute(query).fetchall()
    failure: psycopg.Error | None = None
    rows: list[tuple[Any, ...]] = []
    try:
        with conn.pipeline(), conn.cursor() as cur:
            try:
                for step in ("BEGIN /* pgtune */ READ ONLY",
                             f"SET /* pgtune */ LOCAL statement_timeout = {int(timeout_ms)}"):
                    conn.execute(step, prepare=False)
                cur.execute(query, prepare=False)
                conn.execute("ROLLBACK /* pgtune */", prepare=False)
            except psycopg.Error as exc:
                failure = exc       # raised once the block is left (leaving it with one in flight logs a warning)
            if failure is None:
                rows = cur.fetchall()
    except psycopg.Error as exc:
        failure = failure or exc
    finally:
        if not lost(conn) and conn.info.transaction_status in (pq.TransactionStatus.INTRANS,
                                                               pq.TransactionStatus.INERROR):
            conn.execute("ROLLBACK /* pgtune */", prepare=False)     # the failure skipped the pipeline's
    if failure is not None:
        raise failure
    return rows


@contextmanager
def lenient(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """Read text and json (hypopg's names, EXPLAIN's "Index Name") without failing on a cut character."""
    oids = {"text": (conn.adapters.types["text"].oid, LenientText),
            "json": (conn.adapters.types["json"].oid, LenientJson)}
    before = {oid: conn.adapters.get_loader(oid, Format.TEXT) for oid, _ in oids.values()}
    for oid, loader in oids.values():
        conn.adapters.register_loader(oid, loader)
    try:
        yield
    finally:
        for oid, previous in before.items():
            if previous is not None:
                conn.adapters.register_loader(oid, previous)


KEPT_PREFIX = "pgtune_kept_"


class Kept:
    """Statements a what-if session keeps prepared across its pipelines (analyze.batch), by text and settings.

    A what-if session plans the same statement again and again, each time with
    other hypothetical indexes: PREPARE and DEALLOCATE were a third of what it
    sent. Only a Round whose every plan is a custom one keeps its statement
    (explain.Round.send): a custom plan is made afresh at each EXECUTE, so it
    sees the hypothetical indexes of the moment, where a generic plan would be
    reused from the cache (HypoPG invalidates nothing). The first ``limit``
    statements are kept (about 10.6 kB of the server's memory each, measured
    on PostgreSQL 15), the others only for a pipeline (below): selection
    asks about the whole workload again and again, so a least-recently-used
    set smaller than it would keep none that is asked again. The session frees
    them all at its end (``clear``), as after a failure, when which of them
    exist is not known any more.

    The statements priced before the selection (``provisional`` while they are:
    analyze.batch) are kept too, but give their place, once the limit is
    reached, to one the selection asks about: a statement no candidate touches
    is priced but never asked again, and must not keep out those that are.

    One beyond the limit is kept for one pipeline (``passing``), freed at its end
    (``passed``), not prepared and freed per plan: a pipeline may ask about it with
    one candidate after another (analyze.batch._grouped); it holds a few hundred.
    """

    def __init__(self, limit: int = 4000) -> None:
        self.limit = limit
        self.names: dict[tuple[object, ...], str] = {}
        self.provisional = False    # keeping for a pricing pass
        self.priced: dict[tuple[object, ...], None] = {}     # kept by one and not asked about since, oldest first
        self.passing: dict[tuple[object, ...], str] = {}     # beyond the limit: kept until the pipeline's end

    def name(self, key: tuple[object, ...]) -> tuple[str, bool, bool] | None:
        """The name ``key`` is prepared as, whether it must be prepared now, and whether another statement must be
        freed from that name first; None: not kept."""
        found = self.names.get(key)
        if found is not None:
            if not self.provisional:
                self.priced.pop(key, None)
            return found, False, False
        if len(self.names) >= self.limit:
            if self.provisional or not self.priced:
                return self._passing(key)
            gone = next(iter(self.priced))      # its place, and its name
            del self.priced[gone]
            self.names[key] = self.names.pop(gone)
            return self.names[key], True, True
        name = self.names[key] = f"{KEPT_PREFIX}{len(self.names) + 1}"
        if self.provisional:
            self.priced[key] = None
        return name, True, False

    def _passing(self, key: tuple[object, ...]) -> tuple[str, bool, bool]:
        """``key``'s name for the open pipeline (numbered after the lasting ones), and whether to prepare it."""
        if (found := self.passing.get(key)) is not None:
            return found, False, False
        name = self.passing[key] = f"{KEPT_PREFIX}{self.limit + len(self.passing) + 1}"
        return name, True, False

    def lasting(self, name: str) -> bool:   # kept beyond the open pipeline (a Round may keep its script under it)?
        return int(name[len(KEPT_PREFIX):]) <= self.limit

    def passed(self) -> list[str]:
        """The DEALLOCATEs of the statements kept for the pipeline that ends (sent in it, before its sync)."""
        out = [f"DEALLOCATE /* pgtune */ {name}" for name in self.passing.values()]
        self.passing.clear()
        return out

    def clear(self, conn: psycopg.Connection[Any]) -> None:
        """Free every statement kept (those the server has: after a failure some never were prepared)."""
        self.names.clear()
        self.priced.clear()
        self.passing.clear()
        rows = conn.execute("SELECT /* pgtune */ name FROM pg_catalog.pg_prepared_statements "
                            "WHERE starts_with(name, %s)", (KEPT_PREFIX,), prepare=False).fetchall()
        if rows:
            with conn.pipeline():
                for (name,) in rows:
                    conn.execute(f"DEALLOCATE /* pgtune */ {KEPT_PREFIX}{int(name[len(KEPT_PREFIX):])}",
                                 prepare=False)


class Answer:
    """A statement's result in a Wire, once it is synced: its rows as text (None: NULL)."""

    __slots__ = ("encoding", "result")

    def __init__(self, encoding: str) -> None:
        self.result: pq.abc.PGresult | None = None
        self.encoding = encoding

    def fetchall(self) -> list[tuple[str | None, ...]]:
        res = self.result
        assert res is not None, "read before its pipeline was synced"
        # Leniently, as ``lenient`` reads them: HypoPG cuts a long name through a multibyte character.
        # A list per row made into a tuple, not a generator per row: 123,000 rows of hypopg_create_index at
        # benchmarks/speed.py's 5,000 statements (issue 28).
        get, encoding, columns = res.get_value, self.encoding, range(res.nfields)
        return [tuple([None if (v := get(r, c)) is None else bytes(v).decode(encoding, "replace") for c in columns])
                for r in range(res.ntuples)]

    def fetchone(self) -> tuple[str | None, ...] | None:
        rows = self.fetchall()
        return rows[0] if rows else None

    def close(self) -> None:
        self.result = None


class Wire:
    """One pipeline of statements sent straight through libpq (``conn.pgconn``), results read as they come.

    What-if costing sends about 180,000 statements for benchmarks/speed.py's
    5,000: through psycopg's Cursor each one was a cursor, a query conversion,
    a poll and a send of its own, about 40 microseconds of pgtune's CPU each
    (a fifth of it), and the server woke for each. Here a statement is one
    libpq call into the output buffer. ``flush`` (between questions) sends
    them with a Flush message, so that the server plans and sends back while
    pgtune works, and takes in the results that are there without waiting
    (``pending``: statements not read back yet); ``take`` waits for them down
    to a number; ``sync`` reads everything. Every statement is still its own
    (the extended protocol, one command a string: workload text never shares
    one with other SQL), parameters are dumped by psycopg's adapters as
    Cursor.execute dumps them (``$n`` placeholders), and a failure is raised at
    ``sync``, after the pipeline is read to its end, as the psycopg error the
    server's result makes (``failed`` says one came back before). Not for a
    transaction the connection's psycopg side holds open; nothing else may use
    ``conn`` meanwhile.
    """

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn, self.pg = conn, conn.pgconn
        self.encoding = conn.info.encoding
        self.slots: deque[Answer | None] = deque()     # one per statement sent and not yet read back
        self.unsynced = False     # statements sent since the last sync mark
        self.marks = 0            # sync marks sent and not yet read back
        self.tx: abc.Transformer | None = None
        self.results: list[pq.abc.PGresult] = []    # the statement being read back: its results so far
        self.failure: psycopg.Error | None = None   # the first failure read back

    def __enter__(self) -> Wire:
        self.pg.enter_pipeline_mode()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if kind is None:
            try:
                self.sync()
            finally:
                self.pg.exit_pipeline_mode()
            return
        if self.pg.status == pq.ConnStatus.OK:
            # Read what is left of the pipeline (Ctrl-C, say) so that the connection can be used again.
            with contextlib.suppress(psycopg.Error, KeyboardInterrupt):
                self.sync()
            with contextlib.suppress(psycopg.Error):
                self.pg.exit_pipeline_mode()

    def execute(self, query: str, params: Sequence[Any] | None = None, *, prepare: bool | None = None,
                read: bool = False) -> Answer:
        """Queue ``query`` (``$n``: ``params``); its Answer is filled in once read back when ``read``.
        (``prepare``: as Cursor.execute's, which a Wire stands in for; a Wire never prepares one itself.)"""
        text = query.encode(self.encoding)
        if params:
            tx = self.tx = self.tx or Transformer(self.conn)
            values = tx.dump_sequence(params, [PyFormat.AUTO] * len(params))
            self.pg.send_query_params(text, values, tx.types, tx.formats)
        else:
            self.pg.send_query_params(text, None)
        answer = Answer(self.encoding) if read else None
        self.slots.append(answer)
        self.unsynced = True
        return answer or _UNREAD

    @property
    def pending(self) -> int:
        """Statements sent and not read back yet."""
        return len(self.slots)

    def flush(self) -> None:
        """Send what is queued, asking the server to send back what it has done so far (a Flush message, no
        sync: nothing waits for it), and take in the results that are there, without waiting: the server plans
        meanwhile, and never stalls on a full socket of plans nobody reads yet."""
        if self.unsynced:
            self.pg.send_flush_request()
        self.pg.flush()
        self.pg.consume_input()
        self._read(None)

    def take(self, pending: int) -> None:
        """Read results, waiting for them, until at most ``pending`` statements are not read back."""
        if len(self.slots) > pending:
            # All of it sent first, with a Flush message: the server sends back what it has done at once.
            self.pg.send_flush_request()
            self.conn.wait(generators.send(self.pg))
            self._read(pending)

    def drain(self) -> None:
        """Read every result sent so far, waiting for them (a round trip, without a sync mark)."""
        self.take(0)

    def sync(self) -> None:
        """Send everything queued and read every result; raise the first failure, if any, once all are read."""
        if self.unsynced:
            self.pg.pipeline_sync()
            self.marks, self.unsynced = self.marks + 1, False
        if not self.marks:
            return
        self.conn.wait(generators.send(self.pg))
        self._read(-1)
        failure, self.failure = self.failure, None
        if failure is not None:
            raise failure

    def _read(self, pending: int | None) -> None:
        """Read back results in order: those already here (``pending`` None), down to ``pending`` statements
        not read back (waiting for them), or to the last sync mark (-1)."""
        pg = self.pg
        while self.marks if pending == -1 else pending is None or len(self.slots) > pending:
            if pg.is_busy():
                if pending is None:
                    return
                res = self.conn.wait(generators.fetch(pg))
            else:
                res = pg.get_result()
            if res is None:     # the end of one statement's results
                if not self.results:
                    if pending is None:
                        return      # nothing sent is left to read (libpq says so with a NULL)
                    continue
                results, self.results = self.results, []
                slot = self.slots.popleft() if self.slots else None
                for r in results:
                    if self.failure is None and r.status == pq.ExecStatus.FATAL_ERROR:
                        self.failure = errors.error_from_result(r, encoding=self.encoding)
                    elif self.failure is None and r.status == pq.ExecStatus.PIPELINE_ABORTED:
                        self.failure = errors.PipelineAborted("pipeline aborted")
                if slot is not None:
                    slot.result = results[-1]
            elif res.status == pq.ExecStatus.PIPELINE_SYNC:     # not followed by a NULL
                self.marks -= 1
            else:
                self.results.append(res)


_UNREAD = Answer("utf-8")   # what ``execute`` returns for a statement whose result is not read
