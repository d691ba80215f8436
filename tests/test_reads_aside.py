"""The selection's table reads and the reviews after it run on a session closed after them (m17, MEDIUM).

A backend keeps a cache entry of every relation it read until it ends. The samplers (key samples, row values,
widths, extended statistics' probes) and the reviews after the selection (generic plans, dependent keys, plans
again, GIN/BRIN) read every table with a candidate: on the caller's connection, which a command keeps after
suggest, those caches stayed (32 MB of memory contexts at 5,000 statements over 500 tables, a third of what
pgtune's sessions held). pool.aside reads them on a session of its own, closed after them.

The caller's growth is the memory its contexts use, not the blocks they hold: CacheMemoryContext takes blocks of
twice the size each time (its eleventh is 2 MB), so the 10 kB of catalog entries the pool's and the catalog's own
statements add read as 2,080 kB when they crossed a block's end, as they did once the capability probe asked
has_table_privilege(pg_file_settings) (5.7 kB more cache before the measure) and an earlier test of the same
run had left two tenant roles for the snapshot to read (4.8 kB).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import Options, advise, after_selection, pool
from pgtune.capture import Statement
from pgtune.snapshot import snapshot

from .helpers import benchmark

synthetic = benchmark("synthetic")

TABLES = 40


def _used(conn: psycopg.Connection[Any]) -> int:
    """The bytes ``conn``'s backend's memory contexts use (held minus free)."""
    row = conn.execute("SELECT sum(total_bytes - free_bytes) FROM pg_catalog.pg_backend_memory_contexts").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _sessions(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid()").fetchone()
    return int(row[0]) if row else 0


@pytest.mark.needs_hypopg
def test_the_callers_backend_keeps_no_cache_of_the_tables_sampled(conn: psycopg.Connection[Any]) -> None:
    synthetic.build(conn, TABLES, rows=3000)
    statements = [Statement(q, calls=1 + (i + k) % 5) for i, k, q in synthetic.statements(TABLES)]
    snap = snapshot(conn, Options().workload, statements=statements)   # the catalog's reads, before the measure
    conn.execute("SELECT 1")
    assert pool.backend_bytes(conn) is not None, "the test's role reads pg_backend_memory_contexts"
    before = _used(conn)
    advice = advise(conn, snap, Options(min_rows=1000, jobs=1))
    after_selection(conn, snap, advice, trial=None, index_kinds=True, database=None, say=lambda _m: None)
    after = _used(conn)
    assert len(advice.indexes) >= TABLES, "every table's candidates were sampled and costed"
    # Sampled on the caller's backend, its caches grew by 2,136 kB here (40 tables; 32 kB read aside), 956 kB of it
    # used; the reads' session takes them away with it. What is left: the pool's and the catalog's few statements
    # of its own (about 10 kB).
    assert after - before < 512 * 1024, f"the caller's backend grew by {(after - before) / 1024:.0f} kB"
    assert _sessions(conn) == 0 or _gone(conn), "the reads' session and the what-if sessions are closed"


def _gone(conn: psycopg.Connection[Any]) -> bool:
    """No other session left after a few seconds (a closed backend exits soon after its client leaves)."""
    import time

    for _ in range(50):
        if _sessions(conn) == 0:
            return True
        time.sleep(0.1)
    return False
