"""An index-only scan of a partitioned table's leaves is priced with the heap fetches the writes since each
leaf's last VACUUM bring (m10, LOW; the plain table's charge is q9's, tests/test_q9_visibility.py).

The charge read the candidate's table alone, and a partitioned table has no
pages of its own: its leaves' scans were charged nothing, so the what-if plan
of test_q9_visibility's count(*) over a partitioned observations table, every
page's visibility bit cleared by the application's updates, still bought an
index-only index the built plan reads the heap for. Each leaf's scan is now
charged with that leaf's pages and the share of them its writes cleared.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.capture import read_catalog

from .test_q9_visibility import _serving, observations

LEAVES = ("observations_a", "observations_b")
SCHEMA = """
CREATE TABLE observations (id text NOT NULL, project_id text NOT NULL, trace_id text, type text NOT NULL,
  bookmarked boolean NOT NULL DEFAULT false, name text, start_time timestamp(3) NOT NULL, end_time timestamp(3),
  input jsonb) PARTITION BY RANGE (start_time);
CREATE TABLE observations_a PARTITION OF observations FOR VALUES FROM ('2026-01-01') TO ('2026-01-02 12:00')
  WITH (autovacuum_enabled = false);
CREATE TABLE observations_b PARTITION OF observations FOR VALUES FROM ('2026-01-02 12:00') TO (MAXVALUE)
  WITH (autovacuum_enabled = false);
INSERT INTO observations SELECT 'o' || md5(g::text), 'proj_' || (g % 7 % 3), 't' || (g / 3),
  (ARRAY['SPAN', 'GENERATION', 'EVENT'])[1 + g % 3], g % 11 = 0, 'name-' || (g % 50),
  timestamp '2026-01-01' + g * interval '1 s', NULL, jsonb_build_object('pad', repeat('y', 100))
FROM generate_series(1, 300000) g;
ANALYZE observations;
"""


def _observations(conn: psycopg.Connection[Any], *, ended: bool) -> None:
    observations(conn, SCHEMA, LEAVES, ended=ended)


@pytest.mark.needs_hypopg
def test_no_index_only_scan_on_leaf_pages_the_writes_cleared(conn: psycopg.Connection[Any]) -> None:
    _observations(conn, ended=True)
    tables = read_catalog(conn).tables
    assert all(tables[("public", leaf)].visibility_lost > 0.5 for leaf in LEAVES), tables
    assert _serving(conn) == []


@pytest.mark.needs_hypopg
def test_all_visible_leaves_still_get_their_index_only_scan(conn: psycopg.Connection[Any]) -> None:
    _observations(conn, ended=False)
    (ddl,) = _serving(conn)
    assert "(project_id) INCLUDE (bookmarked)" in ddl, ddl
