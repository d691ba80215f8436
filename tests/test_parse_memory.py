"""Printing a statement leaves the parse cache's shared tree as parsed: pglast's printer links every node to its
parents and left them there, about 1.8 kB a statement for the whole run (issue 28's memory)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
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


@pytest.mark.needs_hypopg
def test_selection_runs_without_the_statements_trees(conn: psycopg.Connection[Any],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The parse cache held every statement's tree through selection, suggest's peak (about 1.5 kB each: 30 MB
    at benchmarks/speed.py's 20,000 statements, issue 28); they go once the statements are planned."""
    from pgtune import api
    from pgtune.analyze import Options, selection
    from pgtune.capture import Statement
    from pgtune.sqltext import _parse

    conn.execute("CREATE TABLE shop (id int PRIMARY KEY, status text, placed date, total numeric, ref int)")
    conn.execute("INSERT INTO shop SELECT g, (ARRAY['open', 'paid', 'sent'])[1 + g % 3], date '2026-01-01' + g % 90, "
                 "g % 500, g % 700 FROM generate_series(1, 20000) g")
    conn.execute("VACUUM ANALYZE shop")
    texts = [f"SELECT id, total FROM shop WHERE ref = {n} AND placed > '2026-02-01'" for n in range(30)]
    texts += [f"SELECT count(*) FROM shop WHERE total BETWEEN {n} AND {n + 5}" for n in range(30)]
    statements = [Statement(query=q, queryid=n + 1, calls=10) for n, q in enumerate(texts)]
    held: list[int] = []
    real_run = selection.Greedy.run

    def run(self: selection.Greedy, seeds: list[Any]) -> selection.Selection:
        held.append(_parse.cache_info().currsize)       # trees held as selection starts, and as it ends
        result = real_run(self, seeds)
        held.append(_parse.cache_info().currsize)
        return result

    monkeypatch.setattr(selection.Greedy, "run", run)
    _parse.cache_clear()
    advice = api.suggest(conn, api.SuggestOptions(Options(min_rows=100), constraints=False),
                         statements=statements).indexes
    assert advice.indexes and all(s.cost_before is not None for s in advice.statements)
    assert len(held) == 2 and max(held) < len(texts) // 4, f"{held} trees held in selection of {len(texts)} statements"
