"""A statement on a foreign table is said to read one, not "no known table (temporary or dropped?)".

No index can be built on a foreign table (postgres_fdw sends its filter to the
server that holds the rows), so such a statement is left out like a temporary
table's, but it is part of the workload's time no plan costs. It was reported as
an unknown table, a dropped or temporary one, which sent a DBA looking for a
table that is there (session 27's trial of a postgres_fdw loopback).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze.model import UNCOSTED
from pgtune.capture import read_queries_file

from .helpers import suggest


@pytest.mark.needs_hypopg
def test_a_statement_on_a_foreign_table_is_said_so(conn: psycopg.Connection[Any]) -> None:
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgres_fdw")
    except psycopg.errors.FeatureNotSupported:
        pytest.skip("postgres_fdw is not installed")
    conn.execute("CREATE TABLE remote_rows (id bigint PRIMARY KEY, owner int NOT NULL, body text)")
    conn.execute("INSERT INTO remote_rows SELECT g, g % 1000, 'b' || g FROM generate_series(1, 50000) g")
    conn.execute("CREATE TABLE orders (id bigint PRIMARY KEY, remote_id bigint NOT NULL, kind int NOT NULL)")
    conn.execute("INSERT INTO orders SELECT g, g, g % 500 FROM generate_series(1, 50000) g")
    info = conn.info
    conn.execute(psycopg.sql.SQL("CREATE SERVER archive FOREIGN DATA WRAPPER postgres_fdw "
                                 "OPTIONS (host {}, port {}, dbname {})").format(
        psycopg.sql.Literal(info.host), psycopg.sql.Literal(str(info.port)), psycopg.sql.Literal(info.dbname)))
    conn.execute(psycopg.sql.SQL("CREATE USER MAPPING FOR CURRENT_USER SERVER archive OPTIONS (user {})").format(
        psycopg.sql.Literal(info.user)))
    conn.execute("CREATE FOREIGN TABLE archived (id bigint, owner int, body text) SERVER archive "
                 "OPTIONS (table_name 'remote_rows')")
    conn.execute("ANALYZE remote_rows; ANALYZE orders")
    advice = suggest(conn, read_queries_file(
        "SELECT * FROM archived WHERE owner = 42;\n"
        "SELECT o.id FROM orders o JOIN archived a ON a.id = o.remote_id WHERE o.kind = 7;"))
    skipped = {s.query: s for s in advice.skipped}
    alone = skipped.get("SELECT * FROM archived WHERE owner = 42")
    assert alone is not None, advice.skipped
    assert "foreign table public.archived (server archive)" in alone.reason and "temporary" not in alone.reason, \
        alone.reason
    assert alone.kind == "foreign-table" and alone.kind in UNCOSTED     # its time is the workload's, not costed
    # The join is analyzed for its local table; nothing is proposed on the foreign one (nor on the table behind it,
    # which no statement reads here).
    assert [(ix.table, ix.columns[:1]) for ix in advice.indexes] == [("orders", ["kind"])], \
        [ix.ddl for ix in advice.indexes]
