"""health's guard on a drop sees each tenant's statement on its own schema (p30).

A schema per tenant, search_path set per request: health planned every pg_stat_statements entry of the same
text through one path (the role's most-called SET, or with set_config its configured path, where the names
do not resolve). The big tenant's reads of an index it would drop were planned on the small tenant's table,
so none was seen using it; with set_config each entry's EXPLAIN was an ERROR in the server's log
(p30: 27 lines 'relation "timelineActivity" does not exist' for one health --emit).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgtune.analyze import hot
from pgtune.capture import read_catalog
from pgtune.health.workload_plans import statements_using

from .helpers import logged_errors
from .test_p30_tenant_paths import _tenants, writing_tenants


@pytest.mark.parametrize("how", ["set", "set_config"])
def test_a_tenants_use_of_an_index_is_seen_on_its_own_schema(db: str, conn: psycopg.Connection[Any],
                                                              how: str) -> None:
    _tenants(conn, db, how)
    for schema in ("t_big", "t_small"):
        conn.execute(f'CREATE INDEX "person_companyId_idx" ON {schema}.person ("companyId")')
    with logged_errors(conn) as errors:
        used = statements_using(conn, {("t_big", "person_companyId_idx")})
    assert not errors, errors
    if conn.info.server_version >= 180000:
        return          # one queryid for both tenants: neither is told, neither is planned
    assert [u.keys for u in used] == [[("t_big", "person_companyId_idx")]], [(u.statement.query, u.keys)
                                                                             for u in used]
    assert used[0].search_path is not None and used[0].search_path[-1] == "t_big", used[0].search_path


def test_each_tenants_update_is_read_on_its_own_table(db: str, conn: psycopg.Connection[Any]) -> None:
    """The HOT reading (health's hot-blocking-index, suggest's upkeep of a column the UPDATEs set) put both
    tenants' UPDATE on the table of the role's one path."""
    role = writing_tenants(conn, db, "UPDATE")
    with psycopg.connect(db, user=role, autocommit=True) as app:
        for schema in ("t_big", "t_small"):
            app.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            for i in range(5):
                app.execute('UPDATE "person" SET "name" = %s WHERE "id" = %s', ("x", str(i + 1)))
    writes = hot.read(conn, read_catalog(conn))
    updated = {key: [u.queryid for u in ups] for key, ups in writes.updates.items() if key[1] == "person"}
    assert sorted(updated) == [("t_big", "person"), ("t_small", "person")], updated
    assert all(len(ids) == 1 for ids in updated.values()), updated
