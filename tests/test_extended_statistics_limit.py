"""Extended statistics are not proposed where the plan they bring in stops a filtered scan early under a LIMIT.

p18 (a Cal.com-shaped database): dependency statistics on Booking ("userId", "endTime", status) fixed the
planner's estimate (25 -> 418 rows), and with it the planner read Booking in "startTime" order under LIMIT 8,
expecting the user's rows to come early; they came late: 3.08 -> 319 ms, which verify --measure failed after
apply. Here a user's bookings are the last 300 by "startTime" (the heap in another order): with the statistics
the planner expects 300 rows spread evenly and walks the "startTime" index with a Filter, reading 297,000 rows
first (about 5x the seq scan and sort it had). The statistics are left out, with a note that says why.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.analyze import extended_stats
from pgtune.analyze.extended_stats import Planned, _stops_early
from pgtune.capture import read_catalog

BOOKINGS = """
CREATE TABLE "Booking" (id int PRIMARY KEY, "userId" int NOT NULL, "teamId" int NOT NULL,
                        "startTime" timestamp NOT NULL, title text);
INSERT INTO "Booking" SELECT g, k / 300, (k / 300) / 10, timestamp '2025-01-01' + k * interval '1 minute', 'b'
FROM (SELECT g, ((g::int8 * 7919) % 300000)::int AS k FROM generate_series(1, 300000) g) AS s;
CREATE INDEX "Booking_startTime_idx" ON "Booking" ("startTime");
ANALYZE "Booking";
"""
UPCOMING = ('SELECT "id", "title" FROM "public"."Booking" WHERE ("userId" = $1 AND "teamId" = $2) '
            'ORDER BY "startTime" ASC LIMIT $3')


def test_statistics_that_bring_in_a_limit_trap_are_not_proposed(conn: psycopg.Connection[Any]) -> None:
    conn.execute(BOOKINGS)
    found, notes = extended_stats.propose(
        conn, read_catalog(conn), [Planned(UPCOMING, 1, 100, {"$1": "990", "$2": "99", "$3": "8"}, cost=1e6)])
    assert found == [], [(p.plans_before, p.plans_after) for p in found]
    assert len(notes) == 1 and "not proposed: they fix the estimate" in notes[0], notes
    assert "would stop its Index Scan using Booking_startTime_idx on Booking at its LIMIT" in notes[0], notes
    # Named by its text and queryid, as other hints name a statement, not "statement 1" (c26).
    assert 'with them SELECT "id", "title" FROM "public"."Booking" WHERE ("userId… (queryid 1) would stop' \
        in notes[0], notes


def test_a_limit_stops_only_the_streaming_scan_below_it() -> None:
    scan = {"Node Type": "Index Scan", "Index Name": "i", "Relation Name": "t", "Filter": "(a = 1)"}
    assert _stops_early({"Node Type": "Limit", "Plans": [scan]}) == "Index Scan using i on t"
    assert _stops_early({"Node Type": "Limit", "Plans": [{"Node Type": "Sort", "Plans": [scan]}]}) is None
    assert _stops_early({"Node Type": "Limit", "Plans": [{"Node Type": "Aggregate", "Strategy": "Plain",
                                                          "Plans": [scan]}]}) is None
    assert _stops_early(scan) is None       # no LIMIT: the whole scan is what the planner priced
    nested = {"Node Type": "Nested Loop", "Plans": [scan, {"Node Type": "Index Scan", "Index Name": "j",
                                                           "Relation Name": "u", "Filter": "(b = 2)"}]}
    assert _stops_early({"Node Type": "Limit", "Plans": [nested]}) == "Index Scan using i on t"
