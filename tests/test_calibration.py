"""Calibration (issue 28): HypoPG's b-trees have no height, so each descent misses btcostestimate's charge.

Each test plans the same statement over a hypothetical index and over the
same index built, and asks that pgtune's corrected what-if cost is the built
one, where HypoPG's own cost is visibly lower: a probe per outer row of a
nested loop, the misses of a Memoize, a Limit's share (all of it above a Sort), a SubPlan per row, an
``IN`` list descending once per element.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgtune import api
from pgtune.analyze import Options, whatif
from pgtune.analyze.calibration import Pricing, _loop_count
from pgtune.analyze.candidates import Candidate
from pgtune.capture import Statement, read_catalog
from pgtune.ddl import IndexKey
from pgtune.explain import explain

from .helpers import exact_statistics

pytestmark = pytest.mark.needs_hypopg

QUERIES = {
    "nested loop": "SELECT sum(length(p.name)) FROM child c JOIN parent p ON p.id = c.parent_id WHERE c.kind = 3",
    "memoize": "SELECT count(p.name) FROM kid k JOIN parent p ON p.id = k.pid",
    "limit": "SELECT p.name FROM kid k JOIN parent p ON p.id = k.pid LIMIT 100",
    # A LIMIT above a Sort: every probe runs before the first row comes out (TPC-H Q3, Q18).
    "limit over sort": ("SELECT p.name FROM child c JOIN parent p ON p.id = c.parent_id WHERE c.kind = 3 "
                        "ORDER BY p.name LIMIT 10"),
    "in list": "SELECT * FROM parent WHERE id IN (1, 2, 3, 4, 5)",
    "subplan": "SELECT c.id, (SELECT p.name FROM parent p WHERE p.id = c.parent_id) FROM child c WHERE c.kind < 2",
    # The probes under a Materialize on a nested loop's inner side run once, not once per outer row (TPC-DS Q13).
    "materialize": ("SELECT count(*) FROM kid k, (SELECT p.name FROM child c JOIN parent p ON p.id = c.parent_id "
                    "WHERE c.kind = 3) AS s WHERE k.pid < 30"),
}


def _load(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE parent AS SELECT g AS id, md5(g::text) AS name FROM generate_series(1, 400000) g")
    conn.execute("CREATE TABLE child AS SELECT g AS id, (g * 7919) % 400000 + 1 AS parent_id, g % 100 AS kind "
                 "FROM generate_series(1, 100000) g")
    conn.execute("CREATE TABLE kid AS SELECT g AS id, g % 2000 + 1 AS pid FROM generate_series(1, 100000) g")
    # ANALYZE reads every row (300 x target >= 400,000): the same statistics each run. A sample's
    # n_distinct and correlation moved the nested-loop test's costs by ~2% between runs (CI on af93b47).
    # SSD pricing, as the TPC-H benchmark's protocol: at 4.0 the page-fetch estimate (Mackert-Lohman over
    # HypoPG's size, not the built one) differs by a further ~1% of a probe, which calibration leaves alone.
    exact_statistics(conn, ("parent", "child", "kid"), 2000)


def test_the_corrected_what_if_cost_is_the_built_index_cost(conn: psycopg.Connection[Any]) -> None:
    _load(conn)
    cand = Candidate(("public", "parent"), (IndexKey("id"),), 1)
    with whatif.session(conn, pricing=Pricing(read_catalog(conn))) as hypo:
        hypo.create(0, cand)
        planned = {name: explain(conn, q) for name, q in QUERIES.items()}
        what_if = {name: (plan.cost, hypo.cost(plan)) for name, plan in planned.items()}
    conn.execute("CREATE INDEX parent_id_idx ON parent (id)")
    built = {name: explain(conn, q) for name, q in QUERIES.items()}
    for name, (raw, corrected) in what_if.items():
        assert "parent_id_idx" in built[name].indexes, (name, built[name].plan)
        real = built[name].cost
        assert raw < real * 0.97 or real - raw > 0.3, (name, raw, real)   # HypoPG's own cost is visibly lower
        assert corrected == pytest.approx(real, rel=0.01, abs=0.02), (name, raw, corrected, real)


def test_the_height_forecast_is_the_built_height(conn: psycopg.Connection[Any]) -> None:
    if conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pageinspect'").fetchone() is None:
        pytest.skip("pageinspect is not installed")
    conn.execute("CREATE EXTENSION pageinspect")
    _load(conn)
    conn.execute("CREATE TABLE tiny AS SELECT g AS id FROM generate_series(1, 300) g")
    conn.execute("ANALYZE tiny")
    pricing = Pricing(read_catalog(conn))
    for table, column in (("tiny", "id"), ("kid", "pid"), ("child", "parent_id"), ("parent", "id"),
                          ("parent", "name")):
        conn.execute(sql.SQL("CREATE INDEX probe ON {} ({})").format(sql.Identifier(table), sql.Identifier(column)))
        row = conn.execute("SELECT level FROM bt_metap('probe')").fetchone()
        assert row is not None
        forecast = pricing.descent(Candidate(("public", table), (IndexKey(column),), 1)).height
        assert forecast == row[0], (table, column, forecast, row[0])
        conn.execute("DROP INDEX probe")


def test_suggest_predicts_the_nested_loop_cost_of_the_built_index(conn: psycopg.Connection[Any]) -> None:
    """suggest's cost after, for a join probed once per outer row, is what the plan costs once built."""
    _load(conn)
    query = QUERIES["nested loop"]
    options = api.SuggestOptions(indexes=Options(min_rows=0), constraints=False)
    advice = api.suggest(conn, options, statements=[Statement(query=query, queryid=1, calls=1)]).indexes
    assert "parent" in {ix.table for ix in advice.indexes}, [ix.ddl for ix in advice.indexes]
    predicted = advice.workload_cost_after
    assert predicted is not None
    for ix in advice.indexes:
        conn.execute(ix.ddl.encode())
    built = explain(conn, query)
    assert {ix.name for ix in advice.indexes if ix.table == "parent"} <= built.indexes
    assert predicted == pytest.approx(built.cost, rel=0.02), (predicted, built.cost, [ix.ddl for ix in advice.indexes])


