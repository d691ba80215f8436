"""generate_series' bare bounds are typed before the PREPARE: no ERROR in the server's log (p29, LOW).

p29 (an Immich-shaped app): the seed ``INSERT INTO person (…) SELECT id, … FROM "user",
generate_series(1, 40) x`` is ``generate_series($5, $6)`` in pg_stat_statements. Every suggest run
PREPAREd it with untyped bounds first, and only retyped them after the server's refusal: 3 lines
``ERROR: function generate_series(unknown, unknown) is not unique`` a run, where a DBA's log alerting trips.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import Options

from .helpers import logged_errors, suggest

SETUP = """
CREATE TABLE "user" (id bigint PRIMARY KEY, name text NOT NULL);
INSERT INTO "user" SELECT g, 'User ' || g FROM generate_series(1, 2000) g;
CREATE TABLE person (id bigserial PRIMARY KEY, "ownerId" bigint NOT NULL, name text NOT NULL);
CREATE TABLE album (id bigserial PRIMARY KEY, "ownerId" bigint NOT NULL, "albumName" text NOT NULL);
ANALYZE "user";
"""
SEEDS = ("""INSERT INTO person ("ownerId", name) SELECT id, CASE WHEN x % 3 = 0 THEN '' ELSE 'Person ' || x END """
         """FROM "user", generate_series(1, 4) x""",
         """INSERT INTO album ("ownerId", "albumName") SELECT id, 'Album ' || x FROM "user", generate_series(1, 2) x""")


@pytest.mark.needs_hypopg
def test_a_seed_from_generate_series_leaves_no_error_in_the_servers_log(
        db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(SETUP)
    conn.execute("SELECT pg_stat_statements_reset()")
    with psycopg.connect(db, autocommit=True) as app:
        for seed in SEEDS:
            app.execute(seed)
        for i in range(20):
            app.execute(f'SELECT id FROM person WHERE "ownerId" = {i} ORDER BY id DESC LIMIT 10')
    conn.execute("ANALYZE person")
    with logged_errors(conn) as errors:
        advice = suggest(conn, options=Options(min_rows=100))
    assert not errors, errors
    seeds = [s for s in advice.statements if "generate_series" in s.query]
    assert len(seeds) == 2 and all(s.cost_before for s in seeds), advice.statements
