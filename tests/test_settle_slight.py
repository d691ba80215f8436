"""A statement the chosen set makes cheaper by less than MIN_GAIN: its cut is predicted, its index not credited.

The selection's curve counts every cut the set's plans make, and the built set
makes them; the final plans (costing.settle) kept such a statement at its old
cost, so the prediction left the cut out (TPC-DS at 250 MB: -0.41 of the -1.01
points between built and predicted, nine statements, each built within 0.01% of
the whole-set what-if). Its plan's indexes are named, so that withdrawing one
takes the cut back; it is not one of the index's targets (what the migration
promises and verify times): MIN_GAIN still decides what an index serves.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.capture import read_queries_file

from .helpers import suggest

LOOKUP = "SELECT id, note FROM accounts WHERE region = 42"
# Most of its cost is the events branch, which no index can serve (a volatile filter); the accounts branch is
# the lookup's, which the index on region makes a few pages' read.
MIXED = ("SELECT id FROM accounts WHERE region = 42 UNION ALL "
         "SELECT id FROM events WHERE kind > (random() * 0)::int - 1")


@pytest.mark.needs_hypopg
def test_a_cut_under_min_gain_is_predicted_but_not_a_target(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE accounts (id bigint PRIMARY KEY, region int NOT NULL, note text)")
    conn.execute("INSERT INTO accounts SELECT g, g % 2000, 'n' || g FROM generate_series(1, 40000) g")
    conn.execute("CREATE TABLE events (id bigint PRIMARY KEY, kind int NOT NULL)")
    conn.execute("INSERT INTO events SELECT g, g % 3 FROM generate_series(1, 300000) g")
    conn.execute("ANALYZE accounts; ANALYZE events")
    advice = suggest(conn, read_queries_file(f"{LOOKUP};\n{MIXED};"))
    assert [(ix.table, ix.columns) for ix in advice.indexes] == [("accounts", ["region"])], \
        [ix.ddl for ix in advice.indexes]
    index = advice.indexes[0]
    mixed = next(s for s in advice.statements if "UNION ALL" in s.query)
    assert mixed.cost_before is not None and mixed.cost_after is not None
    # The fixture's premise: the index cuts it, by less than MIN_GAIN (10%).
    assert mixed.cost_before * 0.9 < mixed.cost_after, (mixed.cost_before, mixed.cost_after)
    # Predicted (it was left at cost_before), its index named, not one of the index's targets.
    assert mixed.cost_after < mixed.cost_before, (mixed.cost_before, mixed.cost_after)
    assert mixed.indexes == [index.name]
    assert [q.query for q in index.queries] == [LOOKUP]
    assert not mixed.credited
    # Withdrawn, the index takes its cut with it: nothing left counts it.
    advice.withdraw(index.name, "withdrawn for the test")
    assert mixed.cost_after == mixed.cost_before and mixed.indexes == []
