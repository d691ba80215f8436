"""A column every row of which holds its DEFAULT proves nothing about the values the application writes.

Found on a job-queue database (Trigger.dev-shaped): ``TaskRun."priorityMs"``
(``Int @default(0)``) held 0 in all 350,000 runs, because no run had asked for
a priority yet; its name ends in ``Ms`` (a duration), so pgtune proposed
``"priorityMs" >= 0`` with high confidence. The application's API takes any
number as a priority and stores it signed (an offset in the queue), so after
apply the first run triggered with ``priority: -10`` would have been refused.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.constraints import propose

SCHEMA = """
CREATE TABLE "TaskRun" ("id" text PRIMARY KEY, "priorityMs" integer NOT NULL DEFAULT 0,
                        "usageDurationMs" integer NOT NULL DEFAULT 0, "queuePriority" integer NOT NULL DEFAULT 0);
INSERT INTO "TaskRun" SELECT 'cm' || g, 0, g % 5000, CASE WHEN g % 7 = 0 THEN g % 50 ELSE 0 END
FROM generate_series(1, 3000) AS g;
ANALYZE "TaskRun";
"""


def test_a_column_holding_only_its_default_gets_no_rule(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    got = {",".join(c.columns): c for c in propose(conn).constraints}
    assert "priorityMs" not in got, got["priorityMs"].check if "priorityMs" in got else None
    assert "queuePriority" not in got, got["queuePriority"].check if "queuePriority" in got else None
    assert got["usageDurationMs"].check == '"usageDurationMs" >= 0'      # a measured duration keeps its rule
    for c in got.values():
        conn.execute(f'ALTER TABLE "TaskRun" ADD CONSTRAINT "{c.name}" CHECK ({c.check})')
    # what the application writes when a run asks for a priority (seconds * 1000, signed)
    conn.execute("""INSERT INTO "TaskRun" (id, "priorityMs", "queuePriority") VALUES ('cmneg', -10000, -5)""")
