"""ORDER BY an expression (``name COLLATE "C"``) is no longer called "already served" (p21, MEDIUM).

pgtune makes index keys of ORDER BY columns only; a sort on an expression was dropped without a word, so a
tenant's page of contacts sorted ``ORDER BY name COLLATE "C"`` (250,000 rows sorted per call, 80 ms) got
"no index to suggest: the workload is already served." Now the statement says what was not keyed, and the
verdict is withheld.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune.cli import cli

QUERY = ('SELECT id, name FROM contacts WHERE account_id = 1 AND deleted_at IS NULL '
         'ORDER BY name COLLATE "C" LIMIT 15;\n')


def test_a_sort_on_an_expression_is_no_served_verdict(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute("CREATE TABLE contacts (id int PRIMARY KEY, account_id int NOT NULL, name text, "
                 "deleted_at timestamptz)")
    conn.execute("INSERT INTO contacts SELECT g, CASE WHEN g % 2 = 0 THEN 1 ELSE g % 300 END, md5(g::text), NULL "
                 "FROM generate_series(1, 40000) g")
    conn.execute("CREATE INDEX contacts_account_id_idx ON contacts (account_id)")
    conn.execute("ANALYZE contacts")
    queries = tmp_path / "q.sql"
    queries.write_text(QUERY)
    table = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(queries), "--no-constraints"])
    assert table.exit_code == 0, table.output
    # Without the fix: "no index to suggest: the workload is already served." and no word of the sort.
    assert "already served" not in table.stdout, table.stdout
    # A --queries statement has no queryid: its note names it by its text's start, not "queryid None".
    assert "note: statement 'SELECT id, name FROM contacts WHERE acco…': sorts on" in table.stdout, table.stdout
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(queries), "--no-constraints",
                                   "--format", "json"])
    notes = [n for st in json.loads(out.stdout)["statements"] for n in st["notes"]]
    assert any(n.startswith('sorts on name COLLATE "C"') for n in notes), notes
