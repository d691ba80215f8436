"""``pgtune config`` as the application's role knows what check knows about preloaded libraries (u12, Cal.com).

Run as Cal.com's own role (pg_read_all_stats, not superuser), `pgtune check`
said "pg_stat_statements preloaded yes" and "pg_qualstats preloaded yes"
(the view answers; pg_qualstats' own setting exists once it is loaded), while
`pgtune config` on the same connection said "this role cannot read
shared_preload_libraries (superuser-only): whether pg_stat_statements and
pg_qualstats are preloaded is not checked". Now config uses the same evidence
and says nothing when both are known loaded.
"""

from __future__ import annotations

from typing import Any

import psycopg
from click.testing import CliRunner
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgtune.cli import cli

NOTE = "cannot read shared_preload_libraries"


def test_config_as_an_app_role_does_not_say_preload_is_unchecked(db: str, conn: psycopg.Connection[Any]) -> None:
    role = f"app_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    conn.execute(sql.SQL("GRANT pg_read_all_stats TO {}").format(sql.Identifier(role)))
    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    params = conninfo_to_dict(db)
    params["user"] = role
    dsn = make_conninfo("", **params)
    with psycopg.connect(dsn) as app:      # the role really cannot read the list
        assert app.execute("SELECT 1 FROM pg_settings WHERE name = 'shared_preload_libraries'").fetchone() is None
    check = CliRunner().invoke(cli, ["check", "--dsn", dsn])
    [line] = [x for x in check.stdout.splitlines() if x.startswith("pg_stat_statements preloaded")]
    assert line.split()[-1] == "yes", line
    qualstats = [x for x in check.stdout.splitlines() if x.startswith("pg_qualstats preloaded")]
    # Where the server has no pg_qualstats (PostgreSQL 18 here) the row says no, not "cannot tell" (r11 F17).
    assert not qualstats or qualstats[0].split()[-1] in ("yes", "no"), qualstats
    out = CliRunner().invoke(cli, ["config", "--dsn", dsn])
    assert out.exit_code == 0, out.output
    assert NOTE not in out.output, out.output
