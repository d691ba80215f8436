"""What-if costing that meets another session's lock stops, as every reading command does (connect.no_lock_queue).

u13's production-shaped database: a long transaction reads the partitioned
table, a DETACH PARTITION queues behind it, and pgtune's EXPLAIN queues
behind the DETACH. Each statement's plan gave up after the lock timeout and was
recorded as "cannot plan", and suggest ended with nothing to suggest (exit 0),
after waiting the timeout once per statement.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest

from pgtune import api
from pgtune.analyze import Options
from pgtune.capture import Statement
from pgtune.errors import PgtuneError


@pytest.mark.needs_hypopg
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_plan_behind_a_queued_detach_stops_suggest_naming_the_lock(
        db: str, conn: psycopg.Connection[Any], jobs: int) -> None:
    conn.execute("CREATE TABLE ev (id int, at date NOT NULL, k int) PARTITION BY RANGE (at);"
                 "CREATE TABLE ev1 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');"
                 "INSERT INTO ev SELECT g, date '2026-01-01' + g % 31, g % 500 FROM generate_series(1, 20000) g;"
                 "ANALYZE ev")
    statements = [Statement(queryid=1, query="SELECT id FROM ev WHERE k = $1", calls=100, mean_ms=5.0),
                  Statement(queryid=2, query="SELECT id FROM ev WHERE at = $1 AND k = $2", calls=100, mean_ms=5.0)]
    with psycopg.connect(db) as holder, psycopg.connect(db, autocommit=True) as detacher:
        holder.execute("SELECT count(*) FROM ev").fetchone()       # a long transaction reads the table
        done = threading.Event()

        def detach() -> None:
            try:
                detacher.execute("ALTER TABLE ev DETACH PARTITION ev1")
            finally:
                done.set()
        thread = threading.Thread(target=detach)
        thread.start()
        try:
            for _ in range(100):        # the DETACH is queued behind the reader
                row = conn.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()
                if row and row[0]:
                    break
                time.sleep(0.05)
            with pytest.raises(PgtuneError, match="waiting for a lock"):
                api.suggest(conn, api.SuggestOptions(Options(min_rows=1000, jobs=jobs), constraints=False),
                            statements=statements)
        finally:
            holder.rollback()
            thread.join(timeout=30)
    assert done.is_set()
