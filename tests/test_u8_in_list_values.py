"""Each ``$n`` of an ``IN`` / ``NOT IN`` list is valued with a value of its own, not one value repeated.

Found on a web-analytics database (Umami-shaped): every dashboard statement
filters ``event_type NOT IN (2, 5)`` (page views only), which pg_stat_statements
keeps as ``NOT IN ($7, $8)``. Without pg_qualstats constants pgtune valued both
with the same typical value, so the statement was planned as ``NOT IN (2, 2)``:
the planner counted the rows of type 5 as kept, and the cost pgtune compared
indexes by was not the cost of the calls the application makes.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.analyze import bind
from pgtune.analyze.values import valued
from pgtune.capture import read_catalog

SCHEMA = """
CREATE TABLE website_event (
    event_id    bigint PRIMARY KEY,
    website_id  integer NOT NULL,
    created_at  timestamptz NOT NULL,
    event_type  integer NOT NULL DEFAULT 1
);
INSERT INTO website_event
SELECT g, g % 7, now() - g * interval '1 minute', CASE WHEN g % 4 < 2 THEN 1 WHEN g % 4 = 2 THEN 2 ELSE 5 END
FROM generate_series(1, 20000) AS g;
ANALYZE website_event;
"""

# As pg_stat_statements keeps umami's page-view count (its constants replaced by $n).
QUERY = ("SELECT count(*) FROM website_event WHERE website_event.website_id = $1 "
         "AND website_event.event_type NOT IN ($2, $3)")


def _estimated_rows(conn: psycopg.Connection[Any], values: dict[str, str | None]) -> float:
    text = QUERY.replace("$1", "'3'").replace("$2", f"'{values['$2']}'").replace("$3", f"'{values['$3']}'")
    plan = conn.execute("EXPLAIN (FORMAT JSON) " + text.replace("count(*)", "event_id")).fetchone()
    assert plan is not None
    return float(plan[0][0]["Plan"]["Plan Rows"])


def test_a_not_in_list_of_parameters_is_planned_with_distinct_values(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    catalog = read_catalog(conn)
    found = valued(bind(QUERY, catalog), catalog, 3)
    [main] = found.scenarios
    excluded = (main.values["$2"], main.values["$3"])
    assert excluded[0] != excluded[1], excluded
    assert set(excluded) <= {"1", "2", "5"}, excluded
    # The planner's estimate with those values is the rows such a call keeps: two types of three left out.
    actual = conn.execute(
        "SELECT count(*) FROM website_event WHERE website_id = 3 AND event_type NOT IN (%s, %s)",
        [int(v) for v in excluded if v is not None]).fetchone()
    assert actual is not None
    estimated = _estimated_rows(conn, main.values)
    assert abs(estimated - actual[0]) <= 0.2 * actual[0], (estimated, actual[0], excluded)
