"""A schema per tenant's texts are placed in a round trip per 16 schemas, not one per schema (r25).

capture.tenant_paths prepares each text under every candidate path to read the queryid the server computes
there. It did so in a transaction and round trip per path, each followed by a check for a leftover prepared
statement, and for every path however few entries were asked for: 2,000 tenant schemas, 5 texts, 49 entries
to place took 10,145 probe transactions (48 s suggest, 38 s with the fix, 736 transactions).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgtune import api
from pgtune.capture import reset_counters, tenant_paths

TENANTS = 40
TENANT = """
CREATE SCHEMA {s};
CREATE TABLE {s}.person (id bigint PRIMARY KEY, "companyId" text NOT NULL, name text NOT NULL);
INSERT INTO {s}.person SELECT g, 'c' || (g % 50), 'n' || g FROM generate_series(1, {rows}) g;
GRANT USAGE ON SCHEMA {s} TO {role};
GRANT SELECT ON {s}.person TO {role};
"""
READ = 'SELECT "person"."id", "person"."name" FROM "person" "person" WHERE "person"."companyId" = %s'


def test_tenant_paths_are_probed_together_and_each_entry_on_its_own_schema(db: str, conn: psycopg.Connection[Any],
                                                                            monkeypatch: Any) -> None:
    if conn.info.server_version >= 180000:
        pytest.skip("PostgreSQL 18 gives the tenants' same text one queryid (test_p30_tenant_paths ..._on_18)")
    role = f"app_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    schemas = [f"t_{i:02d}" for i in range(TENANTS)]
    for i, schema in enumerate(schemas):
        conn.execute(sql.SQL(TENANT).format(s=sql.Identifier(schema), role=sql.Identifier(role),
                                            rows=sql.Literal(5000 - 100 * i)))
    conn.execute("ANALYZE")
    reset_counters(conn)
    with psycopg.connect(db, user=role, autocommit=True) as app:
        for schema in schemas:
            app.execute("SELECT set_config('search_path', %s, false)", (schema,))
            app.execute(READ, ("c1",))
    probes = []
    real = tenant_paths._probe

    def counted(*args: Any) -> Any:
        probes.append(args[2])
        return real(*args)
    monkeypatch.setattr(tenant_paths, "_probe", counted)
    advice = api.suggest(conn)
    reads = [s for s in advice.indexes.statements if s.query.startswith('SELECT "person"."id"')]
    assert sorted(s.search_path[-1] for s in reads) == schemas, \
        ([(s.queryid, s.search_path) for s in reads], [(s.query[:40], s.reason) for s in advice.indexes.skipped])
    # the parameter's type (1), constants found on the largest tenant (2), then 40 paths 16 a round trip (3)
    assert len(probes) <= 8, (len(probes), probes[:5])
