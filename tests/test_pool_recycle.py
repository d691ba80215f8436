"""A what-if session's backend is bounded (analyze.pool.MAX_SESSION_MB): one that grows past it is closed and opened
again between questions, and the advice is the one of never recycling.

A what-if backend grows with the workload: the caches of each table planned, the kept statements, and HypoPG's
memory, which keeps part of every hypothetical index made (not freed by hypopg_reset; only a new session frees it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

from pgtune.analyze import pool

from .test_pool import _advice, _left, _pids, _shop, _worker


@pytest.fixture(autouse=True)
def _tracked(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests count pgtune's round trips in pg_stat_statements: its sessions keep tracking here (p19 turned
    tracking off in the sessions pgtune opens, so that they evict none of the application's entries)."""
    monkeypatch.setattr(pool, "untrack_statements", lambda _conn: None)


def test_a_session_reads_its_own_backends_memory(conn: psycopg.Connection[Any]) -> None:
    used = pool.backend_bytes(conn)
    assert used is not None and used > 100_000


@pytest.mark.needs_hypopg
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_session_past_the_cap_is_recycled_between_questions_and_the_advice_is_the_same(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch, jobs: int) -> None:
    """With one session too: the first what-if session is the pool's (pgtune's own connection plans nothing)."""
    statements = _shop(conn, 6)
    before = _pids(conn)
    kept = _advice(conn, statements, jobs)
    assert kept[0]
    made: list[pool.Pool[Any]] = []
    real = pool.pool

    @contextmanager
    def watched(*args: Any) -> Iterator[pool.Pool[Any]]:
        with real(*args) as sessions:
            made.append(sessions)
            yield sessions

    monkeypatch.setattr(pool, "pool", watched)
    monkeypatch.setattr(pool, "MAX_SESSION_MB", 0)      # any backend is past it: recycled at each check
    monkeypatch.setattr(pool, "CHECK_EVERY", 0.0)
    assert _advice(conn, statements, jobs) == kept
    assert made and made[0].recycled > 10 * jobs
    assert _left(conn, before) == set()      # each session recycled was closed, the last with the pool


def test_a_recycled_worker_is_new_and_answers_on_a_new_session(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "MAX_SESSION_MB", 0)
    monkeypatch.setattr(pool, "CHECK_EVERY", 0.0)
    with psycopg.connect(db, autocommit=True) as conn:
        before = _pids(conn)
        with pool.pool(None, conn, 1, _worker) as sessions:
            first = sessions.first
            pids = sessions.map(lambda w, n: w.conn.info.backend_pid, list(range(3)))
            assert sessions.first is not first and sessions.recycled == 3
            assert len(set(pids)) == 3 and conn.info.backend_pid not in pids
            assert sessions.conns[0].info.backend_pid == pids[-1]
        assert _left(conn, before) == set()
        assert not conn.closed


def test_below_the_cap_a_session_is_kept(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn, pool.pool(None, conn, 1, _worker) as sessions:
        pids = sessions.map(lambda w, n: w.conn.info.backend_pid, list(range(3)))
        assert len(set(pids)) == 1 and sessions.recycled == 0


def _asked(conn: psycopg.Connection[Any]) -> int:
    """How often this database's sessions asked whether the role may read pg_backend_memory_contexts."""
    row = conn.execute("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE "
                       "'%%has_table_privilege(c.oid, $1) AS readable%%' AND dbid = "
                       "(SELECT oid FROM pg_database WHERE datname = current_database())").fetchone()
    return int(row[0]) if row else -1


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_pool_asks_once_whether_it_may_read_its_sessions_memory(db: str, monkeypatch: pytest.MonkeyPatch,
                                                                   jobs: int) -> None:
    """The role is every session's: the pool asked before each memory read (m15, a round trip per check)."""
    monkeypatch.setattr(pool, "CHECK_EVERY", 0.0)
    with psycopg.connect(db, autocommit=True) as conn:
        before = _asked(conn)
        with pool.pool(None, conn, jobs, _worker) as sessions:
            sessions.map(lambda w, n: n, list(range(40)))
            assert sessions.recycled == 0
        assert _asked(conn) - before == 1


def _measured(conn: psycopg.Connection[Any]) -> int:
    """Hypothetical indexes made only to be sized (whatif._MEASURE: created, sized and dropped in one statement)."""
    row = conn.execute("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE 'WITH made AS%%' "
                       "AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())").fetchone()
    return int(row[0]) if row else -1


@pytest.mark.needs_hypopg
def test_a_recycled_session_asks_no_size_again(conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """HypoPG's size of a candidate is its table's, not its session's: a session opened again for its memory re-learnt
    each one it was asked for, a round trip each (m15 at 20,000 statements: 19,994 -> 23,747 round trips)."""
    statements = _shop(conn, 6)
    before = _measured(conn)
    kept = _advice(conn, statements, 1)
    once = _measured(conn) - before
    monkeypatch.setattr(pool, "MAX_SESSION_MB", 0)      # any backend is past it: recycled at each check
    monkeypatch.setattr(pool, "CHECK_EVERY", 0.0)
    before = _measured(conn)
    assert _advice(conn, statements, 1) == kept
    assert _measured(conn) - before <= once
