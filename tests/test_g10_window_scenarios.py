"""Each scenario from pg_qualstats' constants plans a window a call sent, not two ends of different calls (g10).

pg_qualstats keeps the constants of ``"startTime" >= $2`` and of ``"endTime" <= $3`` apart, and each ``$n`` was
ranked alone: the typical execution's, the median by rows read, the heaviest. For a lower end the heaviest is the
earliest, for an upper end the latest, so the heaviest scenario planned a window from the first week of the data
to the last (a host's whole three years) where every call reads one week: its plan, costed as a call's, weighed
on the statement's cost and on the generic-plan review's comparison. A scenario's upper end is now the observed
upper end nearest above its lower end: the one the same call sent, as nearly as pg_qualstats can tell.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg

from pgtune.analyze import bind
from pgtune.analyze.values import valued
from pgtune.capture import read_catalog
from pgtune.snapshot import QualConstant

from .test_g10_calcom_booking import BOOKING, BUSY, START, build

WEEKS = [3, 40, 80, 120, 150]       # the weeks five kinds of calls asked for, the later ones more often


def _constants(conn: psycopg.Connection[Any]) -> list[QualConstant]:
    out = []
    for i, week in enumerate(WEEKS):
        low, high = START + timedelta(weeks=week), START + timedelta(weeks=week + 1)
        rows = conn.execute('SELECT count(*) FILTER (WHERE "startTime" >= %s), count(*) FILTER (WHERE "endTime" <= %s)'
                            ' FROM "Booking" WHERE "userId" = 1', (low, high)).fetchone()
        assert rows is not None
        for column, op, value, read in (("startTime", ">=", low, rows[0]), ("endTime", "<=", high, rows[1])):
            calls = 10 * (i + 1)
            out.append(QualConstant(BOOKING, column, op, f"'{value:%Y-%m-%d %H:%M:%S}'::timestamp without time zone",
                                    calls, filtered=calls * (read - 5), executions=calls * read))
    return out


def test_every_scenario_plans_a_window_one_call_sent(conn: psycopg.Connection[Any]) -> None:
    build(conn)
    catalog = read_catalog(conn)
    found = valued(bind(BUSY, catalog), catalog, 7, constants=_constants(conn))
    assert len(found.scenarios) > 1, found.scenarios
    for scenario in found.scenarios:
        low, high = (datetime.fromisoformat(str(scenario.values[p])) for p in ("$2", "$3"))
        assert high - low == timedelta(weeks=1), found.scenarios
