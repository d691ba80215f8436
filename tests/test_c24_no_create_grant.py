"""apply as a role without CREATE on the tables' schema names the GRANT and makes nothing (c24, LOW).

The role owned the table and had CREATE on the database, not on schema public (PostgreSQL 15's default for
a role that does not own it): apply made its history schema, then phase 1 failed on CREATE INDEX with
"permission denied for schema public", exit 1, no GRANT named. apply now asks has_schema_privilege first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner
from psycopg import sql
from psycopg.conninfo import make_conninfo

from pgtune import plan
from pgtune.cli import cli

from .helpers import ORDERS_BY_USER, login_roles, run, shop, suggest


def test_apply_without_create_on_the_schema_names_the_grant_and_makes_nothing(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    shop(conn)
    run(conn, ORDERS_BY_USER, [(i,) for i in range(1, 11)])
    plan.emit(plan.build(suggest(conn)), tmp_path / "mig")
    with login_roles(conn, "app") as (role,):
        app = sql.Identifier(role)
        conn.execute(sql.SQL('ALTER TABLE "order" OWNER TO {}').format(app))
        conn.execute(sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(sql.Identifier(conn.info.dbname), app))
        conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC, {}").format(app))
        result = CliRunner().invoke(cli, ["apply", str(tmp_path / "mig"), "--dsn", make_conninfo(db, user=role)])
        # Without the fix: exit 1, "phase 1 failed on CREATE INDEX CONCURRENTLY …: permission denied for schema
        # public", and schema pgtune made.
        assert result.exit_code == 2, result.output
        [line] = result.stderr.strip().splitlines()
        assert f'GRANT CREATE ON SCHEMA "public" TO "{role}"' in line and "nothing was made" in line, line
        assert "Traceback" not in result.output
        made = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'pgtune'").fetchone()
        assert made == (0,)
        conn.execute(sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(app))
        again = CliRunner().invoke(cli, ["apply", str(tmp_path / "mig"), "--dsn", make_conninfo(db, user=role)])
        assert again.exit_code == 0, again.output       # granted, the same apply runs
