"""``FOR UPDATE OF a`` names a FROM item's alias, not a table the statement reads (c21).

Every reader of a statement's RangeVars walked into the locking clause too, so the alias was taken for a table:
with a table of that name elsewhere on an application role's search_path, a --queries file's
``SELECT … FROM orders AS jobs … FOR UPDATE OF jobs`` was left out as reading "jobs" ("none of the 1 statements
given is advised", exit 2), and its migration target was labelled ``select orders, jobs``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner
from psycopg import sql

from pgtune.cli import cli

from .helpers import emitted, steady_state

QUERY = "SELECT * FROM orders AS jobs WHERE owner = 7 FOR UPDATE OF jobs;\n"


def test_a_for_update_of_alias_is_no_table(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute("CREATE TABLE orders (id bigint PRIMARY KEY, owner int NOT NULL, body text)")
    conn.execute("INSERT INTO orders SELECT g, g % 1000, 'b' || g FROM generate_series(1, 50000) g")
    conn.execute("ANALYZE orders")
    # A table named like the alias, another one first on the application role's search_path.
    conn.execute("CREATE SCHEMA app; CREATE TABLE public.jobs (id int); CREATE TABLE app.jobs (id int)")
    role = f"c21w_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {0} LOGIN; ALTER ROLE {0} SET search_path = app, public; "
                         "GRANT USAGE ON SCHEMA app TO {0}; GRANT SELECT ON ALL TABLES IN SCHEMA app, public TO {0}")
                 .format(sql.Identifier(role)))
    steady_state(conn)
    queries = tmp_path / "locks.sql"
    queries.write_text(QUERY)
    result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(queries), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert '"orders_owner_idx"' in result.stdout, result.stdout[:2000]
    made = emitted(conn, tmp_path / "m", QUERY)
    assert made.migration is not None
    labels = [t.label for t in made.migration.targets]
    assert labels and all(label.startswith("select orders by owner #") for label in labels), labels
