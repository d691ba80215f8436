"""``suggest --emit`` on a workload its indexes already serve says there is nothing to migrate (n38).

On a Cal.com-shaped database whose migration had been applied, ``suggest --emit prisma/migrations --layout prisma``
printed ``wrote migration … (0 phases) to prisma/migrations as prisma migrations`` and the note on how a failed
concurrent build leaves a Prisma migration failed, where it had written no file at all. health and config say
``nothing to migrate`` in that case; suggest now does too, and names what, if anything, is in the folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune.cli import cli


def _served(conn: psycopg.Connection[Any], tmp_path: Path) -> Path:
    """A booking table whose primary key serves the one statement of a --queries file."""
    conn.execute('CREATE TABLE "Booking" (id int PRIMARY KEY, "userId" int NOT NULL, title text NOT NULL)')
    conn.execute("""INSERT INTO "Booking" SELECT g, g % 500, 'b' || g FROM generate_series(1, 20000) g""")
    conn.execute('ANALYZE "Booking"')
    queries = tmp_path / "served.sql"
    queries.write_text('SELECT id, title FROM "Booking" WHERE id = 42;\n')
    return queries


@pytest.mark.parametrize("layout", ["prisma", "pgtune"])
def test_nothing_to_propose_is_not_a_written_migration(db: str, conn: psycopg.Connection[Any], tmp_path: Path,
                                                       layout: str) -> None:
    queries = _served(conn, tmp_path)
    folder = tmp_path / "migrations"
    folder.mkdir()
    result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(queries), "--no-constraints",
                                      "--emit", str(folder), "--layout", layout])
    assert result.exit_code == 0, result.output
    assert "no index to suggest" in result.stdout, result.stdout
    assert "wrote migration" not in result.stderr and "prisma migrate resolve" not in result.stderr, result.stderr
    assert "nothing to migrate: no index or constraint to propose" in result.stderr, result.stderr
    if layout == "prisma":
        assert not list(folder.iterdir()) and f"nothing written to {folder}" in result.stderr, result.stderr
    else:
        assert (folder / "manifest.json").exists() and f"{folder} holds an empty migration" in result.stderr