def test_a_step_whose_charged_plan_is_dearer_keeps_the_plan_before(conn: psycopg.Connection[Any]) -> None:
    """An index that helps one statement is still taken when another's what-if plan probes it too often.

    With ``parent (id)`` hypothetical the join's planner picks a nested loop
    probing it 20,000 times: HypoPG's cost 8.5k against 11.2k for the hash
    join before, but 16k with the descents charged. Built, the planner prices
    the descents and keeps the hash join, so the step must not count as the
    join's regression (TPC-DS Q72 kept ``catalog_sales (cs_sold_date_sk)`` out
    of every set that way); the prediction is the built cost.
    """
    _load(conn)
    join = "SELECT sum(length(p.name)) FROM child c JOIN parent p ON p.id = c.parent_id WHERE c.kind < 20"
    lookup = "SELECT name FROM parent WHERE id = 4242"
    before = explain(conn, join).cost
    statements = [Statement(query=lookup, queryid=1, calls=100), Statement(query=join, queryid=2, calls=1)]
    options = api.SuggestOptions(indexes=Options(min_rows=0), constraints=False)
    advice = api.suggest(conn, options, statements=statements).indexes
    assert [(ix.table, ix.columns) for ix in advice.indexes] == [("parent", ["id"])], [ix.ddl for ix in advice.indexes]
    assert advice.curve[-1].cost < advice.curve[0].cost
    for ix in advice.indexes:
        conn.execute(ix.ddl.encode())
    built = explain(conn, join)
    assert built.cost == pytest.approx(before, rel=0.001), built.plan   # the built planner keeps the hash join
    predicted = advice.curve[-1].cost
    real = 100 * explain(conn, lookup).cost + built.cost
    assert predicted == pytest.approx(real, rel=0.02), (predicted, real)


def test_the_page_reads_are_priced_at_the_deduplicated_size(conn: psycopg.Connection[Any]) -> None:
    """HypoPG sizes ``kid (pid)`` (50 rows a key) as if each row had its own leaf tuple; built, deduplication
    makes it a third of that, and the planner prices fewer index pages per scan, once or over a nested
    loop's repeats (TPC-H Q7's ``orders (o_custkey)``). The corrected cost is the built one."""
    _load(conn)
    # Plain index scans (the heap read as well): an index-only scan's cost follows the visibility map,
    # which a VACUUM beside another session's snapshot may leave short.
    queries = {"range": "SELECT sum(id) FROM kid WHERE pid < 1000",
               "nested loop": "SELECT sum(k.id) FROM tiny t JOIN kid k ON k.pid = t.id"}
    conn.execute("CREATE TABLE tiny AS SELECT g AS id FROM generate_series(1, 300) g")
    conn.execute("VACUUM ANALYZE tiny")
    for setting in ("mergejoin", "hashjoin", "bitmapscan", "seqscan", "indexonlyscan"):
        conn.execute(sql.SQL("SET {} = off").format(sql.Identifier(f"enable_{setting}")))
    cand = Candidate(("public", "kid"), (IndexKey("pid"),), 1)
    with whatif.session(conn, pricing=Pricing(read_catalog(conn))) as hypo:
        hypo.create(0, cand)
        hypopg_bytes = hypo.sizes[(cand.table, cand.keys, None, ())]
        planned = {name: explain(conn, q) for name, q in queries.items()}
        what_if = {name: (plan.cost, hypo.cost(plan)) for name, plan in planned.items()}
    conn.execute("CREATE INDEX kid_pid_idx ON kid (pid)")
    conn.execute("VACUUM kid")
    row = conn.execute("SELECT pg_relation_size('kid_pid_idx')").fetchone()
    assert row is not None and row[0] < hypopg_bytes / 2, (row, hypopg_bytes)     # deduplicated
    for name, q in queries.items():
        built = explain(conn, q)
        assert "kid_pid_idx" in built.indexes, (name, built.plan)
        raw, corrected = what_if[name]
        assert corrected == pytest.approx(built.cost, rel=0.01), (name, raw, corrected, built.cost)


