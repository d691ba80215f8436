"""verify of a migration that names no statement printed a bare table header and nothing under it (p25, LOW).

On a Ghostfolio-shaped database, `pgtune verify` of health's migration (24 unused or redundant indexes dropped,
none of them in a workload statement's plan; two foreign-key indexes built) printed the column names of an empty
table, which read as a table whose rows were lost. Now it says there was no statement to check.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from click.testing import CliRunner

from pgtune.cli import cli


def test_verify_with_no_statement_says_so(db: str, tmp_path: Path) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE ledger (id int PRIMARY KEY, account int NOT NULL, note text);"
                     "INSERT INTO ledger SELECT g, g % 100, 'n' FROM generate_series(1, 5000) g;"
                     "CREATE INDEX ledger_account_a ON ledger (account);"
                     "CREATE INDEX ledger_account_b ON ledger (account);"
                     "ANALYZE ledger")
    folder = tmp_path / "health"
    emitted = CliRunner().invoke(cli, ["health", "--dsn", db, "--check", "duplicate-index", "--emit", str(folder)])
    assert emitted.exit_code == 1 and (folder / "manifest.json").exists(), emitted.output
    applied = CliRunner().invoke(cli, ["apply", "--dsn", db, str(folder)])
    assert applied.exit_code == 0, applied.output
    out = CliRunner().invoke(cli, ["verify", "--dsn", db, str(folder)])
    assert out.exit_code == 0, out.output
    # Without the fix: the header "queryid  statement  index used  cost cut predicted …" over no row.
    assert "cost cut predicted" not in out.output, out.output
    assert "no statement to check" in out.output, out.output
