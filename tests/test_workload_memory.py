"""Selection's view of each statement (analyze.workload.workload_of) shares equal sets between statements: each
statement's own frozensets of its tables and columns were 0.6 kB a statement for the whole of selection (12 MB of
suggest's peak at benchmarks/speed.py's 20,000 statements, issue 28)."""

from __future__ import annotations

import tracemalloc
from typing import Any

import psycopg

from pgtune.analyze.bind import bind
from pgtune.analyze.workload import workload_of
from pgtune.capture import read_catalog


def test_statements_of_one_shape_share_their_sets(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE orders (id int PRIMARY KEY, status text, placed date, total numeric, ref int)")
    conn.execute("CREATE TABLE lines (id int PRIMARY KEY, order_id int, qty int)")
    conn.execute("ANALYZE orders; ANALYZE lines")
    catalog = read_catalog(conn)
    texts = [f"SELECT id, total FROM orders WHERE status = 'open' AND placed > '2026-01-{1 + n % 28:02}' "
             f"ORDER BY total LIMIT {n + 1}" for n in range(400)]
    texts += [f"SELECT o.id, l.qty FROM orders o JOIN lines l ON l.order_id = o.id WHERE o.ref = {n}"
              for n in range(400)]
    shapes = [bind(q, catalog) for q in texts]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        seen = [workload_of(shape, 10, 100.0) for shape in shapes]
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    orders = ("public", "orders")
    first, other = seen[0], seen[1]
    assert first.keyable[orders] == {"status", "placed", "total"} and first.touched[orders] == {
        "id", "total", "status", "placed"}
    assert first.tables is other.tables and first.keyable[orders] is other.keyable[orders]
    assert first.touched[orders] is other.touched[orders]
    join, other_join = seen[400], seen[401]
    assert join.tables == {orders, ("public", "lines")} and join.tables is other_join.tables
    assert held / len(seen) < 800, f"{held / len(seen):.0f} bytes a statement"
