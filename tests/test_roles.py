"""Each statement as its role saw the database: search_path (issue 24.4) and row security (issue 24.5).

On the production-shaped fixture (tests/production.py), run as its roles:
``app_user`` logs in with ``search_path = app, "Billing", public`` (an
``accounts`` table is in both ``app``, the live one, and ``public``, a legacy
copy); ``app_tenant`` reads ``app.docs`` under the policy
``"tenantId" = current_setting('app.tenant')::int``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune import api
from pgtune.analyze import Advice, AnalyzedStatement, SkipKind
from pgtune.cli import cli
from pgtune.explain import PlanContext, explain
from pgtune.plan import Migration

from . import production
from .production import ACCOUNT_BY_EMAIL, INVOICE_LINES, TENANT_DOCS, Part, Role


def _advice(conn: psycopg.Connection[Any]) -> Advice:
    return api.suggest(conn, api.SuggestOptions(constraints=False)).indexes


def _row(advice: Advice, text: str) -> AnalyzedStatement:
    found = [s for s in advice.statements if s.query.startswith(text)]
    assert len(found) == 1, [s.query for s in advice.statements]
    return found[0]


@pytest.mark.needs_hypopg
def test_names_resolve_through_the_search_path_of_the_role_that_ran_the_statement(
        db: str, conn: psycopg.Connection[Any]) -> None:
    prod = production.build(db)
    production.workload(prod, [Part.ACCOUNTS, Part.BILLING])
    advice = _advice(conn)
    accounts = _row(advice, ACCOUNT_BY_EMAIL.split(" = ")[0])
    assert accounts.role == Role.APP.value and accounts.search_path == ["app", "Billing", "public"]
    # The live table, not the legacy public.accounts pgtune's own search_path finds first.
    [ix] = [i for i in advice.indexes if i.table == "accounts"]
    assert (ix.schema, ix.columns) == ("app", ["email"]), ix
    assert accounts.cost_before is not None and accounts.cost_after is not None
    assert accounts.cost_after < accounts.cost_before / 10
    # "InvoiceLines" is found in "Billing" through the role's path: analyzed, not "references no known table".
    lines = _row(advice, INVOICE_LINES.split(" WHERE ")[0])
    assert lines.indexes and not [s for s in advice.skipped if s.kind == SkipKind.UNKNOWN_TABLE]
    assert any((i.schema, i.table, i.columns) == ("Billing", "InvoiceLines", ["invoiceId"]) for i in advice.indexes)


def _emitted(db: str, conn: psycopg.Connection[Any], tmp_path: Path,
             part: Part) -> tuple[production.Production, Path, Migration]:
    """The production fixture with ``part`` of its workload, and suggest's migration of it."""
    prod = production.build(db)
    # Foreign keys of the partitioned tables would add their indexes to the migration, and building one on a
    # partitioned table is the partition recipe's business (tests of the partitioned tables cover it).
    conn.execute('ALTER TABLE app.events DROP CONSTRAINT "events_userId_fkey"')
    conn.execute('ALTER TABLE app.notifications DROP CONSTRAINT "notifications_userId_fkey"')
    production.workload(prod, [part])
    folder = tmp_path / "m"
    result = api.suggest(conn, api.SuggestOptions(constraints=False), emit=api.EmitOptions(directory=folder))
    assert result.migration is not None
    return prod, folder, result.migration


@pytest.mark.needs_hypopg
def test_the_migration_is_verified_as_the_role_runs_the_statement(db: str, conn: psycopg.Connection[Any],
                                                                  tmp_path: Path) -> None:
    prod, folder, migration = _emitted(db, conn, tmp_path, Part.ACCOUNTS)
    [target] = [t for t in migration.targets if "accounts" in t.query]
    assert target.search_path == ["app", "Billing", "public"] and target.role is None
    report = api.apply(conn, folder)      # raises ApplyFailed on a failure
    assert report.changed, report
    checked = api.verify(conn, folder)
    assert checked.ok, checked
    # The application itself now uses the index (what verify promised).
    with psycopg.connect(prod.role_dsn(Role.APP)) as app:
        plan = app.execute("EXPLAIN (FORMAT JSON) " + ACCOUNT_BY_EMAIL.replace("%s", "'acct7@example.com'"))
        row = plan.fetchone()
        assert row is not None and "accounts_email_idx" in str(row[0])
    assert api.rollback(conn, folder).changed


