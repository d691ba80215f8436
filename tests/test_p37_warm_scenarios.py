"""issue 28 (p37): a target planned over several value scenarios is priced warm with the scans the server runs.

On prisma_style, a user's history (``"userId" = $1 ORDER BY "createdAt" DESC LIMIT $2``) got a second value
scenario in session 36; unpinned, warm pricing read the table by an Index Scan where the server runs a Bitmap
Heap Scan, the warm price was dropped, and with it the predicted time: verify compared the server-priced cost
cut (361x) with the measured time cut (3,200-4,800x), a miss in each of the three runs with pg_qualstats.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import psycopg

from pgtune.analyze import Scenario, ValueSource, weighted_cost
from pgtune.baseline import plan_target
from pgtune.baseline_warm import SCAN_SETTINGS, _both, _pins
from pgtune.plan import Target

WARM = {"random_page_cost": "1"}


def events(conn: psycopg.Connection[Any], big: str = "false") -> None:
    """200,000 rows of 20,000 users, 10 rows each spread over the table; the rows ``big`` holds for are 'big''s."""
    conn.execute(f"CREATE TABLE ev AS SELECT g AS id, CASE WHEN {big} THEN 'big' ELSE 'u' || (g * 7919) % 20000 "
                 "END AS uid, g % 1000 AS amount FROM generate_series(1, 200000) g")
    conn.execute("CREATE INDEX ev_uid ON ev (uid)")
    conn.execute("VACUUM ANALYZE ev")


def two_users(t: Target, *values: str) -> Target:
    scenarios = [Scenario({"$1": v}, ValueSource.STATS if i == 0 else ValueSource.QUALSTATS, w)
                 for i, (v, w) in enumerate(zip(values, (0.875, 0.125), strict=True))]
    return replace(t, scenarios=[s.as_dict() for s in scenarios], values={"$1": values[0]})


def test_two_scenarios_are_priced_warm_with_the_servers_scans(conn: psycopg.Connection[Any]) -> None:
    events(conn)
    t = two_users(Target(queryid=1, query="SELECT id, amount FROM ev WHERE uid = $1", calls=1, baseline_cost=None),
                  "u42", "u43")
    server = plan_target(conn, t)
    assert len(server.plans) == 2 and all(p.plan["Plan"]["Node Type"] == "Bitmap Heap Scan" for p in server.plans)
    # The premise: priced warm and left free, the planner reads both users by an Index Scan instead.
    assert plan_target(conn, replace(t, settings=WARM)).main.plan["Plan"]["Node Type"] == "Index Scan"
    priced = _both(conn, t, WARM, cpu=True)
    assert priced is not None, "no warm price for a target with two value scenarios"
    cost, found, cpu = priced
    assert found == ("Bitmap Heap Scan on ev", "Bitmap Index Scan using ev_uid")
    pinned = plan_target(conn, replace(t, settings={**WARM, "enable_indexscan": "off", "enable_indexonlyscan": "off",
                                                    "enable_seqscan": "off"}))
    assert cost == pinned.cost == weighted_cost([p.cost for p in pinned.plans], [Scenario.of(s) for s in t.scenarios])
    assert cost < server.cost and cpu is not None and 0 < cpu < cost


def test_each_scenarios_own_plan_stays_possible(conn: psycopg.Connection[Any]) -> None:
    """A scenario that reads the table whole keeps Seq Scan on, beside another's way of reading it by the index."""
    events(conn, big="g % 4 <> 0")
    t = two_users(Target(queryid=1, query="SELECT id, amount FROM ev WHERE uid = $1", calls=1, baseline_cost=None),
                  "u44", "big")
    plans = plan_target(conn, t).plans
    kinds = [p.plan["Plan"]["Node Type"] for p in plans]
    assert kinds[0] in ("Index Scan", "Bitmap Heap Scan") and kinds[1] == "Seq Scan"
    pins = _pins(*(p.plan for p in plans))
    assert SCAN_SETTINGS["Seq Scan"] not in pins and SCAN_SETTINGS[kinds[0]] not in pins and len(pins) == 2
    assert _pins(plans[0].plan)["enable_seqscan"] == "off"      # the first scenario's plan alone would turn it off
