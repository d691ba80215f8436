"""The "why" column of suggest's table escapes the catalog names a reason quotes (r8's LOW 4).

A reason names existing indexes ("makes existing … redundant") and columns (the
HOT notes). 28e255c escaped the index, table and column cells; the reason was
printed raw, so a name with a newline started a line of its own in the output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from pgtune.cli import cli

HOSTILE = "flag\nDROP TABLE victim; --"


@pytest.mark.needs_hypopg
def test_a_hostile_index_name_in_a_reason_stays_on_its_line(db: str, conn: psycopg.Connection[Any],
                                                             tmp_path: Path) -> None:
    conn.execute("CREATE TABLE ev (id int PRIMARY KEY, a int NOT NULL, b int NOT NULL, pad text)")
    conn.execute("INSERT INTO ev SELECT g, g % 50, g % 997, repeat('x', 80) FROM generate_series(1, 100000) g")
    conn.execute(sql.SQL("CREATE INDEX {} ON ev (a)").format(sql.Identifier(HOSTILE)))
    conn.execute("ANALYZE ev")
    queries = tmp_path / "q.sql"
    queries.write_text("SELECT id, pad FROM ev WHERE a = 7 AND b BETWEEN 10 AND 12;\n")
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(queries)])
    assert out.exit_code == 0, out.output
    assert "makes existing" in out.output, out.output
    # The name stays within its row's line: no line of its own (tabulate would pad one under the "why" column).
    assert all("makes existing flag" in line for line in out.output.splitlines() if "DROP TABLE victim" in line), \
        out.output
