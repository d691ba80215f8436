"""Suggest run as the application's role, when another role's statements (the owner's, or pgtune's own earlier
run as it) are hidden from it and take most of the time: the refusal names whose they are and offers
--workload-role for the statements the role reads, not only a GRANT of pg_read_all_stats to the application's
role (u6: documenso-shaped database, 38 of the top 50 statements the owner's, 30 of them pgtune's own)."""

from __future__ import annotations

from typing import Any

import psycopg
from click.testing import CliRunner
from psycopg import sql
from psycopg.conninfo import make_conninfo

from pgtune.cli import cli

from .helpers import login_roles


def test_hidden_statements_of_another_role_offer_the_roles_own_workload(
        db: str, conn: psycopg.Connection[Any]) -> None:
    with login_roles(conn, "app", "owner") as (app, owner):
        conn.execute("CREATE TABLE items (id int PRIMARY KEY, team int NOT NULL, title text NOT NULL)")
        conn.execute("INSERT INTO items SELECT g, g % 300, md5(g::text) FROM generate_series(1, 30000) g")
        conn.execute("ANALYZE items")
        conn.execute(sql.SQL("GRANT SELECT ON items TO {}, {}").format(sql.Identifier(app), sql.Identifier(owner)))
        conn.execute("SELECT pg_stat_statements_reset()")
        with psycopg.connect(make_conninfo(db, user=owner), autocommit=True) as c:
            for i in range(40):        # heavy: the owner's, most of the time
                c.execute(sql.SQL("SELECT count(*) FROM items a JOIN items b ON a.team = b.team WHERE a.id < {}")
                          .format(sql.Literal(200 + i)))
        with psycopg.connect(make_conninfo(db, user=app), autocommit=True) as c:
            for i in range(20):
                c.execute("SELECT id, title FROM items WHERE team = %s", (i,))
        as_app = make_conninfo(db, user=app)
        result = CliRunner().invoke(cli, ["suggest", "--dsn", as_app, "--no-constraints"])
        assert result.exit_code == 2, result.output
        assert f"those of {owner} (" in result.stderr
        assert f"--workload-role {app}" in result.stderr
        result = CliRunner().invoke(cli, ["suggest", "--dsn", as_app, "--no-constraints", "--workload-role", app])
        assert result.exit_code == 0, result.output
        assert "items_team_idx" in result.stdout
