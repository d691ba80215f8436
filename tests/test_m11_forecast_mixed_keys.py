"""A key of mostly unique values next to a few very common ones is forecast at its built size (u15 M1).

Key/value tables hold user ids and emails beside a handful of plan names. The
key sample's Duj1 read the plan names' repeats as duplicates of every key:
u15's 1M-row repro (60% 'user-'||i, the rest three plan names over 2,000
keys) forecast 9.0 MB where the index built 26.7 MB, and --max-index-mb then
admitted three times the bytes it was given.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import Candidate
from pgtune.analyze.footprint import Footprint
from pgtune.capture import read_catalog
from pgtune.ddl import IndexKey

TABLE = ("public", "attr")
ROWS = 400_000


# u15's repro; then Formbricks' shape (ContactAttribute: 26.4 MB forecast by the first fix, 43.5 MB built): teams
# of every size from one row to a few hundred beside them, whose keys the sample sees once, twice, ten times.
PLANS = f"""INSERT INTO attr SELECT 'c' || md5(i::text), 'k' || (i % 2000),
    CASE WHEN i % 10 < 6 THEN 'user-' || i ELSE (ARRAY['free', 'pro', 'enterprise'])[1 + i % 3] END
    FROM generate_series(1, {ROWS}) i"""
TEAMS = f"""INSERT INTO attr SELECT 'c' || md5(i::text), CASE WHEN i % 10 >= 7 THEN 'kteam' ELSE 'k' || (i % 2000) END,
    CASE WHEN i % 10 < 5 THEN 'user-' || i WHEN i % 10 < 7 THEN (ARRAY['free', 'pro', 'enterprise'])[1 + i % 3]
    ELSE 'team-' || floor(sqrt(i % 300000)) END FROM generate_series(1, {ROWS}) i"""


@pytest.mark.parametrize("fill", [PLANS, TEAMS], ids=["plans", "teams"])
def test_unique_values_beside_common_ones_are_not_forecast_deduplicated(conn: psycopg.Connection[Any],
                                                                        fill: str) -> None:
    conn.execute('CREATE TABLE attr (id text PRIMARY KEY, "keyId" text NOT NULL, value text NOT NULL)')
    conn.execute(fill)
    conn.execute("VACUUM ANALYZE attr")
    catalog = read_catalog(conn)
    keys = (IndexKey("value"), IndexKey("keyId"))
    footprint = Footprint(conn, catalog, 0.0)
    forecast = footprint.forecast(Candidate(TABLE, keys, 2))
    conn.execute('CREATE INDEX attr_value_keyid ON attr (value, "keyId")')
    row = conn.execute("SELECT pg_relation_size('attr_value_keyid'), "
                       '(SELECT count(*) FROM (SELECT DISTINCT value, "keyId" FROM attr) AS k)').fetchone()
    assert row is not None
    built, distinct = int(row[0]), int(row[1])
    assert 0.9 < forecast / built < 1.12, (forecast, built)
    [sample] = [s for s in footprint.samples.values() if s is not None]
    assert sample.distinct is not None and 0.93 < sample.distinct / distinct < 1.1, (sample, distinct)
    # The keys seen repeat are counted apart: 40% and 50% of the rows.
    assert 0.3 * ROWS < sample.heavy_rows < 0.6 * ROWS and 500 < sample.heavy_distinct < 5_000, sample


def test_keys_of_even_counts_keep_duj1(conn: psycopg.Connection[Any]) -> None:
    """Keys of about the same number of rows each, seen once or twice in the sample (TPC-H's lineitem
    (l_partkey, l_suppkey), 7.5 rows a pair): no part repeats three times, and the estimate is Duj1's."""
    conn.execute("CREATE TABLE attr (a int NOT NULL, b int NOT NULL)")
    conn.execute(f"INSERT INTO attr SELECT g % 50000, (g / 50000) % 2 FROM generate_series(1, {ROWS}) g "
                 "ORDER BY md5(g::text)")
    conn.execute("VACUUM ANALYZE attr")
    catalog = read_catalog(conn)
    forecast = Footprint(conn, catalog, 0.0).forecast(Candidate(TABLE, (IndexKey("a"), IndexKey("b")), 2))
    conn.execute("CREATE INDEX attr_a_b ON attr (a, b)")
    row = conn.execute("SELECT pg_relation_size('attr_a_b')").fetchone()
    assert row is not None
    assert 0.9 < forecast / row[0] < 1.12, (forecast, row[0])
