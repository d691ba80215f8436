"""apply's watching sessions keep their statements out of pg_stat_statements too (r20, LOW).

6f3fe75 (p19) turned pg_stat_statements tracking off in the sessions pgtune opens, where the role may: at
pg_stat_statements.max each entry of pgtune's own evicts one of the application's. apply's second connection
(the lock watch beside each concurrent build, polling every 0.1 s, and the build's progress report) opens its own
session with psycopg.connect and was left tracked: after `pgtune apply` of a three-index migration its
``SET statement_timeout = '10s'`` and its lock-wait query were entries of their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune.cli import cli

from .test_apply_safety import big_migration


def _entries(conn: psycopg.Connection[Any]) -> set[str]:
    return {q for (q,) in conn.execute("SELECT s.query FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
                                       "WHERE d.datname = current_database()")}


def test_apply_adds_no_entry_of_its_watching_sessions(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    big_migration(conn, tmp_path / "mig")
    conn.execute("SELECT pg_stat_statements_reset()")
    before = _entries(conn) | _entries(conn)       # the second read holds the reading statement itself
    out = CliRunner().invoke(cli, ["apply", "--dsn", db, str(tmp_path / "mig")])
    assert out.exit_code == 0, out.output
    added = _entries(conn) - before
    # Without the fix: "SET /* pgtune */ statement_timeout = '10s'" and the lock watch's query (lock_waits.sql).
    # The one left is the transaction-pooler probe's, run before the setting may be changed (test_p19_own_…).
    assert added <= {"SELECT /* pgtune */ pg_catalog.pg_backend_pid()"}, sorted(q[:80] for q in added)
