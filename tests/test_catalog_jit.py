"""pgtune's catalog reads compile no JIT code, and leave the session's JIT setting as it was.

On the 500-table speed benchmark the server spent 4.3 s of sql/columns.sql's 5.3 s compiling it (the planner
prices one pg_stats lookup per column, far over jit_above_cost); on 4,000 tables in 40 tenant schemas reading
the catalog took 22 s, 7 s without JIT and with pg_stats joined whole. Here jit_above_cost = 0 makes every
query of the session a candidate, as a big catalog makes the real ones.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.capture import read_catalog

from .helpers import steady_state

TABLES = """
CREATE TABLE "Post" (id int PRIMARY KEY, title text NOT NULL, "authorId" int);
INSERT INTO "Post" SELECT g, 'p' || g, g % 10 FROM generate_series(1, 2000) AS g;
CREATE TABLE "Event" (id int, at date NOT NULL, kind text) PARTITION BY RANGE (at);
CREATE TABLE "Event_2026" PARTITION OF "Event" FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO "Event" SELECT g, DATE '2026-01-01' + g % 300, 'k' || g % 3 FROM generate_series(1, 3000) AS g;
ANALYZE;
"""
COMPILED = """SELECT count(*) FROM pg_stat_statements
              WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND strpos(query, '/* pgtune */') > 0 AND jit_functions > 0"""


def test_reading_the_catalog_compiles_nothing_and_leaves_jit_as_it_was(conn: psycopg.Connection[Any]) -> None:
    if not conn.execute("SELECT pg_jit_available()").fetchone()[0]:
        pytest.skip("this server has no llvmjit")
    conn.execute(TABLES)
    steady_state(conn)
    conn.execute("SET jit_above_cost = 0")
    conn.execute("SET jit_inline_above_cost = -1")
    conn.execute("SET jit_optimize_above_cost = -1")
    # The same session compiles a catalog query of its own: the setting above is in force (else nothing shows).
    conn.execute("SELECT /* pgtune probe */ count(*) FROM pg_attribute").fetchone()
    probe = "SELECT max(jit_functions) FROM pg_stat_statements WHERE strpos(query, '/* pgtune probe */') > 0"
    assert (conn.execute(probe).fetchone() or (0,))[0] > 0

    cat = read_catalog(conn)
    assert conn.execute(COMPILED).fetchone() == (0,)
    assert conn.execute("SHOW jit").fetchone() == ("on",)
    # The rows and sizes each column carries are its table's (sql/tables.sql's, no longer read twice).
    post = [c for c in cat.columns if c.table == "Post"]
    event = [c for c in cat.columns if c.table == "Event"]
    assert {c.reltuples for c in post} == {cat.tables[("public", "Post")].reltuples} == {2000.0}
    assert {c.table_bytes for c in post} == {cat.tables[("public", "Post")].size_bytes} != {0}
    assert {c.table_bytes for c in event} == {cat.tables[("public", "Event")].size_bytes} != {0}
    assert {c.reltuples for c in event} == {3000.0}