@pytest.mark.needs_hypopg
def test_row_security_filters_every_statement_of_the_tenant_role(db: str, conn: psycopg.Connection[Any]) -> None:
    prod = production.build(db)
    production.workload(prod, [Part.DOCS])
    advice = _advice(conn)
    docs = _row(advice, TENANT_DOCS.split(" LIMIT ")[0])
    # Planned as the tenant, the policy's current_setting('app.tenant') given one of the tenants.
    assert docs.role == docs.planned_as == Role.TENANT.value and not docs.notes
    tenants = {str(t) for t in range(1, 21)}
    assert set(docs.settings) == {"app.tenant"} and docs.settings["app.tenant"] in tenants
    # TENANT_BY_STATUS's status = $1 is 'PENDING' in the calls pg_qualstats saw with a constant, but the prepared
    # statement's generic plan hid the rest: a full (tenantId, status) serves it, no partial index (u2's F7).
    [ix] = [i for i in advice.indexes if i.table == "docs" and i.where is None and "createdAt" in i.columns]
    assert (ix.columns, ix.descending) == (["tenantId", "createdAt"], [False, True]), ix
    # What the tenant's plan costs with the index pgtune planned as a superuser would propose, and with its own.
    tenant = PlanContext(role=Role.TENANT.value, settings=(("app.tenant", docs.settings["app.tenant"]),))
    costs = {}
    for name, keys in (("by_time", '"createdAt" DESC'), ("by_tenant", '"tenantId", "createdAt" DESC')):
        conn.execute(f"CREATE INDEX {name} ON app.docs ({keys})")
        costs[name] = explain(conn, TENANT_DOCS, context=tenant).cost
        costs[name + "_superuser"] = explain(conn, TENANT_DOCS).cost
        conn.execute(f"DROP INDEX app.{name}")
    assert costs["by_tenant"] < costs["by_time"] / 1.5, costs
    # As a superuser (row security bypassed) the time-only index looks best: the reason it was proposed before.
    assert costs["by_time_superuser"] < costs["by_time"] / 5, costs


@pytest.mark.needs_hypopg
def test_a_role_pgtune_may_not_take_is_said_on_the_statement(db: str, conn: psycopg.Connection[Any]) -> None:
    prod = production.build(db)
    production.workload(prod, [Part.DOCS])
    # pgtune as a monitoring role: reads every statistic, bypasses row security, is no member of app_tenant.
    conn.execute("DO $$ BEGIN CREATE ROLE pgtune_monitor LOGIN BYPASSRLS; "
                 "EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    conn.execute("GRANT pg_read_all_stats TO pgtune_monitor")
    conn.execute('GRANT USAGE ON SCHEMA app, "Billing" TO pgtune_monitor')
    conn.execute('GRANT SELECT ON ALL TABLES IN SCHEMA app, "Billing" TO pgtune_monitor')
    monitor = psycopg.conninfo.make_conninfo(db, user="pgtune_monitor")
    with psycopg.connect(monitor, autocommit=True) as mon:
        advice = api.suggest(mon, api.SuggestOptions(constraints=False)).indexes
    docs = _row(advice, TENANT_DOCS.split(" LIMIT ")[0])
    assert docs.planned_as is None
    [note] = docs.notes
    assert note.startswith("row security: planned as pgtune_monitor, not as app_tenant") and \
        "GRANT app_tenant TO pgtune_monitor;" in note, note
    # The table output says it once, with every statement it is about (it was one line per statement).
    about = [st.queryid for st in advice.statements if note in st.notes]
    out = CliRunner().invoke(cli, ["suggest", "--dsn", monitor, "--no-constraints"])
    assert out.exit_code == 0, out.output
    lines = [line for line in out.output.splitlines() if line.startswith("note:") and line.endswith(note)]
    assert len(lines) == 1 and len(about) > 1 and all(str(q) in lines[0] for q in about[:5]), (lines, about)


@pytest.mark.needs_hypopg
def test_a_queries_file_is_read_as_the_role_given(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    production.build(db)
    queries = tmp_path / "app.sql"
    queries.write_text(ACCOUNT_BY_EMAIL.replace("%s", "'acct5@example.com'") + ";\n")
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(queries), "--role", "app_user",
                                   "--no-constraints", "--format", "json"])
    assert out.exit_code == 0, out.output
    import json
    doc = json.loads(out.stdout)
    assert [i["schema"] for i in doc["indexes"] if i["table"] == "accounts"] == ["app"]
    # Without --role: app_user's own search_path reads accounts as app.accounts, pgtune's session as the legacy
    # public.accounts; which one the file's statement reads is the role's to say (p14 F4): one line, exit 2.
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(queries), "--no-constraints",
                                   "--format", "json", "--min-rows", "0"])
    assert out.exit_code == 2 and out.stdout == "", out.output
    assert out.stderr.count("\n") == 1 and "give --role app_user" in out.stderr, out.stderr
    # --role naming pgtune's own role binds it with pgtune's session's search_path: the legacy public.accounts.
    me = conn.execute("SELECT current_user").fetchone()
    assert me is not None
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(queries), "--no-constraints",
                                   "--format", "json", "--min-rows", "0", "--role", me[0]])
    assert [i["schema"] for i in json.loads(out.stdout)["indexes"] if i["table"] == "accounts"] == ["public"]
    bad = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(queries), "--role", "nobody_here"])
    assert bad.exit_code == 2 and "--role 'nobody_here': no such role" in bad.stderr
    assert CliRunner().invoke(cli, ["suggest", "--dsn", db, "--role", "app_user"]).exit_code == 2


