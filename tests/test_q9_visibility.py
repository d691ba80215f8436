"""An index-only scan is priced with the heap fetches the writes since the last VACUUM bring (q9, Langfuse).

Found on Langfuse (3.5 million observations): suggest proposed an index for a
``SELECT count(*) ... GROUP BY`` whose what-if plan was an index-only scan, and
built, the statement got slower (146 -> 280 ms). HypoPG's plans read pg_class's
relallvisible as a built index's would, but that count is the last VACUUM's:
the rows updated since had cleared most pages' visibility bits, and CREATE
INDEX counts the map again, so the built index's planner saw the heap fetches
(and chose a bitmap scan, slower than the sequential scan it replaced) where
the what-if plan saw none.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest

from pgtune.capture import read_catalog
from tests.helpers import all_visible, steady_state, suggest, visibility_lost

SCHEMA = """
CREATE TABLE observations (id text PRIMARY KEY, project_id text NOT NULL, trace_id text, type text NOT NULL,
  bookmarked boolean NOT NULL DEFAULT false, name text, start_time timestamp(3) NOT NULL, end_time timestamp(3),
  input jsonb) WITH (autovacuum_enabled = false);
INSERT INTO observations SELECT 'o' || md5(g::text), 'proj_' || (g % 7 % 3), 't' || (g / 3),
  (ARRAY['SPAN', 'GENERATION', 'EVENT'])[1 + g % 3], g % 11 = 0, 'name-' || (g % 50),
  timestamp '2026-01-01' + g * interval '1 s', NULL, jsonb_build_object('pad', repeat('y', 100))
FROM generate_series(1, 300000) g;
"""

COUNTS = "SELECT count(*), bookmarked FROM observations WHERE project_id = %s GROUP BY bookmarked"


def _observations(conn: psycopg.Connection[Any], *, ended: bool) -> None:
    observations(conn, SCHEMA, ("observations",), ended=ended)


def observations(conn: psycopg.Connection[Any], schema: str, tables: tuple[str, ...], *, ended: bool) -> None:
    """``schema`` loaded, ``tables`` (the heaps: a partitioned table's leaves) all-visible, then, ``ended``, 3% of
    the observations closed, and the counts run."""
    conn.execute(schema)
    for table in tables:
        all_visible(conn, table)
    steady_state(conn)
    if ended:       # the application closes 3% of its observations: every page's visibility bit cleared
        conn.execute("UPDATE observations SET end_time = start_time + interval '1 s' WHERE start_time::time "
                     "< time '00:00:03' OR extract(epoch FROM start_time)::int8 % 33 = 0")
        conn.execute("SELECT pg_stat_force_next_flush()")
        for _ in range(50):
            known = read_catalog(conn).tables
            if all(known[("public", table)].dead_rows > 0 for table in tables):
                break
            time.sleep(0.1)
    for i in range(20):
        conn.execute(COUNTS, (f"proj_{i % 3}",)).fetchall()


def _serving(conn: psycopg.Connection[Any]) -> list[str]:
    advice = suggest(conn)
    return [s.ddl for s in advice.indexes if s.table == "observations" and any("count(*)" in q.query
                                                                               for q in s.queries)]


@pytest.mark.needs_hypopg
def test_no_index_only_scan_on_pages_the_writes_cleared(conn: psycopg.Connection[Any]) -> None:
    _observations(conn, ended=True)
    table = read_catalog(conn).tables[("public", "observations")]
    assert table.relallvisible >= table.relpages > 0 and table.dead_rows >= 9000, table
    assert table.visibility_lost > 0.5, table     # (every page was hit: 1.0 in fact)
    assert _serving(conn) == []


@pytest.mark.needs_hypopg
def test_an_all_visible_table_still_gets_its_index_only_scan(conn: psycopg.Connection[Any]) -> None:
    _observations(conn, ended=False)
    assert read_catalog(conn).tables[("public", "observations")].visibility_lost == 0.0
    (ddl,) = _serving(conn)
    assert "(project_id) INCLUDE (bookmarked)" in ddl, ddl


def test_an_analyze_since_the_writes_counted_the_map_again(conn: psycopg.Connection[Any]) -> None:
    """r10: ANALYZE recounts relallvisible but n_dead_tup counts on from the last VACUUM; the writes before the
    ANALYZE were charged again (0.18 of the pages for 500 rows updated: in fact none lost since the count)."""
    conn.execute(SCHEMA)
    all_visible(conn, "observations")
    conn.execute("UPDATE observations SET end_time = start_time WHERE extract(epoch FROM start_time)::int8 % 600 = 0")
    visibility_lost(conn, "observations", 0)
    assert read_catalog(conn).tables[("public", "observations")].visibility_lost > 0.05
    conn.execute("ANALYZE observations")
    conn.execute("SELECT pg_stat_force_next_flush()")
    for _ in range(50):
        table = read_catalog(conn).tables[("public", "observations")]
        if table.visibility_lost == 0.0:
            break
        time.sleep(0.1)
    assert table.visibility_lost == 0.0 and table.relpages > table.relallvisible > table.relpages / 2, table
