"""An index whose keys average under two rows each is forecast deduplicated (r11 F12).

A b-tree stores a key's duplicates as one tuple with a posting list, a pair
too; the forecast stored every row's own tuple under two rows a key, and the
key sample's shortcut (key_sample.near_unique) skipped counting keys from half the
rows on, on that premise. 200,000 rows, 110,000 keys (90,000 of them twice):
forecast 11,714,560 bytes, HypoPG 13,844,480, built 8,126,464.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.analyze import Candidate, key_sample, sizing
from pgtune.analyze.footprint import Footprint
from pgtune.capture import read_catalog
from pgtune.ddl import IndexKey

TABLE = ("public", "t")


def _built(conn: psycopg.Connection[Any], name: str, keys: str) -> int:
    conn.execute(f"CREATE INDEX {name} ON t ({keys})")
    row = conn.execute("SELECT pg_relation_size(%s::regclass)", (name,)).fetchone()
    assert row is not None
    return int(row[0])


def test_keys_of_under_two_rows_are_forecast_deduplicated(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE t (id int PRIMARY KEY, k text NOT NULL, flag boolean NOT NULL, pad text)")
    conn.execute("INSERT INTO t SELECT g, 'key-' || md5((g % 110000)::text), g % 7 = 0, repeat('p', 50) "
                 "FROM generate_series(1, 200000) g ORDER BY md5(g::text)")
    conn.execute("VACUUM ANALYZE t")
    catalog = read_catalog(conn)
    (n_distinct,) = [c.n_distinct for name, c in catalog.table_columns(TABLE).items() if name == "k"]
    assert n_distinct is not None and -0.7 < n_distinct < -0.5, n_distinct     # about 1.8 rows a key
    forecast = sizing.forecast(catalog, TABLE, (IndexKey("k"),))
    built = _built(conn, "t_k", "k")
    assert 0.85 < forecast / built < 1.15, (forecast, built)
    # Two keys led by it: counted by the sample (not near unique), and forecast deduplicated too.
    assert not key_sample.near_unique(catalog, TABLE, (IndexKey("k"), IndexKey("flag")))
    both = Footprint(conn, catalog, 0.0).forecast(Candidate(TABLE, (IndexKey("k"), IndexKey("flag")), 2))
    built = _built(conn, "t_k_flag", "k, flag")
    assert 0.85 < both / built < 1.15, (both, built)
    assert key_sample.near_unique(catalog, TABLE, (IndexKey("id"), IndexKey("k")))   # a key's column: no count
