"""Connections: max_connections from the connections used, a pooler, sessions idle in a transaction.

pg_stat_database counts sessions and their total time (PostgreSQL 14+): many
sessions a second, each lasting a fraction of a second, is an application
connecting per request — every connection forks a backend and builds its
caches again. A pooler (PgBouncer, pgcat, the driver's own pool) fixes it; no
server setting does, so pgtune says so with the numbers and what the pooler
changes for the application — naming the session features the workload
actually uses (pg_stat_statements: SET, PREPARE, advisory locks, LISTEN,
temporary tables, WITH HOLD cursors).

max_connections (a restart) is sized from the most sessions seen open (sampled
every second over --window; else the count at the reading), with room to
double and the superuser's reserved slots, rounded up to ten:
- raised when the sessions reach 80% of it and they are busy, long-lived
  connections (a pool that is full), if the memory budget carries every
  connection at the work_mem in force; otherwise pool, not raise;
- lowered only from a --window's peak, when a pooler holds the connections
  (application_name, or DISCARD ALL: the reset a session pooler runs) or the
  memory budget held a work_mem proposal back because of the connections —
  every slot counts in the budget whether used or not.
A session idle in a transaction holds its snapshot and locks: vacuum cannot
remove what it might still see; idle_in_transaction_session_timeout for that
role ends such sessions.
"""

from __future__ import annotations

import math
from collections import defaultdict

from . import budget
from .context import Context
from .model import Advice, Family, Proposal, Scope, Symptom
from .units import human
from .workload import Kind

SHORT_SESSION_MS = 1000.0
MIN_SESSIONS_PER_S = 1.0
MIN_SESSIONS = 100
IDLE_IN_TX_S = 60.0
IDLE_IN_TX_TIMEOUT = "5min"
NEAR_LIMIT = 0.8            # sessions at this share of max_connections: near the limit
BUSY_SHARE = 0.5            # fewer idle sessions than this share: the connections are busy

POOLER_CHANGES = [
    "transaction pooling gives a connection per transaction: session state does not carry over — SET (use SET LOCAL), "
    "temporary tables, advisory locks taken with pg_advisory_lock (use pg_advisory_xact_lock), LISTEN, WITH HOLD "
    "cursors",
    "prepared statements: named protocol-level statements need PgBouncer 1.21+ with max_prepared_statements, or "
    "the driver's unnamed statements (e.g. prepareThreshold=0, Prisma's pgbouncer=true); SQL-level PREPARE does "
    "not survive the transaction",
    "session pooling keeps all of that and still saves the fork per request, but holds a server connection per client",
    "point the application at the pooler; migrations and pgtune apply connect to the server directly",
]
FEATURE_NAMES = {Kind.SET: "SET outside SET LOCAL", Kind.PREPARE: "SQL-level PREPARE/EXECUTE",
                 Kind.ADVISORY_LOCK: "session advisory locks (pg_advisory_lock)", Kind.LISTEN: "LISTEN",
                 Kind.TEMPORARY_TABLE: "temporary tables", Kind.HOLD_CURSOR: "WITH HOLD cursors"}


def propose(ctx: Context) -> None:
    short = _short_sessions(ctx)
    _idle_in_transaction(ctx)
    _max_connections(ctx, short)


def pooled(ctx: Context) -> list[str]:
    """Signs of a pooler in front: sessions named for one, a session pooler's DISCARD ALL, or --pooler."""
    signs = [f"{n} session(s) of application_name {name!r}" for name, n in sorted(ctx.snap.pooler_sessions.items())]
    discard = ctx.snap.workload.features((Kind.DISCARD_ALL,))
    if discard:
        signs.append(f"DISCARD ALL ran {discard[0].calls:,} times (a session pooler's reset between clients)")
    if ctx.pooler is True:
        signs.append("--pooler")
    return [] if ctx.pooler is False else signs


