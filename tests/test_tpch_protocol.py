"""benchmarks/tpch.py: pgtune's sets beside the published algorithms are costed as the protocol costs them.

The published figures (and the bound's) are what-if costs without the b-tree
descents HypoPG leaves out; pgtune's own prediction prices them in
(analyze.calibration), which moved its TPC-H figure at 500 HypoPG-MB from
42.5% to 48.5% with the same set built at 48.9%. Set beside the peers, that
prediction looked six points worse than the selection was.
"""

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from psycopg import sql

sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
import tpch  # a benchmark script, not a package


def _tables(conn: psycopg.Connection[Any]) -> None:
    """TPC-H's eight tables, a few thousand rows in orders and lineitem: enough for an index to pay."""
    for table, columns in tpch.SCHEMA.items():
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(table), sql.SQL(columns)))
    conn.execute("INSERT INTO orders (o_orderkey, o_custkey, o_orderdate, o_totalprice, o_orderpriority, "
                 "o_shippriority) SELECT g, g % 500, date '1995-01-01' + g % 900, g, '1-URGENT', 0 "
                 "FROM generate_series(1, 20000) AS g")
    conn.execute("INSERT INTO lineitem (l_orderkey, l_partkey, l_suppkey, l_linenumber, l_quantity, "
                 "l_extendedprice, l_discount, l_tax, l_returnflag, l_linestatus, l_shipdate, l_commitdate, "
                 "l_receiptdate, l_shipmode, l_shipinstruct) SELECT g / 4, g % 2000, g % 100, g % 4, g % 50, g, "
                 "0.05, 0.01, 'R', 'F', date '1995-01-01' + g % 900, date '1995-01-01' + g % 800, "
                 "date '1995-01-01' + g % 700, 'MAIL', 'NONE' FROM generate_series(1, 80000) AS g")
    conn.execute("ANALYZE")


@pytest.mark.needs_hypopg
def test_the_protocol_s_cost_is_hypopg_s_own_plan_cost(conn: psycopg.Connection[Any]) -> None:
    _tables(conn)
    base, failed = tpch.planned_cost(conn)
    assert not failed
    chosen = [SimpleNamespace(name="li_orderkey", table="lineitem", columns=["l_orderkey"], descending=[False],
                              expressions=[None], include=[], where=None),
              SimpleNamespace(name="o_orderdate", table="orders", columns=["o_orderdate"], descending=[False],
                              expressions=[None], include=[], where=None)]
    found = tpch.protocol_costs(conn, {500.0: chosen}, base)
    assert conn.execute("SELECT count(*) FROM hypopg_list_indexes").fetchone() == (0,)     # none left behind
    conn.execute("SELECT hypopg_create_index('CREATE INDEX ON lineitem (l_orderkey)')")
    conn.execute("SELECT hypopg_create_index('CREATE INDEX ON orders (o_orderdate)')")
    plain = sum(float(conn.execute(sql.SQL("EXPLAIN (FORMAT JSON) {}").format(sql.SQL(q))).fetchone()[0][0]
                      ["Plan"]["Total Cost"]) for _name, q in tpch.queries())
    assert found[500.0] == pytest.approx(plain / base, rel=1e-9)
    assert found[500.0] < 1.0      # the indexes change plans: a cost that could not tell would pass as well


@pytest.mark.needs_hypopg
def test_a_suggest_s_cpu_is_kept_beside_its_wall_time(conn: psycopg.Connection[Any]) -> None:
    """On a shared 2-core machine suggest's wall time is mostly other processes' (issue 28's 10 s a budget): its
    own CPU, pgtune's and the server's, goes to the budget's figures."""
    _tables(conn)
    result, seconds = tpch.advise(conn, 100.0, tpch.SizeBasis.FORECAST)
    mine, on_server = tpch.CPU_SPENT[id(result)]
    assert mine > 0 and seconds > 0
    assert on_server is not None and on_server > 0      # the test's own local server: its processes are read
