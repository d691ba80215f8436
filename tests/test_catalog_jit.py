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
from psycopg import sql

from pgtune import api, catalog_sql
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


# The reads of sql/*.sql: each file's header comment comes first in the text the server (and pg_stat_statements) sees.
CATALOG_READS = """SELECT count(*) FILTER (WHERE jit_functions > 0), count(*) FROM pg_stat_statements
                   WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                     AND strpos(query, '/* pgtune */') > 0 AND left(query, 3) = '-- '"""


def jit_for_every_query(conn: psycopg.Connection[Any]) -> None:
    """jit_above_cost = 0 on ``conn``'s session, as a big catalog prices the real reads; skips without llvmjit."""
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


def test_reading_the_catalog_compiles_nothing_and_leaves_jit_as_it_was(conn: psycopg.Connection[Any]) -> None:
    jit_for_every_query(conn)
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


@pytest.mark.parametrize("command", ["health", "config"])
def test_health_and_config_read_the_catalog_without_jit(conn: psycopg.Connection[Any], command: str) -> None:
    """Every sql/*.sql read of the command (the session's own settings first) is uncompiled: without
    catalog_sql.uncompiled 17 of health's and 22 of config's were compiled here."""
    jit_for_every_query(conn)
    api.health(conn) if command == "health" else api.config(conn)
    compiled, reads = conn.execute(CATALOG_READS).fetchone() or (0, 0)
    assert reads > 5        # the command's reads are there to count
    assert compiled == 0
    assert conn.execute("SHOW jit").fetchone() == ("on",)


def _jit(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SHOW jit").fetchone()
    return str(row[0]) if row else ""


def test_a_read_in_the_callers_transaction_gives_jit_back_and_keeps_its_locks(conn: psycopg.Connection[Any],
                                                                               db: str) -> None:
    """apply reads the catalog inside transactions that hold its locks: the reads' SET LOCAL must not stay for the
    rest of that transaction (it would, to its end, without the value given back), nor end it or its locks."""
    conn.execute(TABLES)
    held = """SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND relation = '"Post"'::regclass
              AND mode = 'ShareRowExclusiveLock'"""
    with conn.transaction():
        conn.execute('LOCK TABLE "Post" IN SHARE ROW EXCLUSIVE MODE')
        with catalog_sql.uncompiled(conn):
            assert _jit(conn) == "off"
            scans = conn.execute(catalog_sql.load("index_scans"), {"schemas": ["public"], "names": ["Post_pkey"]})
            assert [r[1] for r in scans] == ["Post_pkey"]
        assert _jit(conn) == "on"
        assert conn.execute(held).fetchone() == (1,)
        conn.execute("SET LOCAL jit = off")         # the caller's own choice stays the caller's
        with catalog_sql.uncompiled(conn):
            assert _jit(conn) == "off"
        assert _jit(conn) == "off"
    assert _jit(conn) == "on"
    # Outside a transaction: the session's value given back as the server's (not a SET of the session's, which a
    # pool's sessions copy), after a read that failed too; a value the session SET itself is given back as such.
    source = "SELECT setting, source FROM pg_settings WHERE name = 'jit'"
    server = conn.execute(source).fetchone()
    assert server is not None and server[1] != "session"
    with pytest.raises(psycopg.errors.UndefinedTable), catalog_sql.uncompiled(conn):
        assert _jit(conn) == "off"
        conn.execute("SELECT /* pgtune */ 1 FROM nowhere")
    assert conn.execute(source).fetchone() == server
    conn.execute(sql.SQL("ALTER DATABASE {} SET jit = off").format(sql.Identifier(conn.info.dbname)))
    with psycopg.connect(db, autocommit=True) as other:
        other.execute("SET jit = on")
        with catalog_sql.uncompiled(other):
            assert _jit(other) == "off"
        assert other.execute(source).fetchone() == ("on", "session")
