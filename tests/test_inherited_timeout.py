"""A build a migration tool runs alone in its file inherits the session's statement_timeout: emit says so (p15).

p15's database had ``ALTER DATABASE … SET statement_timeout = '20s'``: a Prisma or golang-migrate file holding a
CREATE INDEX CONCURRENTLY can SET none (the tool sends the file as one query), so a long build would be cut and
left INVALID, and nothing at emit said so.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner
from psycopg import sql

from pgtune.cli import cli


def _events(conn: psycopg.Connection[Any]) -> None:
    """A 20 MB table the workload reads by one column (the advice: an index on it)."""
    conn.execute("CREATE TABLE events (id bigint PRIMARY KEY, user_id int NOT NULL, pad text NOT NULL)")
    conn.execute("INSERT INTO events SELECT g, g % 5000, repeat('x', 60) FROM generate_series(1, 200000) AS g")
    conn.execute("VACUUM ANALYZE events")
    conn.execute("SELECT pg_stat_statements_reset()")
    for user in range(1, 40):
        conn.execute("SELECT id, pad FROM events WHERE user_id = %s", (user,))


def _suggest(db: str, folder: Path, layout: str) -> Any:
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--emit", str(folder), "--layout", layout,
                                   "--no-constraints"])
    assert out.exit_code == 0, out.output
    assert any(p.suffix == ".sql" for p in folder.rglob("*")), "a migration was written"
    return out


def test_emit_says_a_build_alone_in_its_file_inherits_the_databases_timeout(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    _events(conn)
    name = sql.Identifier(conn.info.dbname)
    conn.execute(sql.SQL("ALTER DATABASE {} SET statement_timeout = '1s'").format(name))
    try:
        out = _suggest(db, tmp_path / "golang", "golang-migrate")
        hints = [line for line in out.stderr.splitlines() if "statement_timeout 1,000 ms" in line]
        assert len(hints) == 1, out.stderr
        assert f"database {conn.info.dbname}: 1s" in hints[0] and "ALTER ROLE <role> SET statement_timeout = 0" \
            in hints[0], hints[0]
        builds = [p.read_text() for p in (tmp_path / "golang").glob("*.up.sql") if "CONCURRENTLY" in p.read_text()]
        assert builds and all("its statement_timeout, 0 advised" in text for text in builds), builds
        out = _suggest(db, tmp_path / "prisma", "prisma")
        assert sum("statement_timeout 1,000 ms" in line for line in out.stderr.splitlines()) == 1, out.stderr
        recipe = "".join(p.read_text() for p in (tmp_path / "prisma").rglob("migration.sql"))
        assert "Give that role statement_timeout 0 as well" in recipe
        # Flyway's files SET statement_timeout = 0 before a build themselves: nothing to say.
        out = _suggest(db, tmp_path / "flyway", "flyway")
        assert "statement_timeout 1,000 ms" not in out.stderr, out.stderr
        scripts = [p.read_text() for p in (tmp_path / "flyway").glob("*.sql") if "CONCURRENTLY" in p.read_text()]
        assert scripts and all(re.search(r"SET statement_timeout = '?0'?;", t) for t in scripts), scripts
    finally:
        conn.execute(sql.SQL("ALTER DATABASE {} RESET statement_timeout").format(name))
    # No timeout a session starts with: nothing to say either.
    out = _suggest(db, tmp_path / "golang2", "golang-migrate")
    assert "statement_timeout" not in out.stderr, out.stderr
