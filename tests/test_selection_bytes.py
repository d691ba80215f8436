"""A step under MIN_STEP_SHARE, taken for one statement's cut, must not be large beside what it saves.

n38's Cal.com-shaped trial: after the Booking indexes that served the heavy statements were chosen, a
58 MB ("userId", "startTime") index was added for 0.05% of the workload's cost, as it made one light
statement (37 calls) 4x cheaper; the next round's mix tipped an earlier widening and it was not, so two
runs on one database proposed different sets. A gain that small is within the what-if noise and costs
writes and disk: such a step holds at most STEP_BYTES per MIN_STEP_SHARE it saves.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.capture import Statement

from .helpers import all_visible, suggest

ROWS = 120_000
HEAVY = ('SELECT id, "startTime" FROM "Booking" WHERE "eventTypeId" = 17 AND "startTime" >= \'2026-03-01\' '
         'ORDER BY "startTime" LIMIT 20')
LIGHT = 'SELECT id, "startTime", "endTime" FROM "Booking" WHERE "userId" = 42 AND status = 1'


def _booking(conn: psycopg.Connection[Any]) -> None:
    conn.execute('CREATE TABLE "Booking" (id int PRIMARY KEY, "userId" int NOT NULL, "eventTypeId" int NOT NULL, '
                 'status int NOT NULL, "startTime" timestamp NOT NULL, "endTime" timestamp NOT NULL, title text)')
    conn.execute('INSERT INTO "Booking" SELECT g, 1 + (g::bigint * 7919) % 20000, '
                 '1 + (g::bigint * 104729) % 4000, g % 4, '
                 "timestamp '2023-01-01' + g * interval '17 minutes', "
                 "timestamp '2023-01-01' + g * interval '17 minutes' + interval '30 minutes', 'meeting ' || g "
                 f"FROM generate_series(1, {ROWS}) g")
    conn.execute('ALTER TABLE "Booking" SET (autovacuum_enabled = off)')
    all_visible(conn, "Booking")


@pytest.mark.needs_hypopg
def test_an_index_for_a_sliver_of_the_workload_is_not_taken_for_one_statement(conn: psycopg.Connection[Any]) -> None:
    _booking(conn)
    advice = suggest(conn, [Statement(HEAVY, calls=200_000), Statement(LIGHT, calls=1)])
    on = {tuple(ix.columns) for ix in advice.indexes}
    light = next(s for s in advice.statements if s.query == LIGHT)
    heavy = next(s for s in advice.statements if s.query == HEAVY)
    # The premise: the heavy statement is nearly all of the workload, and an index serves it.
    assert heavy.calls * (heavy.cost_before or 0) > 1000 * (light.cost_before or 0)
    assert any(cols[0] == "eventTypeId" for cols in on), on
    # The light statement's index would make it far cheaper, for a millionth of the workload, at MBs: not taken.
    assert not any(cols[0] == "userId" for cols in on), on
    assert light.cost_after == light.cost_before
