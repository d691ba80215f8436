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