def what_changes(ctx: Context) -> tuple[list[str], dict[str, int]]:
    """What a transaction pooler changes, the session features this workload uses first."""
    used = ctx.snap.workload.features()
    lines = [f"this workload uses {FEATURE_NAMES[f.kind]}: {f.calls:,} calls of {f.statements} statement(s), e.g. "
             f"{f.example[:120]!r}" for f in used]
    if ctx.snap.statements_readable and not used:
        lines.append("pg_stat_statements shows no SET, PREPARE, session advisory lock, LISTEN, temporary table or "
                     "WITH HOLD cursor in this database (protocol-level prepared statements do not show there)")
    return lines + POOLER_CHANGES, {str(f.kind): f.calls for f in used}


def _short_sessions(ctx: Context) -> bool:
    c = ctx.snap.counters
    if c.sessions < MIN_SESSIONS:
        return False
    rate = c.sessions / ctx.snap.seconds
    mean_ms = c.session_ms / c.sessions
    if rate < MIN_SESSIONS_PER_S or mean_ms > SHORT_SESSION_MS:
        return False
    changes, features = what_changes(ctx)
    ctx.advice.append(Advice(
        Family.CONNECTIONS, "put a connection pooler between the application and the server",
        f"{c.sessions:,} sessions in {ctx.snap.seconds:,.0f} s ({rate:,.1f} a second), each {mean_ms:,.0f} ms on "
        "average: the application connects per request, and every connection forks a backend",
        changes, Symptom.SHORT_CONNECTIONS,
        {"sessions": c.sessions, "seconds": round(ctx.snap.seconds, 1), "sessions_per_s": round(rate, 2),
         "mean_session_ms": round(mean_ms, 1), "transactions": c.transactions, "session_features": features}))
    return True


def _idle_in_transaction(ctx: Context) -> None:
    if ctx.snap.setting("idle_in_transaction_session_timeout").number > 0:
        return
    idle: dict[str, tuple[int, float]] = defaultdict(lambda: (0, 0.0))
    for s in ctx.snap.sessions:
        if s.state.startswith("idle in transaction") and s.longest_s >= IDLE_IN_TX_S and s.role:
            n, longest = idle[s.role]
            idle[s.role] = (n + s.count, max(longest, s.longest_s))
    for role, (n, longest) in sorted(idle.items()):
        own = ctx.snap.role_value(role, ctx.snap.database, "idle_in_transaction_session_timeout")
        if own is not None:
            continue
        ctx.role(role, "idle_in_transaction_session_timeout", IDLE_IN_TX_TIMEOUT, Family.CONNECTIONS,
                 f"{n} session(s) of role {role} sat idle in a transaction, the longest for {longest:,.0f} s: their "
                 "snapshot holds back vacuum and their locks block DDL",
                 f"a session of {role} idle in a transaction for {IDLE_IN_TX_TIMEOUT} is ended (its transaction "
                 "rolls back): no session stays idle in a transaction longer", Symptom.IDLE_IN_TRANSACTION,
                 sessions=n, longest_s=round(longest, 1))


def needed(peak: int, reserved: int) -> int:
    """Room to double the peak (at least 20 more), the reserved slots, rounded up to ten."""
    return int(math.ceil((max(2 * peak, peak + 20) + reserved) / 10) * 10)


def _max_connections(ctx: Context, short: bool) -> None:
    limit = int(ctx.snap.setting("max_connections").number)
    reserved = int(ctx.snap.setting("superuser_reserved_connections").number)
    peak = ctx.snap.peak_sessions
    idle = sum(s.count for s in ctx.snap.sessions if s.state == "idle")
    now = sum(s.count for s in ctx.snap.sessions)
    need = needed(peak, reserved)
    signs = pooled(ctx)
    evidence = {"peak_sessions": peak, "sessions_now": now, "idle_now": idle, "max_connections": limit,
                "superuser_reserved_connections": reserved, "peak_sampled": ctx.snap.window,
                "pooler_signs": signs, "short_sessions": short}
    if peak >= NEAR_LIMIT * (limit - reserved):
        _near_limit(ctx, limit, need, peak, idle, now, short, signs, evidence)
    elif need < limit and ctx.snap.window and (signs or ctx.work_mem_held):
        _lower(ctx, limit, need, peak, signs, evidence)


