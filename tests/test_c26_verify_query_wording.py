"""verify --query with --expect-index (no migration) said its plan "uses none of this migration's indexes" (c26,
LOW): there is no migration; the FAIL line names what is true, the expected indexes."""

from __future__ import annotations

from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune.cli import cli


def test_an_ad_hoc_query_failing_its_expected_index_names_no_migration(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE t (id int PRIMARY KEY, a int, b int)")
    conn.execute("INSERT INTO t SELECT g, g % 1000, g % 7 FROM generate_series(1, 20000) g")
    conn.execute("CREATE INDEX t_a_idx ON t (a)")
    conn.execute("CREATE INDEX t_b_idx ON t (b)")
    conn.execute("ANALYZE t")
    got = CliRunner().invoke(cli, ["verify", "--dsn", db, "--query", "SELECT id FROM t WHERE a = 42",
                                   "--expect-index", "t_b_idx"])
    assert got.exit_code == 1, got.output
    assert "expected index not used: t_b_idx" in got.stdout, got.stdout
    assert "migration" not in got.stdout, got.stdout
    assert "its plan uses none of the expected indexes (" in got.stdout and "t_a_idx" in got.stdout, got.stdout
