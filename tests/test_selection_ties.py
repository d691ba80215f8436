"""Equal ratios are broken by the index, not by the order the workload came in.

pg_stat_statements hands the workload over by total time, which changes from
run to run. A schema per tenant, or speed.py's like tables, gives many actions
the very same ratio: the lazy greedy took them in the order they were queued,
so the same database got another curve each run (two fresh builds of speed.py's
5,000 statements: 2 of 86 curve points with the same set).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql

from .helpers import all_visible, benchmark

synthetic = benchmark("synthetic")

TABLES = 6


def _curve(conn: psycopg.Connection[Any], statements: list[Any]) -> list[frozenset[str]]:
    from pgtune import api
    from pgtune.analyze import Options

    advice = api.suggest(conn, api.SuggestOptions(Options(min_rows=1000), constraints=False),
                         statements=statements).indexes
    return [frozenset(p["indexes"]) for p in advice.as_dict()["curve"]]


@pytest.mark.needs_hypopg
def test_the_curve_of_like_tables_does_not_follow_the_workloads_order(conn: psycopg.Connection[Any]) -> None:
    from pgtune.capture import Statement

    synthetic.build(conn, TABLES, rows=3000)    # every table alike: its rows, its statistics (all rows read)
    for i in range(TABLES):
        conn.execute(sql.SQL("ALTER TABLE {} SET (autovacuum_enabled = off)").format(sql.Identifier(f"t{i}")))
        all_visible(conn, f"t{i}")
    # One call each (ring of neighbours: t5 joins t0), so each table's actions tie with the others'.
    statements = [Statement(q, calls=1) for _, _, q in synthetic.statements(TABLES)]
    forward = _curve(conn, statements)
    assert len(forward) > TABLES        # steps the tables tie on, one table at a time
    assert _curve(conn, statements[::-1]) == forward
    by_table = sorted(statements, key=lambda s: (s.query.split("WHERE")[-1], s.query))   # shapes interleaved
    assert _curve(conn, by_table) == forward
