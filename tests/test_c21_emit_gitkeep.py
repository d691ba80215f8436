"""``suggest --emit DIR`` takes a folder holding only dot-files that are no migration (.gitkeep) (c21).

An empty migrations folder is kept in git by a ``.gitkeep``; --emit refused it as "already holds other files
(.gitkeep)", exit 2, so the user had to delete it first. A hidden SQL file is still refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune.cli import cli

from .helpers import steady_state


def test_emit_into_a_folder_holding_a_gitkeep(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute("CREATE TABLE orders (id bigint PRIMARY KEY, owner int NOT NULL, body text)")
    conn.execute("INSERT INTO orders SELECT g, g % 1000, 'b' || g FROM generate_series(1, 50000) g")
    conn.execute("ANALYZE orders")
    steady_state(conn)
    queries = tmp_path / "slow.sql"
    queries.write_text("SELECT id, body FROM orders WHERE owner = 7;\n")
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / ".gitkeep").write_text("")
    (folder / ".gitignore").write_text("*.tmp\n")
    result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(queries), "--emit", str(folder)])
    assert result.exit_code == 0, result.stderr
    assert (folder / "manifest.json").exists() and (folder / "01_up.sql").exists(), sorted(folder.iterdir())
    assert (folder / ".gitkeep").exists() and (folder / ".gitignore").read_text() == "*.tmp\n"
    applied = CliRunner().invoke(cli, ["apply", "--dsn", db, str(folder)])
    assert applied.exit_code == 0, applied.stderr
    status = CliRunner().invoke(cli, ["status", "--dsn", db, str(folder)])
    assert status.exit_code == 0, status.stdout + status.stderr
    assert conn.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'orders' AND indexdef LIKE '%(owner)%'"
                        ).fetchone() == (1,)


def test_a_hidden_sql_file_is_still_refused(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / ".gitkeep").write_text("")
    (folder / ".01_up.sql").write_text("-- mine\n")
    result = CliRunner().invoke(cli, ["suggest", "--emit", str(folder)],
                                env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert result.exit_code == 2 and result.stdout == ""
    assert "already holds other files (.01_up.sql)" in result.stderr, result.stderr
