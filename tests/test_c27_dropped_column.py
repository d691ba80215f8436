"""A column dropped after pg_stat_statements counted a statement: each suggest sent the statement to be planned and
the server refused it, an ERROR line in its log at every run (p24: ``UPDATE "RuntimeEnvironment" SET "title" = $1
WHERE "slug" = $2``, "title" dropped by the next migration; 10 ERROR lines a run with HypoPG, 4 without, for the five
statements here; f4506e2 told the columns an INSERT or UPDATE writes). The catalog snapshot knows the table's
columns: such a statement is skipped before it is sent, kind ``cannot-plan``, its reason naming the column."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import Options
from pgtune.capture import Statement

from .helpers import logged_errors, suggest

SETUP = """
CREATE TABLE "Env" (id int PRIMARY KEY, slug text NOT NULL, title text, code text NOT NULL);
CREATE TABLE "Run" (id int PRIMARY KEY, "envId" int NOT NULL, code text NOT NULL);
INSERT INTO "Env" SELECT g, 'env-' || g, 'Env ' || g, 'c' || g FROM generate_series(1, 20000) g;
INSERT INTO "Run" SELECT g, 1 + g % 20000, 'c' || g FROM generate_series(1, 20000) g;
ANALYZE "Env", "Run";
"""
GONE = ['UPDATE "Env" SET title = %s WHERE slug = %s', 'SELECT id FROM "Env" WHERE title = %s',
        'SELECT title FROM "Env" WHERE slug = %s', 'SELECT id FROM "Env" WHERE code = %s ORDER BY title LIMIT 5',
        'SELECT e.id FROM "Env" e WHERE e.title = %s AND e.code = %s', 'INSERT INTO "Env" (id, slug, title, code) '
        "VALUES (%s, %s, %s, %s)"]
LIVE = 'SELECT id FROM "Env" WHERE code = %s'
# Names no catalog table has that the server resolves all the same: none is skipped.
VALID = ['SELECT e FROM "Env" e WHERE e.code = $1', 'SELECT id FROM "Env" WHERE ctid = $1::tid',
         'SELECT lower(code) AS c, count(*) FROM "Env" WHERE slug > $1 GROUP BY c',
         'SELECT code AS c FROM "Env" WHERE slug = $1 ORDER BY c',
         'WITH r AS (SELECT "envId" AS env FROM "Run" WHERE code = $1) SELECT id FROM "Env", r WHERE id = env',
         'SELECT id FROM "Env", unnest($1::int[]) AS u(x) WHERE id = x',
         'SELECT id FROM "Env" e WHERE EXISTS (SELECT FROM "Run" r WHERE r."envId" = e.id AND r.code = e.code)',
         'SELECT id FROM "Env" JOIN "Run" USING (id) WHERE "Run".code = $1']


@pytest.mark.parametrize("hypopg", [pytest.param(True, marks=pytest.mark.needs_hypopg), False])
def test_a_statement_on_a_dropped_column_is_skipped_before_it_is_sent(db: str, conn: psycopg.Connection[Any],
                                                                      hypopg: bool) -> None:
    conn.execute(SETUP)
    conn.execute("SELECT pg_stat_statements_reset()")
    with psycopg.connect(db, autocommit=True) as app:
        for k in range(10):
            for q in GONE:
                app.execute(q, (100_000 + k, *(f"t{k}",) * (q.count("%s") - 1)) if "INSERT" in q
                            else (f"t{k}",) * q.count("%s"))
            app.execute(LIVE, (f"c{k}",)).fetchall()
    conn.execute('ALTER TABLE "Env" DROP COLUMN title')     # the next migration
    with logged_errors(conn) as errors:
        advice = suggest(conn, options=Options(min_rows=100, use_hypopg=hypopg))
    refused = [line for line in errors if "does not exist" in line]
    assert not refused, refused         # without the fix: 10 ERROR lines with HypoPG, 4 without
    gone = [s for s in advice.skipped if "dropped or renamed since pg_stat_statements" in s.reason]
    assert len(gone) == len(GONE) - 1, advice.skipped      # the INSERT … VALUES is never planned (no-filter)
    assert all(str(s.kind) == "cannot-plan" for s in gone), gone
    assert sorted(s.reason.split(",")[0] for s in gone if "reads column" in s.reason) == [
        "cannot plan: it reads column e.title"] + ["cannot plan: it reads column title"] * 3, gone
    assert ["code"] in [ix.columns for ix in advice.indexes if ix.table == "Env"]   # the live statement's


def test_names_the_server_resolves_are_not_taken_for_dropped_columns(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SETUP)
    statements = [Statement(query=q, queryid=n + 1, calls=1000, total_ms=5000.0, mean_ms=5.0)
                  for n, q in enumerate(VALID)]
    advice = suggest(conn, statements, Options(min_rows=100))
    assert not [s for s in advice.skipped if "dropped or renamed" in s.reason], advice.skipped
