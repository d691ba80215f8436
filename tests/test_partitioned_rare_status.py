"""p14: a status-like filter under RARE_VALUE on a partitioned table keeps its full candidate.

A filter keeping under 5% of rows (``level = 'ERROR'``) made only a partial candidate, and HypoPG 1.3.1 plans no
hypothetical partial index of a partitioned parent (tests/test_partitioned_partial.py): on a Langfuse-shaped
database (observations partitioned by month, 2% of them errors) a project's error list had only that candidate of
its own; an index reached it only where the one-column seeds widened to it (p13).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import Options, bind
from pgtune.analyze.candidates import from_shape
from pgtune.capture import read_catalog, read_queries_file

from .helpers import suggest

ERRORS = ("SELECT id, name, start_time, status_message FROM observations WHERE project_id = 'p7' "
          "AND level = 'ERROR' ORDER BY start_time DESC LIMIT 50;")


@pytest.mark.needs_hypopg
def test_a_rare_status_on_a_partitioned_table_gets_an_index_hypopg_plans(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TYPE level AS ENUM ('DEBUG', 'DEFAULT', 'WARNING', 'ERROR')")
    conn.execute("CREATE TABLE observations (id text NOT NULL, project_id text NOT NULL, name text, "
                 "level level NOT NULL DEFAULT 'DEFAULT', status_message text, start_time timestamp NOT NULL, "
                 "PRIMARY KEY (id, start_time)) PARTITION BY RANGE (start_time)")
    for m in range(1, 7):
        conn.execute(f"CREATE TABLE observations_{m} PARTITION OF observations "
                     f"FOR VALUES FROM ('2026-{m:02}-01') TO ('2026-{m + 1:02}-01')")
    # p1 holds 60% of the rows; 2% are errors (under RARE_VALUE: a partial candidate only, before)
    conn.execute("INSERT INTO observations SELECT 'ob' || g, CASE WHEN g % 10 < 6 THEN 'p1' ELSE 'p' || (2 + g % 97) "
                 "END, 'llm-call', (CASE WHEN g % 50 = 0 THEN 'ERROR' WHEN g % 3 = 0 THEN 'DEBUG' ELSE 'DEFAULT' "
                 "END)::level, CASE WHEN g % 50 = 0 THEN 'rate limited' END, "
                 "timestamp '2026-01-01' + g * interval '1 minute' FROM generate_series(1, 240000) g")
    conn.execute("VACUUM ANALYZE observations")
    [statement] = read_queries_file(ERRORS)
    catalog = read_catalog(conn)
    cands = from_shape(bind(statement.query, catalog), 0, catalog)
    by_where = {c.where: c.columns for c in cands}
    assert by_where == {"level = 'ERROR'": ("project_id", "start_time"),
                        None: ("project_id", "level", "start_time")}, by_where
    advice = suggest(conn, read_queries_file(ERRORS), options=Options(min_rows=100))
    [errors] = advice.statements
    assert errors.indexes and errors.cost_after is not None and errors.cost_before is not None
    assert errors.cost_after * 10 < errors.cost_before, (errors.cost_before, errors.cost_after)
    for name in errors.indexes:
        index = next(i for i in advice.indexes if i.name == name)
        assert index.where is None, (index.name, index.where)
