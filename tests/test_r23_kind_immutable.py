"""A GIN (or BRIN, hash) candidate whose expression is not IMMUTABLE is never built: the server refuses it (r23).

``WHERE unaccent(name) ILIKE $1`` (unaccent is STABLE: its dictionary can change) made a trigram GIN candidate
on ``unaccent(name)``. c25 told such b-tree candidates from the server's parse before HypoPG was asked; the
GIN/BRIN/hash candidates (analyze.beyond) were still built on a sample of the table: ``CREATE INDEX
pgtune_sample_0_idx … USING gin ((unaccent(name)) public.gin_trgm_ops)`` was an ERROR line in the server's log at
every run of suggest, and the hint said to "give --trial-dsn (a copy of this database) to cost it with a trial
build", which fails the same way: no copy can build it. Now no build is tried and the hint says the server
refuses the index.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.analyze import Options
from pgtune.capture import Statement

from .helpers import logged_errors, suggest

SETUP = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TABLE person (id int PRIMARY KEY, name text NOT NULL, city text NOT NULL);
INSERT INTO person SELECT g, md5(g::text) || ' Zoë ' || g, md5((g % 977)::text) FROM generate_series(1, 50000) g;
ANALYZE person;
"""
QUERIES = [
    "SELECT id FROM person WHERE unaccent(name) ILIKE $1",     # STABLE: refused
    "SELECT id FROM person WHERE lower(city) LIKE $1",         # IMMUTABLE: costed as before
]


def test_a_gin_on_a_stable_expression_is_not_built_and_the_hint_says_why(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SETUP)
    statements = [Statement(query=q, queryid=n + 1, calls=1000, total_ms=50_000.0, mean_ms=50.0)
                  for n, q in enumerate(QUERIES)]
    with logged_errors(conn) as errors:
        advice = suggest(conn, statements, Options(min_rows=100))
    assert not [e for e in errors if "IMMUTABLE" in e], errors
    about = [h for h in advice.hints if "unaccent(name)" in h and "gin" in h]
    assert about, advice.hints
    assert all("refuses" in h and "IMMUTABLE" in h and "--trial-dsn" not in h for h in about), about
    assert not [i for i in advice.indexes if "unaccent" in i.ddl], [i.ddl for i in advice.indexes]
    # the immutable expression's candidate is still costed (built on a sample, not told refused)
    assert not [h for h in advice.hints if "lower(city)" in h and "refuses" in h], advice.hints
