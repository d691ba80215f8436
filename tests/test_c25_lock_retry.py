"""apply's lock retries: each pause capped at a minute, and a deadlock called a deadlock (c25).

The pause doubled without end (--retries 12: the last was 2048 s, 34 minutes with nothing said), and the
progress line said 'lock timeout' for a deadlock the server broke (p23's retry), which sent the DBA to
lock_timeout instead of the application's DDL.
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from pgtune.apply.retry import MAX_WAIT_S, LockRetry
from pgtune.errors import ApplyFailed


def _give_up(tries: int, why: str) -> ApplyFailed:
    return ApplyFailed(f"gave up after {tries}: {why}")


def test_each_pause_is_capped(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE t (id int)")
    said: list[str] = []
    with psycopg.connect(db) as holder, psycopg.connect(db, autocommit=True) as waiter:
        holder.execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        waiter.execute("SET lock_timeout = '20ms'")
        with pytest.raises(ApplyFailed, match="lock timeout"):
            LockRetry(4, 0.1, said.append, max_wait=0.3).run(lambda: waiter.execute("SELECT * FROM t"),
                                                              give_up=_give_up)
    assert [line.rsplit(" in ", 1)[1] for line in said] == ["0.1s", "0.2s", "0.3s", "0.3s"], said
    assert all(line.startswith("lock timeout (") for line in said), said
    assert MAX_WAIT_S == 60.0
    assert LockRetry(12, 1.0, said.append).max_wait == MAX_WAIT_S     # apply's own: 1 s doubling, a minute at most


def test_a_deadlock_is_said_to_be_one(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE t1 (id int); CREATE TABLE t2 (id int)")
    said: list[str] = []
    tries: list[int] = []
    with psycopg.connect(db) as ours, psycopg.connect(db) as app:
        ours.execute("SET deadlock_timeout = '50ms'")     # our session finds the deadlock, the app's waits
        app.execute("SET deadlock_timeout = '30s'")
        ours.execute("LOCK TABLE t1")
        app.execute("LOCK TABLE t2")
        app_done = threading.Thread(target=lambda: (app.execute("LOCK TABLE t1"), app.commit()))

        def attempt() -> None:
            tries.append(1)
            if len(tries) == 1:
                app_done.start()
                while conn.execute("SELECT count(*) FROM pg_stat_activity WHERE query = 'LOCK TABLE t1' "
                                   "AND wait_event_type = 'Lock'").fetchone() == (0,):
                    pass
                try:
                    ours.execute("LOCK TABLE t2")     # deadlock detected: ours is cancelled
                finally:
                    ours.rollback()
            app_done.join(timeout=30)
            ours.execute("LOCK TABLE t2")
            ours.commit()

        retry = LockRetry(3, 0.1, said.append)
        retry.run(attempt, give_up=_give_up, what="on LOCK t2")
    assert len(tries) == 2 and len(said) == 1, (tries, said)
    assert said[0].startswith("deadlock on LOCK t2 (deadlock detected"), said
    assert retry.told and retry.told[0].startswith("deadlock on LOCK t2: done on try 2") \
        and "(the last deadlock: deadlock detected" in retry.told[0], retry.told
