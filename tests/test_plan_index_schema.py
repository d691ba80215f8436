"""A schema per tenant holds same-named indexes: a statement uses the index of the tenant whose table its plan
reads, not every index of that name (c20).

health.workload_plans.statements_using matched a plan's bare "Index Name" against bare names, so before health
dropped t_a.orders_customer_idx, t_b's statement (whose plan uses t_b.orders_customer_idx) was counted as one
using it: a guard of another tenant's, and suggest's drop phase and hot-blocking-index read another tenant's
readers as this one's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from pgtune import api
from pgtune.health.workload_plans import statements_using
from pgtune.plan import folder

from .helpers import steady_state

QUERY = "SELECT id, total FROM orders WHERE customer_id = %s AND total > %s"


def test_a_plan_uses_its_own_tenants_index(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    roles = {}
    for schema, extra in (("t_a", "CREATE INDEX orders_customer_note_idx ON {1}.orders (customer_id, note); "),
                          ("t_b", "")):
        role = roles[schema] = f"{schema}_{conn.info.dbname}"
        conn.execute(sql.SQL(
            "CREATE SCHEMA {1}; CREATE TABLE {1}.orders (id int PRIMARY KEY, customer_id int NOT NULL, "
            "total int NOT NULL, note text NOT NULL); "
            "INSERT INTO {1}.orders SELECT g, g % 500, g % 1000, repeat(md5(g::text), 6) "
            "FROM generate_series(1, 20000) g; CREATE INDEX orders_customer_idx ON {1}.orders (customer_id); "
            + extra + "ANALYZE {1}.orders; "
            "CREATE ROLE {0} LOGIN; ALTER ROLE {0} SET search_path = {1}; GRANT USAGE ON SCHEMA {1} TO {0}; "
            "GRANT SELECT ON ALL TABLES IN SCHEMA {1} TO {0}").format(sql.Identifier(role), sql.Identifier(schema)))
    steady_state(conn)
    for role in roles.values():
        with psycopg.connect(db, user=role, autocommit=True) as app:
            for i in range(20):
                app.execute(QUERY, (i, 100 + i))
    users = {str(r[0]): int(r[1]) for r in conn.execute("SELECT rolname, oid FROM pg_roles")}
    used = statements_using(conn, {("t_a", "orders_customer_idx")})
    assert [(u.statement.userid, u.keys) for u in used] == [(users[roles["t_a"]], [("t_a", "orders_customer_idx")])]
    both = statements_using(conn, {("t_a", "orders_customer_idx"), ("t_b", "orders_customer_idx")})
    assert sorted((u.statement.userid, tuple(u.keys)) for u in both) == sorted(
        [(users[roles["t_a"]], (("t_a", "orders_customer_idx"),)),
         (users[roles["t_b"]], (("t_b", "orders_customer_idx"),))])
    # health drops t_a's (its twin orders_customer_note_idx serves all it does): t_a's statement guards it, not t_b's.
    report = api.health(conn, only=["overlapping-index"], emit=api.EmitOptions(directory=tmp_path / "health"))
    assert [(f.schema, f.index) for f in report.findings] == [("t_a", "orders_customer_idx")], [
        f.message for f in report.findings]
    guards = [t for t in folder.load(tmp_path / "health").targets if "customer_id" in t.query]
    assert [tuple(t.search_path or ()) for t in guards] == [("t_a",)], [(t.queryid, t.search_path) for t in guards]
    assert guards[0].dropped_indexes == ["orders_customer_idx"]
