"""`pgtune health --help` showed `pgtune health --emit migrations/health && pgtune apply migrations/health`, but
health exits 1 whenever a finding reaches --fail-on (warning by default), which is whenever there is a fix to
emit: the example wrote the migration and never applied it (v37, Hoppscotch-shaped database, 10 warnings, exit 1).
The example is run here as a user would paste it."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune.cli import cli


def test_the_help_examples_emit_then_apply_chain_applies(db: str, conn: psycopg.Connection[Any],
                                                         tmp_path: Path) -> None:
    conn.execute("CREATE TABLE team (id int PRIMARY KEY)")
    conn.execute("CREATE TABLE member (id int PRIMARY KEY, team_id int NOT NULL REFERENCES team ON DELETE CASCADE)")
    conn.execute("INSERT INTO team SELECT generate_series(1, 100)")
    conn.execute("INSERT INTO member SELECT i, 1 + i % 100 FROM generate_series(1, 5000) i")
    conn.execute("ANALYZE")
    runner = CliRunner()
    text = runner.invoke(cli, ["health", "--help"]).output
    [line] = [l for l in text.splitlines() if "health --emit" in l and "&&" in l]
    folder = str(tmp_path / "health")
    for part in line.split("&&"):       # a && b: b runs only when a exits 0
        argv = [folder if a == "migrations/health" else a for a in shlex.split(part)]
        assert argv[0] == "pgtune", line
        result = runner.invoke(cli, [*argv[1:], "--dsn", db])
        assert result.exit_code == 0, (part, result.exit_code, result.output)
    assert conn.execute("SELECT count(*) FROM pg_index WHERE indrelid = 'member'::regclass").fetchone() == (2,)
