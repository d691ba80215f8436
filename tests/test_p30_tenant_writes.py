"""A schema per tenant's writes are charged to the tenant that made them (p30).

Index upkeep is charged from the rows the workload's own statements wrote in pg_stat_statements' window.
The same INSERT text, sent to every tenant with search_path set per request, was resolved through the
role's one path (its most-called SET): the big tenant's 1,500 inserted rows were charged to the small
tenant's table, and the big tenant's was capped at 0 ('charged 0 written rows'), its indexes shown free.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.snapshot import snapshot

from .test_p30_tenant_paths import writing_tenants

INSERT = 'INSERT INTO "person"("id", "companyId", "position", "name", "deletedAt") VALUES (%s, %s, %s, %s, NULL)'


def test_a_tenants_writes_are_charged_to_its_own_table(db: str, conn: psycopg.Connection[Any]) -> None:
    role = writing_tenants(conn, db, "INSERT")
    with psycopg.connect(db, user=role, autocommit=True) as app:
        app.execute('SET search_path TO "t_big"')
        for i in range(1500):     # every value a str: sent untyped, as node-postgres sends them
            app.execute(INSERT, (str(1000000 + i), "c1", str(i), "n"))
        for _ in range(50):      # the small tenant's sessions stay the most numerous
            app.execute('SET search_path TO "t_small"')
    snap = snapshot(conn)
    capped = [h for h in snap.hints() if "t_big.person: charged" in h]
    assert not capped, (capped, snap.hints())
    assert snap.catalog.tables[("t_big", "person")].writes >= 1500, snap.catalog.tables[("t_big", "person")]
