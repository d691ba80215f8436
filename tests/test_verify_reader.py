"""verify as a role that may read the application's tables but not pgtune's history (r11 F4).

verify never read the history until it learned to say which phases are not in
place (rolled back, never applied); then a read-only or CI role with SELECT on
the tables got exit 2 "permission denied for schema pgtune" even when every
index was in place. Now the history is read only when an index is missing,
and, unreadable, verify says in one line that it cannot tell a rollback from a failure (exit 2, v39).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql
from psycopg.conninfo import make_conninfo

from pgtune import api
from pgtune.cli import cli

from .helpers import login_roles, shop


@pytest.mark.needs_hypopg
def test_a_reader_verifies_without_the_history(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    shop(conn)
    for i in range(50):
        conn.execute('SELECT * FROM "order" WHERE "userId" = %s ORDER BY "createdAt" DESC LIMIT 10', (i,),
                     prepare=True)
    folder = tmp_path / "m"
    api.suggest(conn, api.SuggestOptions(constraints=False), emit=api.EmitOptions(directory=folder))
    api.apply(conn, folder)
    with login_roles(conn, "reader") as (me,):
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(sql.Identifier(me)))
        conn.execute(sql.SQL("GRANT pg_read_all_stats TO {}").format(sql.Identifier(me)))
        dsn = make_conninfo(db, user=me)
        out = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", dsn])
        assert out.exit_code == 0, out.output
        api.rollback(conn, folder)
        out = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", dsn, "--format", "json"])
        assert out.exit_code == 2 and out.stdout == "", out.output
        assert "pgtune's history" in out.stderr and "rolled back" in out.stderr, out.stderr