@pytest.mark.needs_hypopg
def test_a_using_true_policy_filters_nothing(db: str, conn: psycopg.Connection[Any]) -> None:
    """A permissive USING (true) lets the role read every row: no filter, and no note calling it one (u6)."""
    prod = production.build(db)
    conn.execute(f"CREATE POLICY every_doc ON app.docs FOR SELECT TO {Role.TENANT.value} USING (true)")
    production.workload(prod, [Part.DOCS])
    docs = _row(_advice(conn), TENANT_DOCS.split(" LIMIT ")[0])
    assert docs.role == Role.TENANT.value and docs.planned_as is None and not docs.settings and not docs.notes


@pytest.mark.needs_hypopg
def test_verify_as_a_role_that_may_not_take_the_tenant_role_says_not_checked(db: str, conn: psycopg.Connection[Any],
                                                                             tmp_path: Path) -> None:
    """u13 (Papermark): verify ran as the tables' owner, no member of the application role emit planned the
    statements under; each failed "cannot plan: permission denied to set role", exit 1, as if the migration had
    made it slower. Now each is not checked, with the GRANT that lets verify check it."""
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    _, folder, migration = _emitted(db, conn, tmp_path, Part.DOCS)
    tenant_targets = [t for t in migration.targets if t.role == Role.TENANT.value]
    assert tenant_targets
    api.apply(conn, folder)
    me = f"deployer_{conn.info.dbname}"        # roles are the cluster's: one per test database
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'deployer'").format(sql.Identifier(me)))
    for schema in ("app", "pgtune"):
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {s} TO {r}; GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {r}")
                     .format(s=sql.Identifier(schema), r=sql.Identifier(me)))
    dsn = make_conninfo(db, user=me, password="deployer")
    out = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", dsn, "--format", "json"])
    assert out.exit_code == 1, out.output
    import json
    targets = json.loads(out.stdout)["targets"]
    skipped = [t for t in targets if t["verdict"] == "unchecked"]
    assert len(skipped) == len(tenant_targets)
    assert all(f"GRANT app_tenant TO {me};" in t["problem"] and not t["ok"] for t in skipped)
    assert not [t for t in targets if t["verdict"] == "fail"], targets
    table = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", dsn])
    assert "NOT CHECKED" in table.stdout and "permission denied" not in table.stdout
    conn.execute(sql.SQL("GRANT app_tenant TO {}").format(sql.Identifier(me)))
    assert CliRunner().invoke(cli, ["verify", str(folder), "--dsn", dsn]).exit_code == 0


def test_verify_asks_the_set_option_where_the_server_has_one(conn: psycopg.Connection[Any]) -> None:
    """r10: from PostgreSQL 16 a member granted WITH SET FALSE may not SET ROLE: such a target is not checked."""
    from psycopg import sql

    from pgtune.verify_roles import RoleCheck

    me, other = f"vr_me_{conn.info.dbname}", f"vr_app_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN; CREATE ROLE {}").format(sql.Identifier(me), sql.Identifier(other)))
    grant = "GRANT {} TO {}" + (" WITH SET FALSE" if conn.info.server_version >= 160000 else "")
    conn.execute(sql.SQL(grant).format(sql.Identifier(other), sql.Identifier(me)))
    conn.execute(sql.SQL("SET SESSION AUTHORIZATION {}").format(sql.Identifier(me)))
    try:
        why = RoleCheck(conn).why_not(other)
        assert bool(why) == (conn.info.server_version >= 160000), why
        assert RoleCheck(conn).why_not("no_such_role_anywhere").endswith("which no longer exists")
    finally:
        conn.execute("RESET SESSION AUTHORIZATION")
