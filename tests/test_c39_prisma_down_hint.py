"""pgtune/NN_down.sql's first line of a Prisma migration: a shell line that sets the search_path to the ledger's
schema, whatever that schema is named (c39).

The hint was ``PGOPTIONS='-c search_path={home}' psql ...`` with the schema raw: a schema ``it's`` ends the
shell's quote, ``a b`` is split by the server into two options, an upper-case or ``$`` name is read as another
(or no) schema. Here the line is parsed as a shell parses it, and its PGOPTIONS given to a real connection.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner
from psycopg import sql

from pgtune import plan
from pgtune.cli import cli

from .test_layouts import PRISMA_LEDGER, workload
from .test_migration import squawk_bin

HOME = "it's a $X\\b"      # a quote, spaces, a dollar, upper case, a backslash


def test_the_down_scripts_search_path_line_parses_to_the_ledgers_schema(db: str, conn: psycopg.Connection[Any],
                                                                         tmp_path: Path) -> None:
    home = sql.Identifier(HOME)
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(home))
    # The app's ?schema=: its sessions', and pgtune's, search_path (public: the extensions' functions).
    conn.execute(sql.SQL("ALTER DATABASE {} SET search_path = {}, public").format(
        sql.Identifier(conn.info.dbname), home))
    conn.execute(sql.SQL("SET search_path = {}, public").format(home))
    conn.execute(PRISMA_LEDGER)
    workload(conn)
    folder = tmp_path / "prisma" / "migrations"
    result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--emit", str(folder), "--layout", "prisma"])
    assert result.exit_code == 0, result.output
    downs = sorted(folder.glob(f"*/{plan.PLAN_DIR}/*_down.sql"))
    assert downs, result.output
    lint = subprocess.run([squawk_bin(), f"--pg-version={conn.info.server_version // 10000}", *map(str, downs)],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    for f in downs:
        head = f.read_text().splitlines()[0]
        assert head.startswith("-- ") and head.endswith(" psql ..."), head
        words = shlex.split(head.partition("e.g. ")[2])        # before: "No closing quotation"
        assert words[1:] == ["psql", "..."], words
        name, _, options = words[0].partition("=")
        assert name == "PGOPTIONS" and options.startswith("-c search_path="), words
        # As psql would pass it: the server splits the options and sets the search_path to the ledger's schema.
        with psycopg.connect(db, options=options) as run:
            assert run.execute("SELECT pg_catalog.current_schemas(false)").fetchone() == ([HOME],), options
            assert run.execute("SELECT count(*) FROM _prisma_migrations").fetchone() is not None
