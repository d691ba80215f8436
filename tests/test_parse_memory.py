"""Printing a statement leaves the parse cache's shared tree as parsed: pglast's printer links every node to its
parents and left them there, about 1.8 kB a statement for the whole run (issue 28's memory)."""

from __future__ import annotations

from typing import Any

import psycopg
from pglast import ast

from pgtune.analyze.bind import bind
from pgtune.capture import read_catalog
from pgtune.explain import prepare_text
from pgtune.sqltext import parse, walk


def test_printing_leaves_no_ancestors_on_the_cached_tree(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE orders (id int PRIMARY KEY, status text, placed date, total numeric)")
    conn.execute("INSERT INTO orders SELECT g, 'open', date '2026-01-01' + g % 90, g FROM generate_series(1, 500) g")
    conn.execute("ANALYZE orders")
    query = ("SELECT id, lower(status) FROM orders WHERE status = $1 AND placed > $2 AND total IN ($3, $4) "
             "AND EXISTS (SELECT 1 FROM orders o2 WHERE o2.id = orders.id + $5) ORDER BY placed DESC LIMIT $6")
    shape = bind(query, read_catalog(conn))
    text, params = prepare_text(query)
    assert params == 6 and [c.sql for c in shape.conjuncts]       # printed: the statement and its filters
    nodes = [n for n in walk(parse(query)) if isinstance(n, ast.Node)]
    assert len(nodes) > 30
    left = [type(n).__name__ for n in nodes if getattr(n, "ancestors", None) is not None]
    assert not left, left
    # What was printed still plans as the statement.
    conn.execute(f"PREPARE p AS {text}")
    row = conn.execute("EXPLAIN EXECUTE p('open', '2026-02-01', 1, 2, 0, 5)").fetchone()
    assert row is not None and "Limit" in row[0]
