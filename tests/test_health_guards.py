"""health --emit guards each index it drops with the statements whose plans use it (u's F12).

It planned them in pgtune's own search_path: an application whose role has
its own (``ALTER ROLE app SET search_path = app``) got ``relation … does not
exist`` for every statement (an ERROR in the server log each) and no guard at
all, so verify checked none of the drops. They are planned in their role's
search_path now, as suggest plans them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from pgtune import api, plan
from pgtune.baseline import Measurement
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
    targets = _guards(conn, {("shop", "items_sku_idx")}, left_out)
    assert [t.dropped_indexes for t in targets] == [["items_sku_idx"]], (targets, left_out)
    assert targets[0].search_path == ["shop"]
    assert "FROM items WHERE sku" in targets[0].query


PRISMA = """
CREATE TABLE "Session" (id text PRIMARY KEY, "userId" text NOT NULL, "expiresAt" timestamptz NOT NULL, token text);
INSERT INTO "Session" SELECT 'ses_' || g, 'usr_' || (g % 5000), now() + (g % 1000) * interval '1 hour', md5(g::text)
FROM generate_series(1, 50000) g;
CREATE INDEX "Session_userId_idx" ON "Session" ("userId");
CREATE INDEX "Session_userId_expiresAt_idx" ON "Session" ("userId", "expiresAt");
ANALYZE "Session";
"""
BY_USER = ('SELECT "public"."Session"."id", "public"."Session"."token" FROM "public"."Session" '
           'WHERE "public"."Session"."userId" = %s LIMIT %s OFFSET %s')


def test_a_guard_gets_values_as_suggest_values_it_so_verify_measures_it(conn: psycopg.Connection[Any],
                                                                        tmp_path: Path) -> None:
    """u2's R2: a Prisma app's statements reach pg_stat_statements as ``$1…$n``; a health guard had no values, so
    ``verify --measure`` timed 0 of them ("not executed: parameterized: no value for $1, …")."""
    conn.execute(PRISMA)
    conn.execute("SELECT pg_stat_statements_reset()")
    for i in range(40):     # Prisma binds every value: the statement is recorded with $1..$3
        conn.execute(BY_USER, (f"usr_{i * 7}", 10, 0)).fetchall()
    report = api.health(conn, only=["overlapping-index"], emit=api.EmitOptions(directory=tmp_path / "h"))
    assert report.migration is not None and report.migration.directory
    m = plan.load(tmp_path / "h")
    [guard] = [t for t in m.targets if '"userId" =' in t.query]
    assert guard.dropped_indexes == ["Session_userId_idx"], m.targets
    assert {"$1", "$2", "$3"} <= set(guard.values), guard.values
    assert guard.baseline_ms is not None, guard.baseline_note         # timed at emit with those values
    api.apply(conn, tmp_path / "h")
    checked = api.verify(conn, tmp_path / "h", measure=True)
    [result] = [t for t in checked.targets if t.query == guard.query]
    assert result.measurement == Measurement.MEASURED and result.ms is not None, result.note
    assert checked.measured == len(checked.targets)
