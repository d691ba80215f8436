"""Keys of ~10-30 rows spread over a table, beside a few heavy ones, are forecast at their built size (z38).

A b-tree stores such a key once with a posting list. The key sample (a ~1-3%
page sample) sees most of them once, as it would a unique key; with a few
heavy keys beside them (``key_counts.mixed``) every key seen once was taken
as unique. Hoppscotch-shaped UserHistory ("isStarred", "userUid"), 3M rows:
forecast 95.1 MB, built 30.7 (3.10x); Formbricks-shaped Response
("endingId", "surveyId"), 2.5M rows: 51.3 MB, built 20.7 (2.48x). The keys
seen twice tell such keys from unique ones (``key_counts.light_keys``).
One column of them was forecast from pg_stats' count, which ANALYZE's Duj1
makes short the same way (``sizing.common_beside``): 0.72x of built there.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgtune.analyze import Candidate
from pgtune.analyze.footprint import Footprint
from pgtune.capture import read_catalog
from pgtune.ddl import IndexKey

TABLE = ("public", "h")
ROWS = 1_000_000

# hoppscotch/hoppscotch's UserHistory (packages/hoppscotch-backend/prisma/schema.prisma): a request a user ran,
# starred or not; most users ran ~10, a few heavy ones thousands, interleaved in time.
HISTORY = f"""INSERT INTO h SELECT i, 'u' || lpad((CASE WHEN i % 5 < 2 THEN 1 + i % 50
    ELSE 1 + floor(random() * 60000)::int END)::text, 24, '0'), i % 97 = 0 FROM generate_series(1, {ROWS}) i"""
# formbricks/formbricks' Response (packages/database/schema.prisma): a survey's responses, surveys power-law sized
# (20,000 of them: most 10-40 rows, a few tens of thousands), the ending NULL for the unfinished ones.
RESPONSES = f"""INSERT INTO h SELECT i, 'cs' || substr(md5('s' || (1 + floor(20000 * power(random(), 4))::int)), 1, 23),
    i % 10 < 7, CASE WHEN i % 10 < 7 THEN 'end' || (i % 3) END FROM generate_series(1, {ROWS}) i"""


@pytest.mark.parametrize(("fill", "keys"), [(HISTORY, ("flag", "owner")), (RESPONSES, ("ending", "owner")),
                                            (HISTORY, ("owner",))], ids=["hoppscotch", "formbricks", "one-column"])
def test_keys_of_a_few_rows_beside_heavy_ones_are_forecast_deduplicated(conn: psycopg.Connection[Any], fill: str,
                                                                        keys: tuple[str, ...]) -> None:
    conn.execute("CREATE TABLE h (id int PRIMARY KEY, owner text NOT NULL, flag boolean NOT NULL, ending text)")
    conn.execute("SELECT setseed(0.38)")        # the same rows every run
    conn.execute(fill)
    conn.execute("VACUUM ANALYZE h")
    footprint = Footprint(conn, read_catalog(conn), 0.0)
    forecast = footprint.forecast(Candidate(TABLE, tuple(IndexKey(k) for k in keys), len(keys)))
    conn.execute(sql.SQL("CREATE INDEX h_keys ON h ({})").format(sql.SQL(", ").join(map(sql.Identifier, keys))))
    row = conn.execute("SELECT pg_relation_size('h_keys')").fetchone()
    assert row is not None
    # Before: 2.51x, 1.95x and 0.80x; now 1.00x, 0.91x and 1.01x.
    assert 0.85 < forecast / row[0] < 1.2, (forecast, row[0])
    [sample] = [s for s in footprint.samples.values() if s is not None]
    assert sample.heavy_distinct > 0, sample      # the mixed part of the sample's keys: what this test is about
