"""Issue 24's production-shaped database (tests/production.py): its shape, and the workload as its roles.

Then pgtune on it as the application's roles see it: the app role's
unqualified ``accounts`` is app.accounts (its search_path), the tenant's
statement is planned under its row-security policy. The end-to-end runs
(suggest → emit → apply → status → verify → rollback; health → --emit → apply
→ rollback) join this file as the points of issue 24 land.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest

from pgtune import api

from . import production
from .production import Part, Role


def _one(conn: psycopg.Connection[Any], query: str, params: tuple[Any, ...] = ()) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def test_fixture_has_the_shape_issue_24_asks_for(db: str, conn: psycopg.Connection[Any]) -> None:
    prod = production.build(db)
    # Range-partitioned by month, a default partition, rows in several months and in the default.
    assert _one(conn, "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'app.events'::regclass") == "r"
    assert len(prod.months) == 7
    filled = [m for m in prod.months
              if _one(conn, psycopg.sql.SQL("SELECT count(*) FROM app.{}").format(psycopg.sql.Identifier(m))) > 0]
    assert len(filled) >= 5, filled
    assert _one(conn, "SELECT count(*) FROM app.events_default") > prod.sizes.events // 20
    # List-partitioned, with one partition hash sub-partitioned.
    assert _one(conn, "SELECT partstrat FROM pg_partitioned_table "
                      "WHERE partrelid = 'app.notifications'::regclass") == "l"
    assert _one(conn, "SELECT partstrat FROM pg_partitioned_table "
                      "WHERE partrelid = 'app.notifications_email'::regclass") == "h"
    assert _one(conn, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'app.notifications_email'::regclass") == 4
    # A plain table's foreign key into the partitioned one: PostgreSQL clones it once per partition
    # (named …_fkey1, …_fkey2 up to 17, …_fkey_1 from 18: only conparentid tells a clone).
    clones = _one(conn, "SELECT count(*) FROM pg_constraint c JOIN pg_constraint p ON p.oid = c.conparentid "
                        "WHERE c.conrelid = 'app.alerts'::regclass "
                        "AND p.conname = 'alerts_eventId_eventCreatedAt_fkey'")
    assert clones == len(prod.months) + 1
    # Foreign keys from the partitioned tables: each partition holds a clone under the same name.
    assert _one(conn, "SELECT count(*) FROM pg_constraint WHERE conname = 'events_userId_fkey'") == len(prod.months) + 2
    # Two schemas with an accounts table; the app role's search_path finds the live one.
    assert _one(conn, "SELECT count(*) FROM app.accounts") > _one(conn, "SELECT count(*) FROM public.accounts")
    setting = _one(conn, "SELECT setconfig FROM pg_db_role_setting "
                         "WHERE setrole = 'app_user'::regrole AND setdatabase = "
                         "(SELECT oid FROM pg_database WHERE datname = current_database())")
    assert setting == ['search_path=app, "Billing", public']
    with psycopg.connect(prod.role_dsn(Role.APP)) as app:
        assert _one(app, "SELECT 'accounts'::regclass::text") == "accounts"                   # app.accounts
        assert _one(app, "SELECT 'accounts'::regclass::oid") == _one(conn, "SELECT 'app.accounts'::regclass::oid")
        assert _one(app, "SELECT count(*) FROM \"InvoiceLines\"") == prod.sizes.invoice_lines
    # Row security: the tenant role sees one tenant's documents, the superuser all of them.
    assert _one(conn, "SELECT relrowsecurity FROM pg_class WHERE oid = 'app.docs'::regclass")
    with psycopg.connect(prod.role_dsn(Role.TENANT)) as tenant:
        tenant.execute("SET app.tenant = '3'")
        assert _one(tenant, "SELECT count(*) FROM app.docs") == prod.sizes.docs // 20
    # Statistics of the partitioned parents exist only as inherited rows (a database-wide ANALYZE).
    assert _one(conn, "SELECT bool_and(inherited) FROM pg_stats WHERE schemaname = 'app' AND tablename = 'events'")
    # Noise: a crowd of tables below pgtune's default --min-rows.
    small = list(production.SMALL_TABLES)
    assert _one(conn, "SELECT count(*) FROM pg_class WHERE relnamespace = 'app'::regnamespace AND relname = ANY(%s) "
                      "AND reltuples BETWEEN 1 AND 100", (small,)) == len(small)


def _recorded(conn: psycopg.Connection[Any], role: Role, query: str) -> int:
    """Calls pg_stat_statements counts for ``query`` run by ``role`` in this database (the text up to its first
    parameter or constant, which pg_stat_statements shows as $n)."""
    prefix = query.split("%s")[0].split("'")[0].split(" LIMIT ")[0]
    return int(_one(conn, "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s "
                          "JOIN pg_database d ON d.oid = s.dbid AND d.datname = current_database() "
                          "WHERE s.userid = %s::regrole AND starts_with(s.query, %s)", (role.value, prefix)))


def test_workload_is_recorded_under_the_roles_that_ran_it(db: str, conn: psycopg.Connection[Any]) -> None:
    prod = production.build(db)
    production.workload(prod, calls=10)
    assert _recorded(conn, Role.APP, production.ACCOUNT_BY_EMAIL) == 10
    assert _recorded(conn, Role.APP, production.INVOICE_LINES) == 10      # one queryid: ints bound as int4
    assert _recorded(conn, Role.TENANT, production.TENANT_DOCS) == 10
    assert _recorded(conn, Role.APP, production.PREPARE_SESSION) == 30     # EXECUTEs count for the PREPARE
    assert _recorded(conn, Role.APP, production.IMPORT_MATCH) >= 3
    top = _one(conn, "SELECT query FROM pg_stat_statements WHERE dbid = "
                     "(SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY calls DESC LIMIT 1")
    assert top.startswith("PREPARE sess(int) AS SELECT")
    # Nothing the superuser ran is in the window: the fixture's own reads happened before the reset.
    assert _one(conn, "SELECT count(*) FROM pg_stat_statements s "
                      "JOIN pg_database d ON d.oid = s.dbid AND d.datname = current_database() "
                      "WHERE s.userid = current_user::regrole AND s.query ~* 'app\\.(alerts|notifications)'") == 0


@pytest.mark.needs_qualstats
def test_pg_qualstats_samples_the_application_constants(db: str, conn: psycopg.Connection[Any]) -> None:
    prod = production.build(db)
    production.workload(prod, parts=(Part.ACCOUNTS, Part.DOCS), calls=5)
    schema = _one(conn, "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_qualstats'")
    sampled = conn.execute(psycopg.sql.SQL("SELECT DISTINCT userid::regrole::text FROM {}").format(
        psycopg.sql.Identifier(schema, "pg_qualstats"))).fetchall()
    assert {r[0] for r in sampled} >= {Role.APP.value, Role.TENANT.value}


def test_a_month_added_later_is_a_partition_of_events(db: str, conn: psycopg.Connection[Any]) -> None:
    production.build(db)
    name = production.add_month(conn, months_ahead=2)
    assert _one(conn, "SELECT inhparent::regclass::text FROM pg_inherits WHERE inhrelid = %s::regclass",
                (f"app.{name}",)) == "app.events"


def test_long_transaction_helper_holds_a_snapshot_while_the_writer_writes(db: str,
                                                                          conn: psycopg.Connection[Any]) -> None:
    prod = production.build(db)
    with production.beside_long_transaction(prod, seconds=30) as (txn, latencies):
        row = conn.execute("SELECT state, backend_xmin IS NOT NULL, query FROM pg_stat_activity WHERE pid = %s",
                           (txn.pid,)).fetchone()
        assert row is not None and row[0] == "idle in transaction" and row[1], row
        deadline = time.monotonic() + 10
        while len(latencies) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(latencies) >= 5
    assert txn.ended.is_set()
    # The transaction is over (the backend itself exits a moment after its client closes).
    assert _one(conn, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND xact_start IS NOT NULL",
                (txn.pid,)) == 0
    with production.long_transaction(prod.dsn, seconds=0.2) as short:
        assert short.ended.wait(10)                     # ends by itself after its seconds


def uses_index(dsn: str, query: str, index: str, setup: str | None = None) -> bool:
    """Does ``query`` (literal values) plan with ``index`` for this login (``setup`` run first, e.g. the tenant)?"""
    with psycopg.connect(dsn, autocommit=True) as c:
        if setup:
            c.execute(setup)
        plan = "\n".join(r[0] for r in c.execute("EXPLAIN " + query))
    return index in plan


# ---- roles: search_path and row security -------------------------------------------------------------
# The advice, and the application's own plan once that index exists (built from the advice's DDL here:
# the whole migration's apply is the first test's business).

def _advice(db: str, conn: psycopg.Connection[Any],
            parts: tuple[Part, ...]) -> tuple[production.Production, api.Suggestion]:
    prod = production.build(db)
    production.workload(prod, parts=parts)
    return prod, api.suggest(conn, api.SuggestOptions(constraints=False))


@pytest.mark.needs_hypopg
def test_the_app_roles_accounts_index_lands_on_app_accounts(db: str, conn: psycopg.Connection[Any]) -> None:
    prod, result = _advice(db, conn, (Part.ACCOUNTS,))
    on_accounts = [ix for ix in result.indexes.indexes if ix.table == "accounts"]
    assert [(ix.schema, ix.columns[0]) for ix in on_accounts] == [("app", "email")], on_accounts
    conn.execute(on_accounts[0].ddl)
    query = production.ACCOUNT_BY_EMAIL.replace("%s", "'acct77@example.com'")
    assert uses_index(prod.role_dsn(Role.APP), query, on_accounts[0].name)     # the application's own plan


@pytest.mark.needs_hypopg
def test_the_row_security_statement_gets_the_tenant_leading_index(db: str, conn: psycopg.Connection[Any]) -> None:
    prod, result = _advice(db, conn, (Part.DOCS,))
    serving = [ix for ix in result.indexes.indexes if ix.table == "docs"
               and any(q.query.startswith(production.TENANT_DOCS.split(" LIMIT")[0]) for q in ix.queries)]
    assert serving, result.indexes.indexes
    ix = serving[0]
    assert ix.columns[:2] == ["tenantId", "createdAt"] and ix.descending[1], ix
    conn.execute(ix.ddl)
    assert uses_index(prod.role_dsn(Role.TENANT), production.TENANT_DOCS, ix.name, setup="SET app.tenant = '4'")
