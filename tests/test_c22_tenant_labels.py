"""c22: a schema per tenant, a role each with its own search_path, running the same text: verify's target labels
and its JUnit test names were the same for the two tenants' targets (from PostgreSQL 18 on the two share one
queryid too), so a CI reader could not tell which tenant regressed. Each now names its tenant's session; a
label no other target shares stays as it was."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import psycopg
from click.testing import CliRunner
from psycopg import sql

from pgtune import api
from pgtune.apply import Applier
from pgtune.cli import cli
from pgtune.sqltext import statement_label

from .helpers import steady_state

TENANT = """
CREATE SCHEMA {s};
CREATE TABLE {s}.orders (id int PRIMARY KEY, customer_id int NOT NULL, total numeric NOT NULL);
INSERT INTO {s}.orders SELECT g, g % 5000, g FROM generate_series(1, 60000) g;
ANALYZE {s}.orders;
"""
BY_CUSTOMER = "SELECT id, total FROM orders WHERE customer_id = %s"


def test_two_tenants_same_text_get_distinct_labels_and_junit_names(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    roles = {}
    for schema in ("t_acme", "t_globex"):
        conn.execute(TENANT.format(s=schema))
        role = roles[schema] = f"{schema}_{conn.info.dbname}"
        conn.execute(sql.SQL("CREATE ROLE {0} LOGIN; ALTER ROLE {0} SET search_path = {1}; "
                             "GRANT USAGE ON SCHEMA {1} TO {0}; GRANT SELECT ON ALL TABLES IN SCHEMA {1} TO {0}")
                     .format(sql.Identifier(role), sql.Identifier(schema)))
    conn.execute("CREATE TABLE public.single (id int PRIMARY KEY, code int NOT NULL);"
                 "INSERT INTO public.single SELECT g, g % 7000 FROM generate_series(1, 60000) g; ANALYZE public.single")
    steady_state(conn)
    for role in roles.values():
        with psycopg.connect(db, user=role, autocommit=True) as app, app.cursor() as cur:
            for i in range(30):
                cur.execute(BY_CUSTOMER, (i,), prepare=True)
    solo = f"solo_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {0} LOGIN; GRANT SELECT ON public.single TO {0}").format(sql.Identifier(solo)))
    with psycopg.connect(db, user=solo, autocommit=True) as app, app.cursor() as cur:
        for i in range(30):
            cur.execute("SELECT id FROM single WHERE code = %s", (i,), prepare=True)
    folder = tmp_path / "mig"
    result = api.suggest(conn, api.SuggestOptions(constraints=False), emit=api.EmitOptions(directory=folder))
    assert result.migration is not None
    tenant_targets = [t for t in result.migration.targets if "customer_id" in t.query]
    assert len(tenant_targets) == 2, [(t.query, t.search_path) for t in result.migration.targets]
    Applier(conn, folder).apply()

    report = tmp_path / "verify.xml"
    out = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", db, "--junit", str(report)])
    assert out.exit_code in (0, 1), out.output
    names = [case.get("name") or "" for case in ET.parse(report).getroot()]
    tenant_names = [n for n in names if "customer_id" in n]
    assert len(tenant_names) == 2 and len(set(tenant_names)) == 2, names
    assert any("t_acme" in n for n in tenant_names) and any("t_globex" in n for n in tenant_names), names
    # The single tenant's target keeps its plain label.
    [single] = [t for t in result.migration.targets if "single" in t.query]
    [single_name] = [n for n in names if "single" in n]
    assert single_name == f"{statement_label(single.query)} (queryid {single.queryid})", names

    verification = api.verify(conn, folder)
    labels = [t.name for t in verification.targets if "customer_id" in t.query]
    assert len(set(labels)) == 2, labels
