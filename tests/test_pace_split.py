"""issue 28: a predicted time prices a plan's page part and its CPU part each at its own time per unit."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune import plan
from pgtune.baseline_pace import PAGE_PROBE_PAGES, Pace, Probe, paces
from pgtune.baseline_warm import CPU_ONLY, _both, _pins
from pgtune.explain import scans
from pgtune.plan import Target

from .helpers import emitted


def feed(conn: psycopg.Connection[Any]) -> None:
    """40,000 videos, 5% published, one every 20 rows: a published page of 20 rows reads 20 pages."""
    conn.execute('CREATE TABLE videos (id bigint PRIMARY KEY, status text NOT NULL, "createdAt" timestamptz NOT NULL, '
                 "title text NOT NULL)")
    conn.execute("INSERT INTO videos SELECT g, CASE WHEN g % 20 = 0 THEN 'PUBLISHED' ELSE 'DRAFT' END, "
                 "now() - g * interval '1 minute', 'video ' || g FROM generate_series(1, 40000) AS g")
    conn.execute("VACUUM ANALYZE videos")


def test_the_warm_cost_is_split_into_its_page_and_cpu_parts(conn: psycopg.Connection[Any]) -> None:
    """The CPU part is the same plan's cost with page costs 0, with the warm plan's pins (page costs 0 would make
    another way of reading the table the cheaper one: a part of another plan)."""
    from pgtune.baseline import plan_target

    feed(conn)
    conn.execute("CREATE INDEX videos_status ON videos (status)")
    t = Target(queryid=1, query="SELECT id, title FROM videos WHERE status = 'PUBLISHED'", calls=1, baseline_cost=None)
    warm = {"random_page_cost": "1"}
    priced = _both(conn, t, warm, cpu=True)
    assert priced is not None
    cost, found, cpu = priced
    assert cpu is not None and 0 < cpu < cost
    pins = _pins(plan_target(conn, t).main.plan)
    assert pins["enable_seqscan"] == "off" and found == ("Index Scan using videos_status on videos",)
    pinned = plan_target(conn, Target(queryid=1, query=t.query, calls=1, baseline_cost=None,
                                      settings={**warm, **pins, **CPU_ONLY}))
    assert cpu == pinned.cost and found == tuple(scans(pinned.main.plan))
    assert _both(conn, t, warm) == (cost, found, None)          # not asked: not planned


@pytest.mark.needs_hypopg
def test_emit_keeps_the_cpu_part_and_times_a_page_heavy_probe(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """At emit the target's warm predicted cost comes with its CPU part, and the table's pace with a Tid Scan of
    PAGE_PROBE_PAGES pages spread over it (nearly all page part) beside the two index scans."""
    feed(conn)
    emitted(conn, tmp_path / "m", "SELECT id, title FROM videos WHERE status = 'PUBLISHED' "
                                  "ORDER BY \"createdAt\" DESC LIMIT 20;", measure=True)
    [t] = plan.load(tmp_path / "m").targets
    assert t.warm_predicted_cost is not None and t.warm_predicted_cpu is not None
    assert 0 < t.warm_predicted_cpu < t.warm_predicted_cost
    pace = paces(conn, [("public", "videos")], {"random_page_cost": "1"})[("public", "videos")]
    assert pace.probes is not None
    one, many, pages = pace.probes
    assert (one.ms, one.cost, many.ms, many.cost) == (pace.one_ms, pace.one_cost, pace.many_ms, pace.many_cost)
    assert math.isclose(pages.pages, PAGE_PROBE_PAGES) and pages.cpu < 0.05 * pages.pages     # warm: 1 a page
    assert many.cpu > one.cpu and many.pages > one.pages


def test_a_time_is_the_geometric_mean_of_the_line_and_the_split() -> None:
    """A 10-row page-heavy probe (10 page units, 0.3 CPU): the line through the two index scans (3.1 µs per unit)
    says 0.039 ms, the split (0.5 µs per page unit, 6 per CPU unit) 0.012; predicted: their geometric mean."""
    one = Probe(0.008, 0.46, 0.44)
    # The 1,000-row scan and the page-heavy probe timed as 0.0005 ms per page unit and 0.006 per CPU unit say:
    many = Probe(one.ms + 0.0005 * (16.0 - one.pages) + 0.006 * (15.0 - one.cpu), 31.0, 15.0)
    pages = Probe(one.ms + 0.0005 * (200 - one.pages) + 0.006 * (2.5 - one.cpu), 202.5, 2.5)
    pace = Pace(one.ms, one.cost, many.ms, many.cost, probes=(one, many, pages))
    per_page, per_cpu = pace.per_unit() or (0.0, 0.0)
    assert math.isclose(per_page, 0.0005) and math.isclose(per_cpu, 0.006)
    line = one.ms + (many.ms - one.ms) / (many.cost - one.cost) * (10.3 - one.cost)
    split = one.ms + 0.0005 * (10.0 - one.pages) + 0.006 * (0.3 - one.cpu)
    assert math.isclose(pace.ms(10.3, 0.3), math.sqrt(line * split)) and split < pace.ms(10.3, 0.3) < line
    assert pace.ms(10.3) == line == pace.ms(10.3, 11.0)          # no CPU part, or none that fits: the line
    # A page probe slower than the line says (a busy moment): a negative pace, no split.
    slow = Pace(one.ms, one.cost, many.ms, many.cost, probes=(one, many, Probe(5.0, 202.5, 2.5)))
    assert slow.per_unit() is None and slow.ms(10.3, 0.3) == line
