"""A trigram GIN for a search whose value is a histogram bound of the table is costed as the table plans it (p33).

Teable's record view searches a field: ``"Client Name"::text ILIKE $1 ORDER BY
"__auto_number" LIMIT 100``. Without a constant from pg_qualstats, pgtune plans
``$1`` as ``%<middle histogram bound>%`` (analyze.values): on the table that bound
matches one histogram bucket, about 1% of the rows (the real count was 333 of
100,000 in p32, one row here), and the table's planner walks the primary key and
stops at the LIMIT. The sample copy, ANALYZEd on its own random rows, seldom
holds that bound and expects 10 rows: a GIN bitmap there, a 40x cut the table's
planner never makes (p32 built it: 1.0-1.7x). Since 4eeec82 such a statement is
not costed on the sample; p33 re-ran p32's database: 0 GINs in 6 suggest runs,
where 85646c4 proposed 2 to 5 per run, none of them used by the table's plans.
A rare value, which the sample and the table both expect on about 10 rows, is
still costed on the sample and gets its GIN.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.analyze import beyond
from pgtune.analyze.model import Advice, AnalyzedStatement, Method
from pgtune.capture import read_catalog
from pgtune.ddl import IndexMethod

from .helpers import steady_state

RECORDS = """
CREATE SCHEMA "bseAbC12xYz";
CREATE TABLE "bseAbC12xYz"."Contacts_tblQ9xW" ("__id" varchar(255) NOT NULL UNIQUE,
  "__auto_number" serial PRIMARY KEY, "Client Name" text) WITH (autovacuum_enabled = off);
INSERT INTO "bseAbC12xYz"."Contacts_tblQ9xW" ("__id", "Client Name")
SELECT 'rec' || g, 'odd ' || g FROM generate_series(1, 100000) AS g;
ANALYZE "bseAbC12xYz"."Contacts_tblQ9xW";
"""
SEARCH = ('SELECT "__id", "Client Name" FROM "bseAbC12xYz"."Contacts_tblQ9xW" '
          'WHERE "Client Name"::text ILIKE $1 ORDER BY "__auto_number" ASC LIMIT 100')
BOUND = """SELECT histogram_bounds::text::text[] FROM pg_stats
WHERE schemaname = 'bseAbC12xYz' AND tablename = 'Contacts_tblQ9xW' AND attname = 'Client Name'"""


def _gins(conn: psycopg.Connection[Any], pattern: str) -> tuple[list[Any], list[str]]:
    advice = Advice(Method.HYPOPG, statements=[
        AnalyzedStatement(1, SEARCH, 60, 20.0, cost_before=200.0, values={"$1": pattern})])
    beyond.extend(conn, read_catalog(conn), advice, trial=None, use_hypopg=True, writes=None, write_scale=0.0,
                  say=lambda _m: None)
    return [ix for ix in advice.indexes if ix.method == IndexMethod.GIN], advice.hints


def _uses_built_gin(conn: psycopg.Connection[Any], pattern: str) -> bool:
    """Whether the table's planner, with the trigram GIN built for real, plans the search with it."""
    with conn.transaction(force_rollback=True):
        conn.execute("CREATE EXTENSION pg_trgm")
        conn.execute('CREATE INDEX p33_gin ON "bseAbC12xYz"."Contacts_tblQ9xW" '
                     'USING gin (("Client Name"::text) gin_trgm_ops)')
        plan = conn.execute("EXPLAIN " + SEARCH.replace("$1", "%s"), (pattern,)).fetchall()
    return "p33_gin" in str(plan)


def test_a_search_for_the_tables_histogram_bound_gets_no_gin_the_table_would_not_use(
        conn: psycopg.Connection[Any]) -> None:
    conn.execute(RECORDS)
    steady_state(conn)
    row = conn.execute(BOUND).fetchone()
    assert row is not None and row[0]
    pattern = f"%{row[0][len(row[0]) // 2]}%"          # analyze.values' choice for ILIKE $n without a constant
    assert not _uses_built_gin(conn, pattern)          # the table plans the primary key and its LIMIT
    gins, hints = _gins(conn, pattern)
    assert gins == [], [(ix.name, ix.reason) for ix in gins]     # 85646c4: proposed, "costed by sample", ~40x
    said = [h for h in hints if "gin_trgm_ops" in h and "Contacts_tblQ9xW" in h]
    assert said and ("not costed on a sample" in said[0] or "no plan of the statements" in said[0]), hints


def test_a_search_for_a_rare_value_still_gets_its_gin_costed_on_the_sample(conn: psycopg.Connection[Any]) -> None:
    conn.execute(RECORDS)
    steady_state(conn)
    pattern = "%odd 1234567%"                          # no row; the table and the sample both expect about 10
    assert _uses_built_gin(conn, pattern)
    gins, hints = _gins(conn, pattern)
    assert [ix.costed_by for ix in gins] == ["sample"], hints
    assert gins[0].cost_after is not None and gins[0].cost_after < gins[0].cost_before / 10, gins[0]
