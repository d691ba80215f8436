"""apply as a role that owns its history schema but may not create schemas in the database.

p16 (Papermark-shaped, Prisma's role pm_owner owning schema pm): apply refused with "permission denied for
database papermark; … GRANT CREATE ON DATABASE … or have its owner run CREATE SCHEMA "pgtune" AUTHORIZATION
pm_owner". Done as told, apply was refused the same way: CREATE SCHEMA IF NOT EXISTS asks for CREATE on the
database before it looks whether the schema exists. A managed service's application role is often such a role.
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


def test_apply_runs_in_the_history_schema_the_owner_made_for_the_role(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    shop(conn)
    run(conn, ORDERS_BY_USER, [(i,) for i in range(1, 11)])
    plan.emit(plan.build(suggest(conn)), tmp_path / "mig")
    role = f"own_{conn.info.dbname}"
    ident = sql.Identifier(role)
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(ident))
    try:
        conn.execute(sql.SQL('ALTER TABLE "order" OWNER TO {0}; GRANT CREATE ON SCHEMA public TO {0}').format(ident))
        conn.execute(sql.SQL("REVOKE CREATE ON DATABASE {} FROM PUBLIC, {}")
                     .format(sql.Identifier(conn.info.dbname), ident))
        as_role = make_conninfo(db, user=role)
        refused = CliRunner().invoke(cli, ["apply", str(tmp_path / "mig"), "--dsn", as_role])
        assert refused.exit_code == 2, refused.output
        assert f'have its owner run CREATE SCHEMA "pgtune" AUTHORIZATION "{role}"' in refused.stderr, refused.stderr
        conn.execute(sql.SQL("CREATE SCHEMA pgtune AUTHORIZATION {}").format(ident))     # as the line says
        applied = CliRunner().invoke(cli, ["apply", str(tmp_path / "mig"), "--dsn", as_role])
        assert applied.exit_code == 0, applied.stderr
        built = conn.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'order' "
                             "AND indexname <> 'order_pkey'").fetchone()
        assert built is not None and built[0] >= 1
        rolled = CliRunner().invoke(cli, ["rollback", str(tmp_path / "mig"), "--dsn", as_role])
        assert rolled.exit_code == 0, rolled.stderr
    finally:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(ident))
        conn.execute(sql.SQL("DROP ROLE {}").format(ident))
