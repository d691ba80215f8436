"""A GIN or BRIN candidate is left out when the table has that index on that key, and only then (p24).

Found on a trigger.dev-shaped database (PostgreSQL 18): its own ``gin ("runTags")`` and ``brin ("createdAt")``
were costed again as candidates (a sample build of a 1.2M-row table each, and hints naming them "not
proposed"), while on a lower-case column any GIN of the table, on any key, hid the candidate.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune import api
from pgtune.analyze import beyond
from pgtune.analyze.kinds import KindCandidate
from pgtune.capture import read_catalog
from pgtune.ddl import IndexKey, IndexMethod

from .helpers import steady_state

SETUP = """
CREATE TABLE "Run" (id int PRIMARY KEY, "runTags" text[] NOT NULL, tags text[] NOT NULL, labels text[] NOT NULL,
                    "createdAt" timestamptz NOT NULL);
INSERT INTO "Run" SELECT g, ARRAY['user_' || (g % 3000)], ARRAY['t' || (g % 500)], ARRAY['l' || (g % 4000)],
       now() - (60000 - g) * interval '1 second'
FROM generate_series(1, 60000) AS g;
CREATE INDEX "Run_runTags_idx" ON "Run" USING gin ("runTags");
CREATE INDEX "Run_tags_idx" ON "Run" USING gin (tags);
CREATE INDEX "Run_createdAt_idx" ON "Run" USING brin ("createdAt");
ANALYZE "Run";
"""
TABLE = ("public", "Run")


def _candidate(column: str, method: IndexMethod) -> KindCandidate:
    return KindCandidate(TABLE, IndexKey(column), method)


def test_an_existing_gin_or_brin_is_matched_on_its_own_key(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SETUP)
    catalog = read_catalog(conn)
    assert beyond._exists(catalog, _candidate("runTags", IndexMethod.GIN))      # "runTags": quoted in the catalog
    assert beyond._exists(catalog, _candidate("createdAt", IndexMethod.BRIN))
    assert beyond._exists(catalog, _candidate("tags", IndexMethod.GIN))
    assert not beyond._exists(catalog, _candidate("labels", IndexMethod.GIN))   # another key of a GIN'd table
    assert not beyond._exists(catalog, _candidate("createdAt", IndexMethod.GIN))


def test_suggest_costs_the_missing_gin_and_not_the_apps_own(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(SETUP)
    steady_state(conn)
    with psycopg.connect(db, autocommit=True) as app:
        for i in range(5):
            app.execute('SELECT id FROM "Run" WHERE "runTags" @> %s::text[]', ([f"user_{i}"],)).fetchall()
            app.execute('SELECT id FROM "Run" WHERE labels @> %s::text[]', ([f"l{i}"],)).fetchall()
    result = api.suggest(conn, api.SuggestOptions(constraints=False))
    said = [h for h in result.indexes.hints if "gin (" in h] + [
        ix.reason for ix in result.indexes.indexes if ix.method == IndexMethod.GIN]
    named = [ix.columns for ix in result.indexes.indexes if ix.method == IndexMethod.GIN]
    assert not any("gin (runTags)" in h for h in said), said
    assert ["labels"] in named or any("gin (labels)" in h for h in said), (named, said, result.indexes.hints)
