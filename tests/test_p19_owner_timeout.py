"""A Prisma build inherits the statement_timeout of the role migrations run as: the tables' owner (p19, MEDIUM).

On an Umami-shaped database the application's role owns the schema and has
``ALTER ROLE umami SET statement_timeout = '5s'``; pgtune ran as postgres (no
timeout), so ``suggest --emit … --layout prisma`` said nothing, and the build file
run as umami (as ``prisma migrate deploy`` with the application's DATABASE_URL)
was cancelled after 5.1 s, leaving website_event's index INVALID. emit now says
so, naming the owner and where its timeout is set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from .test_inherited_timeout import _events, _suggest


def test_emit_names_the_owners_own_statement_timeout(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    owner = f"app_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(owner)))
    _events(conn)
    conn.execute(sql.SQL("ALTER TABLE events OWNER TO {}").format(sql.Identifier(owner)))
    conn.execute(sql.SQL("ALTER ROLE {} IN DATABASE {} SET statement_timeout = '1s'").format(
        sql.Identifier(owner), sql.Identifier(conn.info.dbname)))
    out = _suggest(db, tmp_path / "prisma", "prisma")
    notes = [line for line in out.stderr.splitlines() if "statement_timeout 1,000 ms" in line]
    # Without the fix: no line (pgtune's own session, a superuser's, starts with none).
    assert len(notes) == 1, out.stderr
    assert f"role {owner}, which owns the tables built on" in notes[0]
    assert f"(set for role {owner}: 1s)" in notes[0]
    # Flyway's files set statement_timeout = 0 before a build: nothing to say.
    out = _suggest(db, tmp_path / "flyway", "flyway")
    assert "statement_timeout 1,000 ms" not in out.stderr, out.stderr
