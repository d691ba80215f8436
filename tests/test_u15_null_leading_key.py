"""A longer index whose leading equality key is mostly NULL is built WHERE that key IS NOT NULL (u15 L2).

Found on a Formbricks-shaped database: Display."contactId" is NULL on half the
rows (displays of anonymous visitors; 60% here, so that a sample's null_frac
stays clear of MOSTLY_NULL). health's fix for its foreign key is the partial
index WHERE "contactId" IS NOT NULL; suggest, for the app's
``WHERE "contactId" = $1 ORDER BY created_at DESC``, proposed the full
(contactId, created_at): half its entries NULL keys no such search reads
(18.7 MB forecast, 23.3 MB built, against 15.9 MB for health's partial one).
Only one-column candidates were narrowed. ``=`` is strict: the planner proves
the predicate from it, so the partial index serves the statement as the full
one would.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import null_keys
from pgtune.analyze.bind import bind
from pgtune.analyze.candidates import Candidate
from pgtune.analyze.workload import single_columns
from pgtune.capture import Statement, read_catalog
from pgtune.ddl import IndexKey
from tests.helpers import run, steady_state, suggest

SCHEMA = """
CREATE TABLE "Contact" (id text PRIMARY KEY, email text);
CREATE TABLE "Display" (id text PRIMARY KEY, "contactId" text REFERENCES "Contact" ON DELETE CASCADE,
    "surveyId" text NOT NULL, created_at timestamp(3) NOT NULL);
INSERT INTO "Contact" SELECT 'c' || g, 'u' || g || '@x.org' FROM generate_series(1, 20000) g;
INSERT INTO "Display" SELECT 'd' || md5(g::text), CASE WHEN g % 5 >= 3 THEN 'c' || (1 + g % 500) END,
    's' || (g % 40), timestamp '2026-01-01' + g * interval '1 min' FROM generate_series(1, 200000) g;
ANALYZE;
"""
QUERY = ('SELECT id, "surveyId" FROM "Display" WHERE "contactId" = %s ORDER BY created_at DESC LIMIT 10')


@pytest.mark.needs_hypopg
def test_the_longer_index_on_a_mostly_null_key_is_partial(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    steady_state(conn)
    run(conn, QUERY, [(f"c{i}",) for i in range(4, 400, 5)], times=50)
    advice = suggest(conn)
    [ix] = [s for s in advice.indexes if s.table == "Display" and s.queries]
    assert ix.columns == ["contactId", "created_at"], ix.ddl      # 160 displays a contact: the sort is worth it
    assert ix.where == '"contactId" IS NOT NULL', ix.ddl
    conn.execute(ix.ddl)
    plan = conn.execute("EXPLAIN (FORMAT JSON) " + QUERY.replace("%s", "'c42'")).fetchone()
    assert plan is not None and ix.name in str(plan[0]), plan     # the built partial index serves it


def test_each_path_narrows_and_a_joined_key_keeps_its_full_seed(conn: psycopg.Connection[Any]) -> None:
    """The statement's own longer candidate and the one-column seed are each narrowed; a key also joined on keeps
    the full seed (HypoPG plans no partial index for a join clause)."""
    conn.execute(SCHEMA)
    catalog = read_catalog(conn)
    table = ("public", "Display")
    [longer] = null_keys.narrowed([Candidate(table, (IndexKey("contactId"), IndexKey("created_at")), 1)], catalog)
    assert longer.where == '"contactId" IS NOT NULL' and longer.where_fraction == pytest.approx(0.4, abs=0.03)
    [ranged] = null_keys.narrowed([Candidate(table, (IndexKey("created_at"), IndexKey("contactId")), 1)], catalog)
    assert ranged.where is None       # the mostly-NULL key is not an equality key there
    looked_up = [(Statement(query=QUERY.replace("%s", "$1")), bind(QUERY.replace("%s", "$1"), catalog))]
    seeds = {c.keys[0].column: c.where for c in single_columns(looked_up, catalog)}
    assert seeds["contactId"] == '"contactId" IS NOT NULL' and seeds["created_at"] is None, seeds
    joined = 'SELECT d.id FROM "Display" d JOIN "Contact" c ON c.id = d."contactId" WHERE c.email = $1'
    both = [*looked_up, (Statement(query=joined), bind(joined, catalog))]
    assert {c.keys[0].column: c.where for c in single_columns(both, catalog)}["contactId"] is None
