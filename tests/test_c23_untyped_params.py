"""A ``$n`` the server cannot type from its statement alone is typed from what it is compared to (c23, MEDIUM).

pg_stat_statements normalizes ``unnest(ARRAY[3, 7]) AS u(x)`` to ``unnest(ARRAY[$1,$2])``: unknowns, which the
server makes a text[]; joined to an integer column the PREPARE failed ("operator does not exist: integer =
text", 42883), an INSERT of it into a bigint column too (42804), and ``generate_series($1, $2)`` had no single
function to call (42725). Each statement was skipped as cannot-plan and the 200,000-row table it reads got no
index. The PREPARE is tried again once with those ``$n`` typed: as the type the server's error names, or
generate_series' bigint (timestamptz with an interval step).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import Options, SkipKind
from pgtune.explain import explain

from .helpers import steady_state, suggest

EVENTS = """
CREATE TABLE events (id bigint PRIMARY KEY, account_id int NOT NULL, seq int NOT NULL,
                     created_at timestamptz NOT NULL, payload text);
INSERT INTO events SELECT g, 1 + (g * 7919) % 20000, g % 50000, timestamptz '2026-01-01' + g * interval '1 minute',
                          md5(g::text) FROM generate_series(1, 200000) AS g;
CREATE TABLE marks (event_id bigint NOT NULL, label text NOT NULL);
ANALYZE events;
"""
JOINED = "SELECT e.id, e.payload FROM events e JOIN unnest(ARRAY[{a}, {b}]) AS u(x) ON e.account_id = u.x"
SERIES = "SELECT count(*) FROM events WHERE seq IN (SELECT generate_series({a}, {b}))"
UNIONED = "SELECT id FROM events WHERE seq = {a} UNION SELECT x FROM unnest(ARRAY[{a}, {b}]) AS x"
INSERTED = "INSERT INTO marks (event_id, label) SELECT * FROM unnest(ARRAY[$1, $2], ARRAY[$3, $4])"


@pytest.mark.needs_hypopg
def test_untyped_array_and_series_parameters_are_planned_and_indexed(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(EVENTS)
    steady_state(conn)
    with psycopg.connect(db, autocommit=True) as app:
        for k in range(1, 8):
            for text in (JOINED, SERIES, UNIONED):
                app.execute(text.format(a=k, b=k + 1 + k % 3))
    advice = suggest(conn, options=Options(min_rows=1000))
    unplanned = [(s.query[:70], s.reason) for s in advice.skipped if s.kind == SkipKind.CANNOT_PLAN]
    # Without the fix: "operator does not exist: integer = text", "function generate_series(unknown, unknown) is
    # not unique", "UNION types integer and text cannot be matched".
    assert not unplanned, unplanned
    keys = {(ix.table, ix.columns[0]) for ix in advice.indexes}
    assert {("events", "account_id"), ("events", "seq")} <= keys, advice.indexes
    [joined] = [s for s in advice.statements if "unnest(ARRAY[$1" in s.query and s.query.startswith("SELECT")]
    assert joined.cost_after is not None and joined.cost_before is not None
    assert joined.cost_after < joined.cost_before / 10, (joined.cost_before, joined.cost_after)


def test_a_statement_that_prepares_as_it_is_keeps_its_types(conn: psycopg.Connection[Any]) -> None:
    """Text compared with text prepared before: nothing is typed for it (its plan is the same)."""
    conn.execute(EVENTS)
    plan = explain(conn, "SELECT id FROM events e JOIN unnest(ARRAY[$1, $2]) AS u(x) ON e.payload = u.x")
    assert plan.cost > 0
    bad = "SELECT id FROM events e JOIN unnest(ARRAY[$1, $2]) AS u(x) ON e.account_id = u.x"
    assert explain(conn, bad, values={"$1": "5", "$2": "9"}).cost > 0
    assert explain(conn, INSERTED).cost > 0        # column "event_id" is of type bigint but expression is of type text
    # Two arrays of two types (integer, then timestamp with time zone), a VALUES list's two columns: a group a refusal.
    assert explain(conn, "SELECT e.id FROM events e JOIN unnest(ARRAY[$1, $2], ARRAY[$3, $4]) AS u(a, s) "
                         "ON e.account_id = u.a AND e.created_at = u.s").cost > 0
    assert explain(conn, "SELECT e.id FROM events e WHERE (e.account_id, e.seq) IN (VALUES ($1, $2), ($3, $4))",
                   values={"$1": "5", "$2": "6", "$3": "7", "$4": "8"}).cost > 0
    with pytest.raises(psycopg.errors.UndefinedFunction):     # a comparison no type makes plannable stays an error
        explain(conn, "SELECT id FROM events e JOIN unnest(ARRAY[$1, $2]) AS u(x) ON e.created_at @@ u.x")
