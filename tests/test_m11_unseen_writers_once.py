"""suggest --constraints reads the writing functions' text once (the last review of session 20).

The snapshot's upkeep cap and the CHECK family's writes each asked which
tables a user function writes (sql/unseen_writers.sql): every function's text,
read twice per suggest (0.13 s each on 2,000 tables x 2,000 functions). The
answer is kept on the catalog the snapshot hands the CHECK family.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune import api


def test_the_writing_functions_are_read_once_per_suggest(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE visits (id int PRIMARY KEY, site text NOT NULL, started timestamp NOT NULL, "
                 "ended timestamp NOT NULL)")
    conn.execute("INSERT INTO visits SELECT g, 's' || (g % 50), timestamp '2026-01-01' + g * interval '1 min', "
                 "timestamp '2026-01-01' + g * interval '1 min' + interval '5 min' FROM generate_series(1, 20000) g")
    conn.execute("CREATE FUNCTION close_visit(v int) RETURNS void LANGUAGE sql AS "
                 "$$ UPDATE visits SET ended = now() WHERE id = v $$")
    conn.execute("ANALYZE visits")
    conn.execute("SELECT pg_stat_statements_reset()")
    for i in range(20):
        conn.execute("SELECT id FROM visits WHERE site = %s", (f"s{i}",), prepare=True)
    conn.execute("UPDATE visits SET site = site WHERE id = %s", (1,))
    result = api.suggest(conn, api.SuggestOptions(constraints=True))
    assert any(c.kind == "column-order" for c in result.constraints.constraints), result.constraints
    row = conn.execute("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements "
                       "WHERE query LIKE '%pg_catalog.lower(p.prosrc)%'").fetchone()
    assert row is not None and row[0] == 1, row