def _near_limit(ctx: Context, limit: int, need: int, peak: int, idle: int, now: int, short: bool,
                signs: list[str], evidence: dict[str, object]) -> None:
    busy = now > 0 and idle < BUSY_SHARE * now and not short
    if busy or signs:
        candidate = _candidate(ctx, need, limit, peak, True, signs, evidence)
        checked = budget.check(budget.effective(ctx.snap, [*ctx.proposals, candidate]), ctx.memory())
        if checked.memory_bytes is None or checked.total_bytes <= budget.HEADROOM * checked.memory_bytes:
            ctx.proposals.append(candidate)
            return
        ctx.notes.append(f"max_connections {need} would not fit the memory budget ({checked.message}): pool "
                         "instead of raising it")
    changes, features = what_changes(ctx)
    ctx.advice.append(Advice(
        Family.CONNECTIONS, "the server is near max_connections: pool rather than raise it",
        f"{peak} of max_connections {limit} sessions were open, {idle} of them idle now"
        + (", and sessions are short-lived" if short else "") + "; raising max_connections costs memory per "
        "session (see the budget) and snapshot work per transaction", changes, Symptom.CONNECTION_LIMIT,
        {**evidence, "session_features": features}))


def _lower(ctx: Context, limit: int, need: int, peak: int, signs: list[str], evidence: dict[str, object]) -> None:
    candidate = _candidate(ctx, need, limit, peak, False, signs, evidence)
    before = budget.set_cap(ctx.snap, ctx.proposals, ctx.memory())
    after = budget.work_mem_cap(budget.effective(ctx.snap, [*ctx.proposals, candidate]), ctx.memory())
    if not signs and (after is None or after < ctx.work_mem_held):
        return              # lowering would not make room for the work_mem the budget held back
    candidate.evidence.update(work_mem_cap_now=before, work_mem_cap_after_restart=after,
                              work_mem_held=ctx.work_mem_held or None)
    if after is not None and before is not None:
        candidate.expect += (f"; after the restart the memory budget allows work_mem up to {human(after)} per "
                             f"connection (now {human(before)})"
                             + (": the next pgtune config run raises what it held back" if ctx.work_mem_held else ""))
    ctx.proposals.append(candidate)


def _candidate(ctx: Context, value: int, limit: int, peak: int, raising: bool, signs: list[str],
               evidence: dict[str, object]) -> Proposal:
    s = ctx.snap.setting("max_connections")
    seen = f"at most {peak} sessions were open " + ("in the window (sampled every second)" if ctx.snap.window
                                                      else "at the reading")
    if raising:
        pooler = f"; a pooler is in front ({'; '.join(signs)})" if signs else ""
        why = f"{seen} against max_connections {limit}, busy{pooler}: new connections are refused soon"
        expect = f"{value} connections: room to double the peak; sessions stay under {NEAR_LIMIT:.0%} of the limit"
    else:
        why = (f"{seen}; max_connections is {limit}"
               + (f", and a pooler holds the connections ({'; '.join(signs)})" if signs else "")
               + (f"; the memory budget held work_mem back (a spill needs {human(ctx.work_mem_held)}) because it "
                  "counts every connection slot" if ctx.work_mem_held else ""))
        expect = (f"{value} connections: room to double the peak, the reserved slots kept; sessions stay under "
                  f"{NEAR_LIMIT:.0%} of the new limit (read it over your busiest hour before the restart)")
    return Proposal("max_connections", Family.CONNECTIONS, Scope.RESTART, str(value), s.shown, s.source, s.context,
                    s.pending_restart, why, expect, Symptom.CONNECTION_LIMIT, {"max_connections": s.shown, **evidence})
