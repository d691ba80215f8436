"""The server's per-row foreign key check is not workload pgtune could tune (p34, OpenPanel-shaped).

With ``pg_stat_statements.track = all`` every row written to a referencing table adds a call of the server's
check of its referenced row: ``SELECT $2 FROM ONLY "public"."projects" x WHERE "id" OPERATOR(pg_catalog.=) $1
FOR KEY SHARE OF x`` (ri_triggers.c). It is a lookup by the referenced key's unique index, which a foreign key
requires: nothing to build. On the OpenPanel-shaped database it had 1,370,860 calls, weighed 19% of the
workload's planned cost in the headline and got the hint "no index pgtune could propose makes it cheaper". It is
now skipped as a utility statement; the check of a deleted referenced row (``$1 OPERATOR(pg_catalog.=)
"projectId"``, on the referencing table, which an index on that column serves) is still analyzed.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.analyze.model import SkipKind

from .helpers import steady_state, suggest

SCHEMA = """
CREATE TABLE projects (id text PRIMARY KEY, name text NOT NULL);
CREATE TABLE notifications (id bigserial PRIMARY KEY, "projectId" text NOT NULL REFERENCES projects (id),
  title text NOT NULL, "createdAt" timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP);
INSERT INTO projects SELECT 'proj-' || g, 'Project ' || g FROM generate_series(1, 2001) AS g;
INSERT INTO notifications ("projectId", title) SELECT 'proj-' || (1 + g % 2000), 'n' || g
FROM generate_series(1, 40000) AS g;
ANALYZE projects, notifications;
"""


def test_the_check_of_a_written_rows_referenced_key_is_skipped(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    steady_state(conn)
    with psycopg.connect(db, autocommit=True) as app:
        app.execute("SET pg_stat_statements.track = 'all'")
        for n in range(300):
            app.execute('INSERT INTO notifications ("projectId", title) VALUES (%s, %s)', (f"proj-{n % 7 + 1}", "t"))
        for n in range(30):
            app.execute('SELECT id, title FROM notifications WHERE "projectId" = %s ORDER BY "createdAt" DESC '
                        "LIMIT 20", (f"proj-{n + 1}",)).fetchall()
        app.execute("DELETE FROM projects WHERE id = 'proj-2001'")     # the referencing side's check
    advice = suggest(conn)
    checks = [s for s in advice.statements if "FOR KEY SHARE" in s.query]
    assert not any('"id" OPERATOR' in s.query for s in checks), [s.query for s in checks]   # main: analyzed
    skipped = [sk for sk in advice.skipped if '"id" OPERATOR' in sk.query]
    assert skipped and skipped[0].kind == SkipKind.UTILITY and "foreign key check" in skipped[0].reason, skipped
    assert not any("FOR KEY SHARE" in h and '"id" OPERATOR' in h for h in advice.hints), advice.hints
    assert any('$1 OPERATOR(pg_catalog.=) "projectId"' in s.query for s in checks), [s.query for s in checks]
