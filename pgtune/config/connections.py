"""Connections: short-lived or idle sessions (a pooler), sessions idle in a transaction, max_connections.

pg_stat_database counts sessions and their total time (PostgreSQL 14+): many
sessions a second, each lasting a fraction of a second, is an application
connecting per request — every connection forks a backend and builds its
caches again. A pooler (PgBouncer, pgcat, the driver's own pool) fixes it; no
server setting does, so pgtune says so with the numbers and what the pooler
changes for the application. A session idle in a transaction holds its
snapshot and locks: vacuum cannot remove what it might still see.
idle_in_transaction_session_timeout for that role ends such sessions.
"""

from __future__ import annotations

from collections import defaultdict

from .context import Context
from .model import Advice, Family, Symptom

SHORT_SESSION_MS = 1000.0
MIN_SESSIONS_PER_S = 1.0
MIN_SESSIONS = 100
IDLE_IN_TX_S = 60.0
IDLE_IN_TX_TIMEOUT = "5min"

POOLER_CHANGES = [
    "transaction pooling gives a connection per transaction: session state does not carry over — SET (use SET LOCAL), "
    "temporary tables, advisory locks taken with pg_advisory_lock, LISTEN, WITH HOLD cursors",
    "prepared statements: named protocol-level statements need PgBouncer 1.21+ with max_prepared_statements, or "
    "the driver's unnamed statements (e.g. prepareThreshold=0, Prisma's pgbouncer=true)",
    "session pooling keeps all of that and still saves the fork per request, but holds a server connection per client",
    "point the application at the pooler; migrations and pgtune apply connect to the server directly",
]


def propose(ctx: Context) -> None:
    _short_sessions(ctx)
    _idle_in_transaction(ctx)
    _near_limit(ctx)


def _short_sessions(ctx: Context) -> None:
    c = ctx.snap.counters
    if c.sessions < MIN_SESSIONS:
        return
    rate = c.sessions / ctx.snap.seconds
    mean_ms = c.session_ms / c.sessions
    if rate < MIN_SESSIONS_PER_S or mean_ms > SHORT_SESSION_MS:
        return
    ctx.advice.append(Advice(
        Family.CONNECTIONS, "put a connection pooler between the application and the server",
        f"{c.sessions:,} sessions in {ctx.snap.seconds:,.0f} s ({rate:,.1f} a second), each {mean_ms:,.0f} ms on "
        "average: the application connects per request, and every connection forks a backend",
        POOLER_CHANGES, Symptom.SHORT_CONNECTIONS,
        {"sessions": c.sessions, "seconds": round(ctx.snap.seconds, 1), "sessions_per_s": round(rate, 2),
         "mean_session_ms": round(mean_ms, 1), "transactions": c.transactions}))


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


def _near_limit(ctx: Context) -> None:
    limit = int(ctx.snap.setting("max_connections").number)
    now = sum(s.count for s in ctx.snap.sessions)
    idle = sum(s.count for s in ctx.snap.sessions if s.state == "idle")
    if now < 0.8 * limit:
        return
    ctx.advice.append(Advice(
        Family.CONNECTIONS, "the server is near max_connections: pool rather than raise it",
        f"{now} of max_connections {limit} sessions are open, {idle} of them idle; raising max_connections costs "
        "memory per session (see the budget) and snapshot work per transaction", POOLER_CHANGES,
        Symptom.SHORT_CONNECTIONS, {"sessions": now, "idle": idle, "max_connections": limit}))
