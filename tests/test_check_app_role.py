"""``pgtune check`` run as the application's own role, which may not read shared_preload_libraries (u3's minor finding).

It said "pg_qualstats preloaded: no" where it could not know: the list is
superuser-only. Now it reads pg_qualstats' own setting (defined once the library
is loaded), and otherwise says it cannot tell, never "no".
"""

from __future__ import annotations

import re
from typing import Any

import psycopg
from click.testing import CliRunner
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgtune.cli import cli


def test_an_app_role_is_not_told_pg_qualstats_is_not_preloaded(db: str, conn: psycopg.Connection[Any]) -> None:
    role = f"app_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    preloaded = "pg_qualstats" in str(conn.execute("SHOW shared_preload_libraries").fetchone())
    available = conn.execute("SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_qualstats'").fetchone()
    params = conninfo_to_dict(db)
    params["user"] = role
    out = CliRunner().invoke(cli, ["check", "--dsn", make_conninfo("", **params)])
    assert "Traceback" not in out.output, out.output
    [line] = [x for x in out.stdout.splitlines() if x.startswith("pg_qualstats preloaded")]
    # A server without pg_qualstats at all (PostgreSQL 18 here): "no", whatever the role may read (r11 F17).
    assert re.split(r"\s{2,}", line)[1] == ("yes" if preloaded else "no" if available == (0,) else
                                            "cannot tell (this role cannot read shared_preload_libraries)"), line
    assert "pg_qualstats is preloaded but not installed" not in out.stdout or preloaded
