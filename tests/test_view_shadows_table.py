"""A view earlier on the role's search_path than a table of the same name hides the table: a statement naming it
reads the view, as the server resolves the name (c20).

Catalog.lookup looked the name up among the tables only, so the binder bound b.orders behind the view a.orders
first on the path: pgtune analysed, and proposed an index on, a table the statement never reads.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from pgtune.analyze.model import Method
from pgtune.capture import read_catalog

from .helpers import steady_state, suggest

BY_OWNER = "SELECT id, body FROM orders WHERE owner = $1"


def test_a_view_first_on_the_path_hides_the_table(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE SCHEMA a; CREATE SCHEMA b")
    conn.execute("CREATE TABLE b.orders (id bigint PRIMARY KEY, owner int NOT NULL, body text)")
    conn.execute("INSERT INTO b.orders SELECT g, g % 1000, 'b' || g FROM generate_series(1, 50000) g")
    conn.execute("CREATE TABLE public.archive (id bigint PRIMARY KEY, owner int NOT NULL, body text)")
    conn.execute("INSERT INTO public.archive SELECT g, g % 1000, 'r' || g FROM generate_series(1, 50000) g")
    conn.execute("CREATE VIEW a.orders AS SELECT id, owner, body FROM public.archive")
    conn.execute("ANALYZE b.orders; ANALYZE public.archive")
    role = f"r_ab_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {0} LOGIN; ALTER ROLE {0} SET search_path = a, b; "
                         "GRANT USAGE ON SCHEMA a, b TO {0}; GRANT SELECT ON a.orders, b.orders TO {0}")
                 .format(sql.Identifier(role)))
    steady_state(conn)
    with psycopg.connect(db, user=role, autocommit=True) as app:
        # The server reads the view: the archive's rows ('r…'), not b.orders' ('b…').
        assert app.execute("SELECT body FROM orders WHERE id = 1").fetchone() == ("r1",)
        for i in range(20):
            app.execute(BY_OWNER.replace("$1", "%s"), (i,), prepare=True).fetchall()
    cat = read_catalog(conn)
    assert cat.lookup(None, "orders", ("a", "b")) is None
    assert cat.lookup_view(None, "orders", ("a", "b")) is not None
    assert cat.lookup(None, "orders", ("b", "a")) is not None and cat.lookup(None, "orders", ("b", "a")).key == (
        "b", "orders")
    assert cat.lookup_view(None, "orders", ("b", "a")) is None
    advice = suggest(conn)
    st = next((s for s in advice.statements if s.role == role), None)
    assert st is not None, [(s.kind, s.reason) for s in advice.skipped]
    # Every index is on the table the view reads, none on b.orders, which the statement never reads.
    assert [(ix.schema, ix.table, ix.columns) for ix in advice.indexes] == [("public", "archive", ["owner"])], [
        (ix.schema, ix.table, ix.columns) for ix in advice.indexes]
    if advice.method == Method.HYPOPG:   # the planner's cost with it ties it to the statement
        assert st.indexes == [advice.indexes[0].name]
