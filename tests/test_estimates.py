"""Which row estimates verify may compare between emit and now: those no index can change."""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.estimates import moved, once
from pgtune.explain import explain

from .helpers import shop

JOIN = 'SELECT u.email, o.total FROM users u JOIN "order" o ON o."userId" = u.id WHERE u.id < 50'


def test_a_nested_loops_inner_scan_and_a_parallel_scan_are_not_compared(conn: psycopg.Connection[Any]) -> None:
    shop(conn)
    conn.execute('CREATE INDEX order_user ON "order" ("userId")')
    conn.execute('ANALYZE "order"')
    hashed = explain(conn, JOIN).plan
    assert set(once(hashed)) == {("users", "u"), ("order", "o")}
    conn.execute("SET enable_hashjoin = off")
    conn.execute("SET enable_mergejoin = off")
    looped = explain(conn, JOIN).plan
    assert "Nested Loop" in str(looped)
    assert set(once(looped)) == {("users", "u")}      # the inner index scan's rows are per user
    assert moved(hashed, looped, 0.1) == []          # the same statistics: nothing moved
    conn.execute("RESET ALL")
    for setting in ("parallel_setup_cost", "parallel_tuple_cost", "min_parallel_table_scan_size"):
        conn.execute(f"SET {setting} = 0")
    conn.execute("SET max_parallel_workers_per_gather = 2")
    parallel = explain(conn, 'SELECT count(*) FROM "order" WHERE total > 5').plan
    assert "'Parallel Aware': True" in str(parallel) and "Gather" in str(parallel)
    assert once(parallel) == {}                       # per worker rows


def test_rows_that_moved_are_named_with_both_estimates(conn: psycopg.Connection[Any]) -> None:
    shop(conn)
    query = "SELECT id FROM users WHERE id > 100"
    before = explain(conn, query).plan
    conn.execute("INSERT INTO users SELECT m + g, 'x' || g, now() FROM (SELECT max(id) m FROM users) s, "
                 "generate_series(1, 5000) g")
    conn.execute("ANALYZE users")
    found = moved(before, explain(conn, query).plan, 0.1)
    assert len(found) == 1 and str(found[0]).startswith("users: ") and found[0].now > found[0].before
