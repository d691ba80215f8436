"""The final plans (costing.settle) cap a statement's predicted cost as the curve does (analyze.curve.cost).

With ``child (kind)`` and ``parent (id)`` both chosen, the join's what-if plan
probes ``parent (id)`` 20,000 times, and with the descents charged
(analyze.calibration) it costs more than its plan with ``child (kind)`` alone.
Built, the planner prices the descents and keeps that plan: a plan open with
the set less one index. settle gave the statement its cost before (no index
credited) instead, above the curve's total for the same set (TPC-H Q18 with
``customer (c_custkey)`` added, issue 28).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune import api
from pgtune.analyze import Options
from pgtune.capture import Statement
from pgtune.explain import explain

from .helpers import exact_statistics

pytestmark = pytest.mark.needs_hypopg

JOIN = "SELECT sum(length(p.name)) FROM child c JOIN parent p ON p.id = c.parent_id WHERE c.kind < 20"


def _load(conn: psycopg.Connection[Any]) -> None:
    """test_calibration's parent, and a child ten times as large: its scan is most of the join's cost before.

    The visibility map stays empty: with child's pages all-visible, an index-only scan of ``child (kind,
    parent_id)`` serves the join best, and which set is chosen hung on whether the VACUUM (or an autovacuum
    woken by the load) marked them (it did in one CI run of ten).
    """
    off = " WITH (autovacuum_enabled = off)"
    conn.execute(f"CREATE TABLE parent{off} AS SELECT g AS id, md5(g::text) AS name FROM generate_series(1, 400000) g")
    conn.execute(f"CREATE TABLE child{off} AS SELECT g AS id, ((g::bigint * 7919) % 400000 + 1)::int AS parent_id, "
                 "g % 1000 AS kind FROM generate_series(1, 1000000) g")
    exact_statistics(conn, ("parent", "child"), 4000, vacuum=False)
    marked = conn.execute("SELECT max(relallvisible) FROM pg_class WHERE relname IN ('parent', 'child')").fetchone()
    assert marked == (0,)


def test_a_statement_s_final_cost_is_no_more_than_with_the_set_less_one_index(conn: psycopg.Connection[Any]) -> None:
    _load(conn)
    before = explain(conn, JOIN).cost
    statements = [Statement(query="SELECT name FROM parent WHERE id = 4242", queryid=1, calls=10),
                  Statement(query="SELECT count(*) FROM child WHERE kind = 3", queryid=2, calls=10),
                  Statement(query=JOIN, queryid=3, calls=1)]
    options = api.SuggestOptions(indexes=Options(min_rows=0), constraints=False)
    advice = api.suggest(conn, options, statements=statements).indexes
    assert sorted((ix.table, tuple(ix.columns)) for ix in advice.indexes) == [("child", ("kind",)),
                                                                            ("parent", ("id",))]
    join = next(st for st in advice.statements if st.queryid == 3)
    kind = next(ix.name for ix in advice.indexes if ix.table == "child")
    for ix in advice.indexes:
        conn.execute(ix.ddl.encode())
    built = explain(conn, JOIN)
    assert built.cost < before * 0.95 and kind in built.indexes, built.plan     # the plan over child (kind) alone
    assert join.cost_after is not None
    assert join.cost_after == pytest.approx(built.cost, rel=0.02), (join.cost_after, built.cost, before)
    assert join.indexes == [kind], join.indexes
    # The statements' final costs add up to the curve's total for the set.
    total = sum(st.calls * (st.cost_after or 0.0) for st in advice.statements)
    assert total == pytest.approx(advice.curve[-1].cost, rel=0.01), (total, advice.curve[-1].cost)
