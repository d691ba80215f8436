"""health --emit guards each index it drops with the statements whose plans use it (u's F12).

It planned them in pgtune's own search_path: an application whose role has
its own (``ALTER ROLE app SET search_path = app``) got ``relation … does not
exist`` for every statement (an ERROR in the server log each) and no guard at
all, so verify checked none of the drops. They are planned in their role's
search_path now, as suggest plans them.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.health.emit import _guards

SETUP = """
CREATE SCHEMA shop;
CREATE TABLE shop.items (id bigint PRIMARY KEY, sku int NOT NULL, title text);
INSERT INTO shop.items SELECT g, g % 20000, 'item ' || g FROM generate_series(1, 60000) g;
CREATE INDEX items_sku_idx ON shop.items (sku);
ANALYZE shop.items;
CREATE ROLE {role} LOGIN;
ALTER ROLE {role} SET search_path = shop;
GRANT USAGE ON SCHEMA shop TO {role};
GRANT SELECT ON shop.items TO {role};
"""


def test_a_dropped_index_is_guarded_by_the_statements_of_a_role_with_its_own_search_path(
        db: str, conn: psycopg.Connection[Any]) -> None:
    role = f"guard_app_{conn.info.dbname}"          # roles are the cluster's: one per test database
    conn.execute(SETUP.format(role=role))
    conn.execute("SELECT pg_stat_statements_reset()")
    with psycopg.connect(db, user=role, autocommit=True) as app:
        for i in range(30):
            app.execute("SELECT id, title FROM items WHERE sku = %s", (i,)).fetchall()
    left_out: list[str] = []
    targets = _guards(conn, {"items_sku_idx"}, left_out)
    assert [t.dropped_indexes for t in targets] == [["items_sku_idx"]], (targets, left_out)
    assert targets[0].search_path == ["shop"]
    assert "FROM items WHERE sku" in targets[0].query
