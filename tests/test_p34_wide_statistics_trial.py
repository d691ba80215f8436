"""Extended statistics are not tried on a filter over more than four columns (p34, OpenPanel-shaped).

OpenPanel's worker closes stale insights with ``UPDATE project_insights … WHERE "projectId" = $3 AND "moduleKey"
= $4 AND "windowKind" = $5 AND state = $6 AND "lastSeenAt" < $7 AND "dimensionKey" NOT IN (…)``: six columns. The
trial's ANALYZE with dependency statistics on them (186 dependencies) took 40 s on the 300,000-row table of a
loaded 2-core server; the trial's 10 s statement_timeout cancelled it, each suggest wrote an ERROR line in the
server's log and spent 11 s for the note "not tried: canceling statement due to statement timeout". Now a filter
over more than ``MAX_COLUMNS`` columns is not tried, and the note says why; the statement pgtune no longer runs
is the one the small table here builds in well under the timeout.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.analyze import extended_stats
from pgtune.analyze.extended_stats import Planned
from pgtune.capture import read_catalog

from .helpers import logged_errors

INSIGHTS = """
CREATE TABLE insights (id int PRIMARY KEY, a int, b int, c int, d int, e int, f int, title text);
INSERT INTO insights SELECT g, g % 50, g % 50, g % 50, g % 50, g % 50, g % 50, 't' || g
FROM generate_series(1, 60000) AS g;
ANALYZE insights;
"""
CLOSE = "UPDATE insights SET title = $1 WHERE a = $2 AND b = $3 AND c = $4 AND d = $5 AND e = $6 AND f = $7"
FOUR = "SELECT id FROM insights WHERE a = $1 AND b = $2 AND c = $3 AND d = $4"


def test_a_six_column_filter_is_not_tried_and_said_why(conn: psycopg.Connection[Any]) -> None:
    conn.execute(INSIGHTS)
    values = {"$1": "x", **{f"${n}": "7" for n in range(2, 8)}}
    with logged_errors(conn) as errors:
        found, notes = extended_stats.propose(conn, read_catalog(conn), [Planned(CLOSE, 1, 100, values, cost=1e6)])
    assert found == [] and len(notes) == 1, (found, notes)
    assert "not tried: 6 columns" in notes[0] and "186" in notes[0], notes                # main: a trial
    assert not errors, errors
    # Four columns are still tried: the same correlation gets its statistics.
    four = {f"${n}": "7" for n in range(1, 5)}
    found, notes = extended_stats.propose(conn, read_catalog(conn), [Planned(FOUR, 2, 100, four, cost=1e6)])
    assert not any("not tried" in n for n in notes), notes
