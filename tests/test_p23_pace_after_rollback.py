"""p23: verify --measure after rollback: the 'µs per cost unit ... now' figure divides the time now by the cost now.

It divided the measured time now by the cost predicted with the indexes: after rollback (a seq scan again) a
Midday-shaped database showed '3.24 µs per cost unit before, 421.70 now' for 31 ms -> 46 ms at cost 9,582 -> 9,582
(4.81 now).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune import api
from pgtune.apply import Applier

from .helpers import emitted
from .test_apply_safety import QUERIES

# Wide enough (~300 MB, past shared_buffers) that the run now reads blocks from outside shared_buffers: verify
# then compares the cost cut (not a predicted time) and gives the time per cost unit.
WIDE = """
CREATE TABLE events (id bigint PRIMARY KEY, "accountId" int NOT NULL, kind int NOT NULL,
                     "createdAt" timestamptz NOT NULL, amount int NOT NULL, pad text NOT NULL);
INSERT INTO events SELECT g, g % 20000, g % 37, now() - g * interval '1 second', g % 1000, repeat('x', 180)
FROM generate_series(1, 1200000) AS g;
"""

PACE = re.compile(r"\(([\d,.]+) µs per cost unit before, ([\d,.]+) now\)")


@pytest.mark.needs_hypopg
def test_pace_now_is_time_now_over_cost_now(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute(WIDE)
    conn.execute("VACUUM ANALYZE events")
    emitted(conn, tmp_path / "mig", QUERIES)
    Applier(conn, tmp_path / "mig").apply()
    Applier(conn, tmp_path / "mig").rollback()
    report = api.verify(conn, tmp_path / "mig", measure=True)
    paced = [(r, m) for r in report.targets if (m := PACE.search(r.disagreement or ""))]
    assert paced, [(r.read_blocks, r.warm, r.disagreement) for r in report.targets]
    for r, m in paced:
        assert r.cost and r.ms is not None and r.baseline_ms is not None and r.baseline_cost
        now = float(m.group(2).replace(",", ""))
        assert now == pytest.approx(1000 * r.ms / r.cost, rel=0.01, abs=0.01), (r.disagreement, r.ms, r.cost)
