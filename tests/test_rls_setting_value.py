"""A row security setting is planned with the value the statement itself compares the same column with (u13).

The app filters ``team = $1`` and its policy ``team = current_setting('app.team')``
with the same team, as an app that passes its tenant both ways does. pgtune chose
the setting's value from the column's statistics (the most common team) apart from
the statement's $1 (the team the workload sends): the policy and the WHERE then
asked for two teams, the plan found no row, and it was costed as nearly free.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql
from psycopg.conninfo import make_conninfo

from pgtune.cli import cli

from .helpers import login_roles
from .test_u13_rls_stats_hidden import tenant_docs

QUERY = "SELECT id, title FROM tenant.docs WHERE team = %s AND kind = %s"


@pytest.mark.needs_hypopg
@pytest.mark.needs_qualstats
def test_the_policy_setting_takes_the_statement_s_own_value(db: str, conn: psycopg.Connection[Any]) -> None:
    with login_roles(conn, "app", "adv") as (app, adv):
        # team0 holds a third of the rows (the statistics' most common team); the app works for team7
        tenant_docs(conn, app, adv, sql.SQL("CASE WHEN g % 3 = 0 THEN 'team0' ELSE 'team' || (g % 50) END"), 60_000)
        conn.execute(sql.SQL("ALTER ROLE {} BYPASSRLS").format(sql.Identifier(adv)))
        with psycopg.connect(make_conninfo(db, user=app)) as c:
            for i in range(40):
                with c.transaction():
                    c.execute("SELECT set_config('app.team', 'team7', true)")
                    c.execute(QUERY, ("team7", i % 7), prepare=True)
        result = CliRunner().invoke(cli, ["suggest", "--dsn", make_conninfo(db, user=adv), "--no-constraints",
                                          "--workload-role", app, "--format", "json"])
        assert result.exit_code == 0, result.output
        out = json.loads(result.stdout)
        (st,) = [s for s in out["statements"] if "tenant.docs" in s["query"]]
        assert st["settings"] == {"app.team": st["values"]["$1"]}, st
