"""No start/end CHECK on a time of day (u12, Cal.com).

Cal.com's Availability holds a window of a day as "startTime" and "endTime" of
type time, and users' deprecated "startTime"/"endTime" as minutes of the day.
pgtune proposed CHECK ("endTime" >= "startTime") at high confidence on both: a
window past midnight (22:00-02:00) is a legitimate write it would refuse. A
date or timestamp is a point in time and still gets its pair.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.constraints import propose
from tests.helpers import steady_state

SCHEMA = """
CREATE TABLE "Availability" (id serial PRIMARY KEY, "userId" int, "startTime" time NOT NULL,
  "endTime" time NOT NULL, date date);
INSERT INTO "Availability" ("userId", "startTime", "endTime")
SELECT g % 500, time '08:00' + (g % 4) * interval '1 hour', time '17:00' + (g % 3) * interval '1 hour'
FROM generate_series(1, 5000) g;
CREATE TABLE users (id serial PRIMARY KEY, "startTime" int NOT NULL DEFAULT 0, "endTime" int NOT NULL DEFAULT 1440,
  "trialStart" timestamp(3), "trialEnd" timestamp(3));
INSERT INTO users ("startTime", "endTime", "trialStart", "trialEnd")
SELECT 480 + g % 60, 1020 + g % 60, timestamp '2026-01-01' + g * interval '1 h',
       timestamp '2026-01-15' + g * interval '1 h'
FROM generate_series(1, 5000) g;
ANALYZE;
"""


def test_a_time_of_day_gets_no_start_end_check(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    steady_state(conn)
    orders = {(c.table, c.check) for c in propose(conn).constraints if c.kind == "column-order"}
    assert ("users", '"trialEnd" >= "trialStart"') in orders, orders      # timestamps: still proposed
    assert not [o for o in orders if "Time" in o[1]], orders
    # The write the CHECK would have refused:
    conn.execute("""INSERT INTO "Availability" ("userId", "startTime", "endTime") VALUES (1, '22:00', '02:00')""")


def test_minutes_and_hhmm_of_a_day_get_no_start_end_check(conn: psycopg.Connection[Any]) -> None:
    """r11: the exclusion read only time|hour|minute|clock in the name; start_min/end_min and "startHhmm" got one."""
    conn.execute("""
CREATE TABLE shifts (id serial PRIMARY KEY, start_min int NOT NULL, end_min int NOT NULL, "startHhmm" int NOT NULL,
  "endHhmm" int NOT NULL, start_page int NOT NULL, end_page int NOT NULL);
INSERT INTO shifts (start_min, end_min, "startHhmm", "endHhmm", start_page, end_page)
SELECT 480 + g % 60, 1020 + g % 60, 800 + g % 59, 1700 + g % 59, g, g + 10 FROM generate_series(1, 5000) g;
ANALYZE shifts;
""")
    steady_state(conn)
    orders = {c.check for c in propose(conn).constraints if c.kind == "column-order" and c.table == "shifts"}
    assert orders == {"end_page >= start_page"}, orders
