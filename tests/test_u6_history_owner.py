"""Status and rollback run as a role that may not read the history another role's apply wrote.

u6 (documenso-shaped): the owner applied; `pgtune status` as the application's
role showed every phase pending and its indexes "built outside pgtune apply
(01_up.sql run by hand?)", and `rollback` told it to GRANT CREATE ON DATABASE
to the application's role. Both now name the role that applied (exit 2).
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

from .helpers import ORDERS_BY_USER, run, shop, suggest


def test_a_role_that_cannot_read_the_history_is_told_whose_it_is(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    shop(conn)
    run(conn, ORDERS_BY_USER, [(i,) for i in range(1, 11)])
    plan.emit(plan.build(suggest(conn)), tmp_path / "mig")
    applied = CliRunner().invoke(cli, ["apply", str(tmp_path / "mig"), "--dsn", db])
    assert applied.exit_code == 0, applied.output
    owner = conn.info.user
    role = f"app_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    try:
        as_app = make_conninfo(db, user=role)
        for command in ("status", "rollback"):
            result = CliRunner().invoke(cli, [command, str(tmp_path / "mig"), "--dsn", as_app])
            assert result.exit_code == 2, (command, result.output)
            assert f"belongs to role {owner}" in result.stderr and f"run pgtune as {owner}" in result.stderr
            assert "built outside pgtune apply" not in result.output
            assert "GRANT CREATE ON DATABASE" not in result.stderr
        status = CliRunner().invoke(cli, ["status", str(tmp_path / "mig"), "--dsn", db])
        assert status.exit_code == 0 and "applied" in status.stdout     # the owner still reads it
    finally:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
