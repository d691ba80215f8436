"""The size/cost curve describes the set each budget emits (u3's R6).

A greedy step can be undone by a later pass: prune drops an index the rest
serves as well, and the final plans drop one no statement is credited with
(no plan 10% cheaper). The curve counted such an index in the chosen step's
MB and cost, so its figures were not those of the set emitted.

The fixture is u3's: b-tree twins of hash indexes, here partial ones (their
predicate holds for every row, so they serve every lookup) that suggest
does not take for twins; the planner credits a twin for the heap order only
a b-tree's statistics describe, enough for a greedy step, not for 10% of
every plan of the participant lookup.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import Options
from pgtune.analyze.sizing import FORECAST_MARGIN

from .helpers import run, steady_state, suggest

VOTES = """
CREATE TABLE votes (id text PRIMARY KEY, participant_id text NOT NULL, option_id text NOT NULL,
                    poll_id text NOT NULL, type text NOT NULL DEFAULT 'yes');
CREATE INDEX votes_poll_id_idx ON votes USING hash (poll_id) WHERE poll_id IS NOT NULL;
CREATE INDEX votes_participant_id_idx ON votes USING hash (participant_id) WHERE participant_id IS NOT NULL;
INSERT INTO votes SELECT 'v' || i || '-' || k || '-' || j, 'a' || i || '-' || k, 'o' || i || '-' || j, 'p' || i
FROM generate_series(1, 60000) i, generate_series(1, 3) k, generate_series(1, 2) j;
"""


@pytest.mark.needs_hypopg
def test_each_point_of_the_curve_is_the_set_its_budget_emits(conn: psycopg.Connection[Any]) -> None:
    conn.execute(VOTES)
    conn.execute("VACUUM ANALYZE")
    steady_state(conn)
    polls = [(f"p{i * 97 % 60000 + 1}",) for i in range(50)]
    run(conn, "SELECT id, option_id, type FROM votes WHERE poll_id = %s", polls, times=200)
    run(conn, "SELECT count(*) FROM votes WHERE poll_id = %s", polls, times=200)
    run(conn, "SELECT id FROM votes WHERE participant_id IN (%s, %s)",
        [(f"a{p[1:]}-1", f"a{p[1:]}-2") for (p,) in polls], times=200)
    advice = suggest(conn)
    chosen = [p for p in advice.curve if p.chosen][-1]
    assert chosen.forecast_bytes == sum(ix.forecast_bytes or 0 for ix in advice.indexes), advice.curve
    sizes = [p.forecast_bytes for p in advice.curve]
    assert sizes == sorted(set(sizes)), advice.curve      # no point another fits inside
    smaller: dict[int, list[str]] = {}
    for point in advice.curve[1:-1]:      # each point's budget emits exactly the point's set
        # The budget less its margin (sizing.FORECAST_MARGIN) is the point's size and a byte.
        small = suggest(conn, options=Options(max_index_mb=(point.forecast_bytes + 1) * (1 + FORECAST_MARGIN)
                                              / 1048576)).indexes
        assert sum(ix.forecast_bytes or 0 for ix in small) == point.forecast_bytes, (point, advice.curve)
        smaller[point.step] = sorted(ix.name for ix in small)
    assert chosen.indexes == sorted(ix.name for ix in advice.indexes), advice.curve
    assert {p.step: p.indexes for p in advice.curve[1:-1]} == smaller, advice.curve
