"""p31 (a Civitai-shaped database on PostgreSQL 18): verify called indexes the application scanned thousands of
times "used by no targeted statement".

verify plans each target with the values emit planned it with; an index none of those plans uses got the note
"planned index UserEngagement_targetUserId_pgtune_idx is used by no targeted statement", read as "nothing uses
it" (the README: "planned indexes nothing uses"), while pg_stat_user_indexes counted 28,064 scans of it in 18
minutes of the application's traffic (and 7,662 of Model_userId_pgtune_idx): other values, and the foreign-key
lookups no target holds. The note now says how many scans the server counts, where it counts any.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune import api
from pgtune.cli import cli

from .helpers import emitted, run, steady_state

SETUP = """
CREATE TABLE "User" (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO "User" SELECT g, 'u' || g FROM generate_series(1, 6000) g;
CREATE TABLE "Post" (id int PRIMARY KEY, "userId" int NOT NULL REFERENCES "User" (id), title text NOT NULL);
INSERT INTO "Post" SELECT g, 1 + g % 5000, 'title ' || g FROM generate_series(1, 60000) g;
ANALYZE "User", "Post";
"""


def test_an_index_no_target_uses_but_the_server_scans_says_so(db: str, conn: psycopg.Connection[Any],
                                                               tmp_path: Path) -> None:
    conn.execute(SETUP)
    steady_state(conn)
    run(conn, 'SELECT id, "userId" FROM "Post" WHERE title = %s', [(f"title {i}",) for i in range(20)], times=20)
    for i in range(5001, 5021):         # accounts closed: the parent sees deletes, its foreign key needs an index
        conn.execute('DELETE FROM "User" WHERE id = %s', (i,))
    folder = tmp_path / "m"
    emitted(conn, folder)
    api.apply(conn, folder)
    for user in range(1, 31):           # the application's own lookup, which no target holds
        conn.execute('SELECT id, title FROM "Post" WHERE "userId" = %s', (user,)).fetchall()
    conn.execute("SELECT pg_stat_force_next_flush()")
    result = api.verify(conn, folder)
    assert result.unused_indexes, [t.used for t in result.targets]      # not vacuous: an index no target uses
    out = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", db])
    notes = [line for line in out.stdout.splitlines() if "used by no targeted statement" in line]
    assert notes and all("scans of it (pg_stat_user_indexes)" in line for line in notes), out.stdout
