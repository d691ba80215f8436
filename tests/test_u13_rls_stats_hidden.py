"""pgtune run as a role that is not the owner of tables under row security, set up as docs/roles.md asks
(pg_read_all_stats, SELECT, the application's role granted): PostgreSQL's pg_stats hides those tables'
statistics from it, so suggest sized and planned them as if never analyzed, silently (u13, a Papermark-shaped
database: a 1.3 MB index forecast at 7.7 MB, the statement planned without its tenant policy). check and
suggest now say so and name the fix; as a BYPASSRLS role nothing is hidden and nothing is said."""

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


@pytest.mark.needs_hypopg
def test_statistics_hidden_by_row_security_are_named(db: str, conn: psycopg.Connection[Any]) -> None:
    with login_roles(conn, "app", "adv") as (app, adv):
        tenant_docs(conn, app, adv, sql.SQL("'team' || (g % 50)"), 50_000,
                    extra=("CREATE TABLE tenant.plain (id int PRIMARY KEY, v int)",    # no row security: not named
                           "INSERT INTO tenant.plain SELECT g, g FROM generate_series(1, 1000) g",
                           "ANALYZE tenant.plain"))
        with psycopg.connect(make_conninfo(db, user=app)) as c:
            for i in range(30):
                with c.transaction():
                    c.execute("SELECT set_config('app.team', %s, true)", (f"team{i % 50}",))
                    c.execute("SELECT id, title FROM tenant.docs WHERE kind = %s", (i,), prepare=True)
        as_adv = make_conninfo(db, user=adv)
        result = CliRunner().invoke(cli, ["check", "--dsn", as_adv])
        assert "reads table statistics" in result.stdout and "no: 1 table(s) under row security" in result.stdout
        assert "pg_stats hides the planner statistics of 1 table(s) under row security" in result.stdout
        assert "(tenant.docs)" in result.stdout and f"ALTER ROLE {adv} BYPASSRLS;" in result.stdout
        result = CliRunner().invoke(cli, ["suggest", "--dsn", as_adv, "--no-constraints", "--workload-role", app])
        assert result.exit_code == 0, result.output
        assert "pg_stats hides the planner statistics of 1 table(s) under row security" in result.output
        assert _hidden_marks(as_adv, app) == {"tenant.docs": True}       # each proposal says so too (r11 F15)
        assert "row security hides this table's statistics" in result.output
        conn.execute(sql.SQL("ALTER ROLE {} BYPASSRLS").format(sql.Identifier(adv)))
        result = CliRunner().invoke(cli, ["check", "--dsn", as_adv])
        assert "pg_stats hides" not in result.stdout
        result = CliRunner().invoke(cli, ["suggest", "--dsn", as_adv, "--no-constraints", "--workload-role", app])
        assert result.exit_code == 0, result.output
        assert "pg_stats hides" not in result.output
        assert "docs_kind" in result.output and "row security hides this table's statistics" not in result.output
        assert _hidden_marks(as_adv, app) == {"tenant.docs": False}


def _hidden_marks(dsn: str, role: str) -> dict[str, bool]:
    """Each proposal's table and its JSON statistics_hidden."""
    result = CliRunner().invoke(cli, ["suggest", "--dsn", dsn, "--no-constraints", "--workload-role", role,
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    return {f"{ix['schema']}.{ix['table']}": ix["statistics_hidden"] for ix in json.loads(result.stdout)["indexes"]}


def tenant_docs(conn: psycopg.Connection[Any], app: str, adv: str, team: sql.Composable, rows: int,
                extra: tuple[str, ...] = ()) -> None:
    """tenant.docs under a policy for ``app`` on ``current_setting('app.team')`` (its team values the SQL
    expression ``team`` of g, the generate_series), readable by ``adv`` (pg_read_all_stats, a member of ``app``);
    the counters reset."""
    conn.execute("CREATE SCHEMA tenant")
    conn.execute("CREATE TABLE tenant.docs (id int PRIMARY KEY, team text NOT NULL, kind int NOT NULL, title text)")
    conn.execute(sql.SQL("INSERT INTO tenant.docs SELECT g, {}, g % 1000, md5(g::text) FROM generate_series(1, {}) g")
                 .format(team, sql.Literal(rows)))
    conn.execute("ANALYZE tenant.docs")
    for statement in extra:
        conn.execute(statement)
    conn.execute("ALTER TABLE tenant.docs ENABLE ROW LEVEL SECURITY")
    conn.execute(sql.SQL("CREATE POLICY t ON tenant.docs TO {} USING (team = current_setting('app.team', true))")
                 .format(sql.Identifier(app)))
    ids = sql.SQL(", ").join([sql.Identifier(app), sql.Identifier(adv)])
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA tenant TO {}").format(ids))
    conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA tenant TO {}").format(ids))
    conn.execute(sql.SQL("GRANT pg_read_all_stats, {} TO {}").format(sql.Identifier(app), sql.Identifier(adv)))
    conn.execute("SELECT pg_stat_statements_reset()")
