"""A budget between two points may take the larger point less its cheapest index (issue 28, t12).

A budget took the last point of the curve that fits, and its leftover held
later steps that fit (curve.fill). When the next step is large, every budget
below the next point kept the smaller set, though the next point's set less a
small index that saves little fitted and saved far more: on TPC-H SF1 the
curve went from 316 to 508 forecast MB (a widening to a covering index), and
budgets of 320 to 507 MB all got 41.2% (40.4% built at 312 MB), where the 508
MB set less Q10's `lineitem (l_orderkey) WHERE l_returnflag = 'R'` (29 MB)
fits within 480 MB (39.1% built).

Here: (a) saves the most per byte, then the small (name) on tags, then a large
index on a long text column that saves more than (name) but less per byte. A
budget with room for (a) and the large one, not for all three, must take those
two.
"""

from __future__ import annotations

from hashlib import md5
from typing import Any

import psycopg
import pytest

from pgtune.analyze import Options

from .helpers import run, steady_state, suggest

TABLES = """
CREATE TABLE events (id bigint PRIMARY KEY, a int NOT NULL, w text NOT NULL, note text NOT NULL);
INSERT INTO events SELECT g, hashint4(g) & 65535, md5(g::text) || md5((g + 1)::text), repeat('x', 40)
FROM generate_series(1, 300000) AS g;
CREATE TABLE tags (id bigint PRIMARY KEY, name text NOT NULL, note text NOT NULL);
INSERT INTO tags SELECT g, 't' || g, repeat('y', 40) FROM generate_series(1, 20000) AS g;
"""


@pytest.mark.needs_hypopg
def test_a_budget_takes_the_next_point_less_its_cheapest_index(conn: psycopg.Connection[Any]) -> None:
    conn.execute(TABLES)
    conn.execute("VACUUM ANALYZE")
    steady_state(conn)
    run(conn, "SELECT id, note FROM events WHERE a = %s", [(i * 37 % 65536,) for i in range(50)], times=300)
    run(conn, "SELECT id, note FROM tags WHERE name = %s", [(f"t{i * 13 + 1}",) for i in range(20)], times=200)
    run(conn, "SELECT id, note FROM events WHERE w = %s",
        [(md5(str(i).encode()).hexdigest() + md5(str(i + 1).encode()).hexdigest(),) for i in range(1, 40)], times=60)
    curve = suggest(conn).curve
    steps = [p.index or "" for p in curve]
    assert len(steps) == 4 and steps[1].startswith("events_a") and steps[2].startswith("tags_name") \
        and steps[3].startswith("events_w"), curve
    events_a = curve[1].forecast_bytes
    tags = curve[2].forecast_bytes - events_a
    wide = curve[3].forecast_bytes - curve[2].forecast_bytes
    assert curve[2].cost - curve[3].cost > curve[1].cost - curve[2].cost, curve   # (w) saves more than (name)
    budget = (events_a + wide + tags // 2) / 1048576          # room for (a) and (w), not for (name) too
    advice = suggest(conn, options=Options(max_index_mb=budget))
    names = sorted(ix.name for ix in advice.indexes)
    assert len(names) == 2 and names[0].startswith("events_a") and names[1].startswith("events_w"), names
    assert sum(ix.forecast_bytes or 0 for ix in advice.indexes) <= budget * 1048576
