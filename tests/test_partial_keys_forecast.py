"""A partial index on one column: its keys are counted among the rows its predicate keeps (t13, the LOW finding
"TPC-H l_returnflag partial forecast 1.21x").

pg_stats counts a column's values over the whole table; the keys a
predicate's rows hold are not a share of them when the predicate picks
whole keys' rows: TPC-H's lineitem (l_orderkey) WHERE l_returnflag = 'R'
keeps a quarter of the rows, on the old orders only (645,527 of 1.5
million, 2.3 rows each), and was forecast 28.6 MB where it built 23.7.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.analyze import Candidate, key_sample
from pgtune.analyze.footprint import Footprint
from pgtune.capture import read_catalog
from pgtune.ddl import IndexKey

# 400,000 lines, 4 an order, written in order; half the orders are old enough to be returned, each of their
# lines returned at random (half): a quarter of the lines, on 47% of the orders.
LINES = """
CREATE TABLE line (order_id int NOT NULL, flag text NOT NULL);
INSERT INTO line SELECT g / 4, CASE WHEN g / 4 < 50000 AND hashint4(g) & 1 = 0 THEN 'R' ELSE 'N' END
FROM generate_series(0, 399999) AS g;
ANALYZE line;
"""


def test_a_partial_index_s_keys_are_counted_among_the_rows_it_keeps(conn: psycopg.Connection[Any]) -> None:
    conn.execute(LINES)
    catalog = read_catalog(conn)
    share = conn.execute("SELECT avg((flag = 'R')::int)::float8 FROM line").fetchone()
    assert share is not None
    cand = Candidate(("public", "line"), (IndexKey("order_id"),), 1, where="flag = 'R'", where_fraction=share[0])
    forecast = Footprint(conn, catalog, 0.0).forecast(cand)
    conn.execute("CREATE INDEX line_returned ON line (order_id) WHERE flag = 'R'")
    built = conn.execute("SELECT pg_relation_size('line_returned')").fetchone()
    assert built is not None
    assert 0.9 < forecast / built[0] < 1.1, (forecast, built[0])


def test_a_predicate_that_calls_a_function_of_its_own_is_not_run_in_a_key_sample(
        conn: psycopg.Connection[Any]) -> None:
    """The predicate comes from the workload's filters: like every key sample that runs them, it runs only when it
    calls nothing but PostgreSQL's own functions (readonly)."""
    conn.execute(LINES)
    conn.execute("CREATE FUNCTION returned(text) RETURNS boolean LANGUAGE sql AS $$ SELECT $1 = 'R' $$")
    rows = read_catalog(conn).tables[("public", "line")].reltuples
    found = key_sample.sample_keys_many(conn, ("public", "line"), [((IndexKey("order_id"),), ())], rows,
                                        wheres=["returned(flag)"], shares=[0.25])
    assert found == [None]
