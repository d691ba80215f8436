"""A schema per tenant, search_path set per request: each tenant's statement is planned on its own tables (p30).

A Twenty-shaped CRM keeps each workspace in a schema of its own with the same tables and sends the same
unqualified text to all of them, setting search_path per request. Up to PostgreSQL 17 pg_stat_statements keeps
one entry per schema (the relations' OIDs are in the queryid) and no path. pgtune bound every entry through the
role's most-called ``SET search_path``, a small tenant's: the big tenant's calls were planned on 50 rows and no
index was proposed where they run (p30: 150 workspaces, the statements holding 97% of the time bound to a
100-row tenant, workload cost 343,413 instead of 4,576,676). With ``set_config('search_path', …)``, which
pg_stat_statements keeps as ``$1``, they were all skipped as "references no known table (temporary or
dropped?)". The queryid the server computes for the text under each candidate path now tells the tenant.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgtune import api
from pgtune.capture import reset_counters

TENANT = """
CREATE SCHEMA {s};
CREATE TABLE {s}.person (id bigint PRIMARY KEY, "companyId" text NOT NULL, position float8 NOT NULL,
                         name text NOT NULL, "deletedAt" timestamptz);
INSERT INTO {s}.person SELECT g, 'c' || (g % {companies}), g, 'n' || g, NULL FROM generate_series(1, {rows}) g;
ANALYZE {s}.person;
GRANT USAGE ON SCHEMA {s} TO {role};
GRANT SELECT ON {s}.person TO {role};
"""
READ = ('SELECT "person"."id", "person"."name" FROM "person" "person" WHERE ("person"."companyId" = %s) '
        'AND ("person"."deletedAt" IS NULL) ORDER BY "person"."position" ASC LIMIT 61')


def _tenants(conn: psycopg.Connection[Any], db: str, how: str) -> str:
    """t_big (60,000 rows) and t_small (60), the small tenant's sessions the more numerous; ``how`` the
    application sets its path with: a SET (kept with its value) or set_config (kept as $1)."""
    role = f"app_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    for schema, rows in (("t_big", 60000), ("t_small", 60)):
        conn.execute(sql.SQL(TENANT).format(s=sql.Identifier(schema), role=sql.Identifier(role),
                                            rows=sql.Literal(rows), companies=sql.Literal(rows // 20)))
    reset_counters(conn)
    with psycopg.connect(db, user=role, autocommit=True) as app:
        for schema, calls in (("t_small", 40), ("t_big", 15)):
            for i in range(calls):
                if how == "set":
                    app.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
                else:
                    app.execute("SELECT set_config('search_path', %s, false)", (schema,))
                app.execute(READ, (f"c{i % 3}",))     # a str goes untyped, as node-postgres sends every value
    return role


def writing_tenants(conn: psycopg.Connection[Any], db: str, privilege: str) -> str:
    """_tenants (set with SET), the role also granted ``privilege`` (INSERT, UPDATE) on each tenant's person;
    skipped on PostgreSQL 18, where the tenants' same text is one entry that no write can be placed by."""
    if conn.info.server_version >= 180000:
        pytest.skip("PostgreSQL 18 gives the tenants' same text one queryid")
    role = _tenants(conn, db, "set")
    for schema in ("t_big", "t_small"):
        conn.execute(sql.SQL("GRANT {} ON {}.person TO {}").format(sql.SQL(privilege), sql.Identifier(schema),
                                                                    sql.Identifier(role)))
    return role


@pytest.mark.needs_hypopg
@pytest.mark.parametrize("how", ["set", "set_config"])
def test_each_tenants_statement_is_planned_on_its_own_schema(db: str, conn: psycopg.Connection[Any],
                                                             how: str) -> None:
    if conn.info.server_version >= 180000:
        pytest.skip("PostgreSQL 18 gives the tenants' same text one queryid")
    _tenants(conn, db, how)
    ids = conn.execute("SELECT count(DISTINCT queryid) FROM pg_stat_statements WHERE query LIKE "
                       "'SELECT \"person\".\"id\"%'").fetchone()
    assert ids == (2,), ids
    advice = api.suggest(conn)
    tables = {(ix.schema, ix.table) for ix in advice.indexes.indexes}
    assert ("t_big", "person") in tables, (tables, [(s.query[:40], s.reason) for s in advice.indexes.skipped])
    assert ("t_small", "person") not in tables, tables
    reads = [s for s in advice.indexes.statements if s.query.startswith('SELECT "person"."id"')]
    assert sorted(s.search_path[-1] for s in reads) == ["t_big", "t_small"], \
        [(s.queryid, s.search_path) for s in reads]
    assert any("same text on 2 schemas" in h and "2 entries of pg_stat_statements bound" in h
               for h in advice.indexes.hints), advice.indexes.hints


@pytest.mark.needs_hypopg
def test_a_tenant_statement_its_queryid_does_not_tell_is_skipped_with_why(db: str,
                                                                          conn: psycopg.Connection[Any]) -> None:
    """psycopg sends a Python int typed (int2 here): the text prepared as the server types it gets another
    queryid under every path, so no tenant is told; it is skipped saying so, not bound to the busiest one."""
    if conn.info.server_version >= 180000:
        pytest.skip("PostgreSQL 18 gives the tenants' same text one queryid")
    role = _tenants(conn, db, "set")
    with psycopg.connect(db, user=role, autocommit=True) as app:
        for schema in ("t_small", "t_big"):
            app.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            for i in range(3):
                app.execute('SELECT "person"."id" FROM "person" "person" WHERE "person"."position" > %s '
                            'ORDER BY "person"."position" LIMIT 61', (i,))
    advice = api.suggest(conn)
    typed = [s for s in advice.indexes.skipped if '"person"."position" > $1' in s.query]
    assert len(typed) == 2, [(s.query[:60], s.reason) for s in advice.indexes.skipped]
    assert all("none of them gives its queryid (the driver sent typed parameters" in s.reason for s in typed), \
        [s.reason for s in typed]


@pytest.mark.needs_hypopg
def test_an_index_on_some_tenants_is_said_to_be_per_tenant(db: str, conn: psycopg.Connection[Any]) -> None:
    """The index lands on the big tenant's table only: the hint says on how many of the schemas holding the same
    table, and that the others, and a tenant made later, get none."""
    _tenants(conn, db, "set_config")
    advice = api.suggest(conn)
    [ix] = [ix for ix in advice.indexes.indexes if ix.table == "person"]
    lines = [h for h in advice.indexes.hints if h.startswith("a schema per tenant:")]
    assert len(lines) == 1 and f"{ix.name} on 1 of 2" in lines[0] and "a new tenant" in lines[0], \
        advice.indexes.hints


def test_one_queryid_for_every_tenant_is_said_on_18(db: str, conn: psycopg.Connection[Any]) -> None:
    """PostgreSQL 18 jumbles the relations' names: both tenants' calls are one entry, which no path can be
    told for; it is skipped saying so (not 'references no known table (temporary or dropped?)')."""
    if conn.info.server_version < 180000:
        pytest.skip("before 18 each tenant's entry has its own queryid")
    _tenants(conn, db, "set_config")
    advice = api.suggest(conn, api.SuggestOptions(constraints=False))
    reads = [s for s in advice.indexes.skipped if s.query.startswith('SELECT "person"."id"')]
    assert reads and all("queryid is the same on several of them" in s.reason for s in reads), \
        [(s.query[:40], s.reason) for s in advice.indexes.skipped]
