"""Heuristic mode: no index for a statement whose column a later migration dropped (p24).

trigger.dev-shaped, PostgreSQL 18 without HypoPG: pg_stat_statements still held a Prisma migration's
``UPDATE "RuntimeEnvironment" SET "title" = $1 WHERE "slug" = $2`` after a later migration dropped "title";
the server refused every plan of it (an ERROR in its log at each run of suggest), and suggest proposed
("slug") for it all the same.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.analyze import Options

from .helpers import suggest

SETUP = """
CREATE TABLE "Env" (id int PRIMARY KEY, slug text NOT NULL, title text, code text NOT NULL);
INSERT INTO "Env" SELECT g, 'env-' || g, 'Env ' || g, 'c' || g FROM generate_series(1, 20000) g;
ANALYZE "Env";
"""
GONE = 'UPDATE "Env" SET title = %s WHERE slug = %s'
LIVE = 'SELECT id FROM "Env" WHERE code = %s'


def test_a_statement_on_a_dropped_column_gets_no_index(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(SETUP)
    conn.execute("SELECT pg_stat_statements_reset()")
    with psycopg.connect(db, autocommit=True) as app:
        for k in range(10):
            app.execute(GONE, (f"t{k}", f"env-{k}"))
            app.execute(LIVE, (f"c{k}",)).fetchall()
    conn.execute('ALTER TABLE "Env" DROP COLUMN title')     # the next migration
    advice = suggest(conn, options=Options(min_rows=100, use_hypopg=False))
    proposed = [ix.columns for ix in advice.indexes if ix.table == "Env"]
    assert ["slug"] not in proposed, proposed
    assert ["code"] in proposed, proposed                   # the statement that still runs keeps its index
    # Told from the catalog since f4506e2 (reasons.stale_columns): skipped, never sent to the server.
    assert [s.reason for s in advice.skipped if "dropped or renamed" in s.reason] == [
        "cannot plan: public.Env has no column title (dropped or renamed since pg_stat_statements counted the "
        "statement)"], advice.skipped
