"""The size forecast does not move with ANALYZE's random sample (u2's R5).

On umami, nothing but ``ANALYZE website_event`` between two runs moved the
forecast of the same 4-column index from 73.2 to 84.5 MB (built: 75.3 MB) and
flipped its fourth column: pg_stats' avg_width of ``event_name`` (a nullable
varchar averaging 11.99 bytes) read 11 after one sample and 12 after the
next, and maxalign(8 + key width) jumps a whole 8 bytes per tuple across such
a boundary. pgtune now measures the keys' tuple width on its own sample of
the table (TABLESAMPLE … REPEATABLE: the same rows every run, whatever
ANALYZE drew), each row's tuple padded as the server pads it.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.analyze.candidates import Candidate
from pgtune.analyze.footprint import Footprint
from pgtune.capture import read_catalog
from pgtune.ddl import IndexKey

EVENTS = """
CREATE TABLE ev (site int NOT NULL, at timestamptz NOT NULL, name varchar(50));
INSERT INTO ev SELECT i % 800, now() - i * interval '1 second',
       CASE WHEN i % 7 = 0 THEN repeat('x', 7 + (hashint4(i) & 7) + (hashint4(i + 1) & 1)) END
FROM generate_series(1, 200000) AS i;
ALTER TABLE ev ALTER COLUMN name SET STATISTICS 3;   -- ANALYZE reads 900 rows: its avg_width wanders
"""


def test_the_forecast_stays_when_analyze_draws_another_sample(conn: psycopg.Connection[Any]) -> None:
    conn.execute(EVENTS)
    cand = Candidate(("public", "ev"), (IndexKey("site"), IndexKey("at"), IndexKey("name")), 1)
    widths: set[int] = set()
    forecasts: dict[int, set[int]] = {}
    for _ in range(40):
        conn.execute("ANALYZE ev")
        row = conn.execute("SELECT avg_width FROM pg_stats WHERE tablename = 'ev' AND attname = 'name'").fetchone()
        assert row is not None
        widths.add(int(row[0]))
        forecasts.setdefault(int(row[0]), set()).add(Footprint(conn, read_catalog(conn), 0.0).forecast(cand))
        if len(widths) > 2:
            break
    assert len(widths) > 1, widths       # the test means nothing unless ANALYZE's samples disagreed
    seen = {f for fs in forecasts.values() for f in fs}
    assert len(seen) == 1, forecasts
    conn.execute("CREATE INDEX built ON ev (site, at, name)")
    real = conn.execute("SELECT pg_relation_size('built')").fetchone()[0]  # type: ignore[index]
    assert 0.9 <= seen.pop() / real <= 1.1, real