def test_a_statement_costs_no_more_than_with_the_set_less_one_index(conn: psycopg.Connection[Any]) -> None:
    """With ``child (kind)`` and ``parent (id)`` both chosen, the join's what-if plan probes ``parent (id)``
    20,000 times (charged: 14.9k), above its cost before (11.2k); built, the planner keeps the hash join over
    ``child (kind)`` alone (10.3k), a plan open with the set less ``parent (id)``: the curve's cost is that."""
    _load(conn)
    join = "SELECT sum(length(p.name)) FROM child c JOIN parent p ON p.id = c.parent_id WHERE c.kind < 20"
    statements = [Statement(query="SELECT name FROM parent WHERE id = 4242", queryid=1, calls=10),
                  Statement(query="SELECT count(*) FROM child WHERE kind = 3", queryid=2, calls=10),
                  Statement(query=join, queryid=3, calls=1)]
    options = api.SuggestOptions(indexes=Options(min_rows=0), constraints=False)
    advice = api.suggest(conn, options, statements=statements).indexes
    assert sorted((ix.table, tuple(ix.columns)) for ix in advice.indexes) == [("child", ("kind",)),
                                                                            ("parent", ("id",))]
    for ix in advice.indexes:
        conn.execute(ix.ddl.encode())
    built = sum(st.calls * explain(conn, st.query).cost for st in statements)
    assert advice.curve[-1].cost == pytest.approx(built, rel=0.02), (advice.curve[-1].cost, built)


def test_a_limit_over_a_range_scan_is_charged_only_the_pages_it_reads(conn: psycopg.Connection[Any]) -> None:
    """LIMIT 10 over a range scan of an index with many duplicates (kid (pid): HypoPG sizes it without
    deduplication): the page correction counts the share of the range the Limit reads, not every page of it.
    Counted whole, the Event test's range scan came out at -2,656 cost units, 'planner cost -9.4x lower'."""
    _load(conn)
    query = "SELECT id FROM kid WHERE pid BETWEEN 100 AND 1900 ORDER BY pid LIMIT 10"
    cand = Candidate(("public", "kid"), (IndexKey("pid"),), 1)
    with whatif.session(conn, pricing=Pricing(read_catalog(conn))) as hypo:
        hypo.create(0, cand)
        plan = explain(conn, query)
        corrected = hypo.cost(plan)
    conn.execute("CREATE INDEX kid_pid_idx ON kid (pid)")
    built = explain(conn, query)
    assert "kid_pid_idx" in built.indexes, built.plan
    assert corrected > 0
    assert corrected == pytest.approx(built.cost, rel=0.05, abs=0.1), (plan.cost, corrected, built.cost)


def test_a_loop_count_through_a_parameterized_outer_scan_counts_all_its_runs(conn: psycopg.Connection[Any]) -> None:
    """lineitem probed by orders probed by customers (TPC-H Q5's shape): the planner's loop count for the lineitem
    probes is orders' rows (get_loop_count: outer_rel->rows), not the rows one probe of orders returns (review:
    the page correction spread lineitem's page reads over 10 loops where the planner spread them over 20,000)."""
    conn.execute("""
        CREATE TABLE c (id int PRIMARY KEY, region int);
        CREATE TABLE o (id int PRIMARY KEY, cust int);
        CREATE TABLE l (ord int, qty int);
        INSERT INTO c SELECT g, g % 5 FROM generate_series(1, 2000) g;
        INSERT INTO o SELECT g, 1 + g % 2000 FROM generate_series(1, 20000) g;
        INSERT INTO l SELECT 1 + g % 20000, g FROM generate_series(1, 80000) g;
        CREATE INDEX ON o (cust); CREATE INDEX ON l (ord);
        ANALYZE c, o, l;
        SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_material = off; SET enable_memoize = off
    """)
    row = conn.execute("EXPLAIN (FORMAT JSON) SELECT sum(l.qty) FROM c JOIN o ON o.cust = c.id "
                       "JOIN l ON l.ord = o.id").fetchone()
    assert row is not None
    node = row[0][0]["Plan"]
    while node.get("Node Type") != "Nested Loop" or node["Plans"][1].get("Alias") != "l":
        node = node["Plans"][0]
    outer, inner = node["Plans"]
    per_run = next(p for p in outer["Plans"] if p.get("Alias") == "o")["Plan Rows"]
    assert per_run <= 20            # one customer's orders
    assert _loop_count(outer, inner) == pytest.approx(20_000, rel=0.2)
