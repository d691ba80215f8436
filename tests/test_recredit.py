"""A proposal lists only the statements whose cut credits it once a withdrawal had them planned again.

n38's Cal.com-shaped trial: a booking list filtered by an event type and an OR
(``"userId" = $2 OR id IN (SELECT "bookingId" FROM "Attendee" WHERE email = $3)``)
was cut by the set, whose plan used a new Booking index and the covering twin of
Attendee's email index; so both were credited with it. The twin was withdrawn
(the migration keeps the old index) and the list planned again without the cut,
yet the Booking proposal still counted it among its "stmts" (3, where it cuts 1).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import replan_withdrawn
from pgtune.capture import Statement, read_catalog

from .helpers import all_visible, suggest

GUESTS = ('SELECT b.id, b.title FROM "Attendee" a JOIN "Booking" b ON b."userId" = a."bookingId" '
          'WHERE a.email = \'guest5@mail.com\'')
BY_USER = 'SELECT id, "startTime" FROM "Booking" WHERE "userId" = 42'


def _cal(conn: psycopg.Connection[Any]) -> None:
    conn.execute('CREATE TABLE "Booking" (id int PRIMARY KEY, "userId" int NOT NULL, "startTime" timestamp NOT NULL, '
                 'title text)')
    conn.execute('INSERT INTO "Booking" SELECT g, 1 + (g::bigint * 7919) % 5000, '
                 "timestamp '2023-01-01' + g * interval '13 minutes', 'meeting ' || g "
                 "FROM generate_series(1, 20000) g")
    conn.execute('CREATE TABLE "Attendee" (id int PRIMARY KEY, "bookingId" int NOT NULL, email text NOT NULL)')
    conn.execute('INSERT INTO "Attendee" SELECT g, 1 + (g::bigint * 31) % 20000, \'guest\' || (g % 300000) || '
                 "'@mail.com' FROM generate_series(1, 600000) g")
    for t in ("Booking", "Attendee"):
        conn.execute(f'ALTER TABLE "{t}" SET (autovacuum_enabled = off)')
        all_visible(conn, t)


@pytest.mark.needs_hypopg
def test_a_withdrawal_takes_the_statements_it_cut_out_of_the_other_proposals_lists(
        conn: psycopg.Connection[Any]) -> None:
    _cal(conn)
    advice = suggest(conn, [Statement(GUESTS, calls=20), Statement(BY_USER, calls=50)])
    listed = {ix.name: [q.query for q in ix.queries] for ix in advice.indexes}
    attendee = next(ix for ix in advice.indexes if ix.table == "Attendee")
    booking = [ix for ix in advice.indexes if ix.table == "Booking" and GUESTS in listed[ix.name]]
    # The premise: the list is credited to the Attendee index and to a Booking one beside it.
    assert GUESTS in listed[attendee.name] and booking, listed
    advice.withdraw(attendee.name, "withdrawn by the test (as a covering twin the migration keeps)")
    replan_withdrawn(conn, read_catalog(conn), advice)
    row = next(s for s in advice.statements if s.query == GUESTS)
    assert not row.credited      # without the Attendee index the list costs about what it did (its scan)
    for ix in booking:
        left = [ix2 for ix2 in advice.indexes if ix2 is ix]
        # Listed no more (the proposal's count and costs are its other statements'), or withdrawn with none left.
        assert not left or GUESTS not in [q.query for q in ix.queries], ix
        if left and ix.cost_before and ix.cost_after:    # its reason as analyze.reasons says it of these costs
            n = len(ix.queries)
            said = f"serves {n} statement{'s' if n != 1 else ''}; planner cost {ix.cost_before / ix.cost_after:.1f}x"
            assert ix.reason.startswith(said), (said, ix.reason)
            assert "write upkeep" not in ix.reason or f"< saving {ix.cost_before - ix.cost_after:,.0f}" in ix.reason


@pytest.mark.needs_hypopg
def test_a_proposal_left_with_no_statement_it_cuts_is_withdrawn(conn: psycopg.Connection[Any]) -> None:
    _cal(conn)
    advice = suggest(conn, [Statement(GUESTS, calls=20)])
    attendee = next(ix for ix in advice.indexes if ix.table == "Attendee")
    assert any(ix.table == "Booking" for ix in advice.indexes)     # the premise: both serve the list
    advice.withdraw(attendee.name, "withdrawn by the test (as a covering twin the migration keeps)")
    replan_withdrawn(conn, read_catalog(conn), advice)
    assert not any(ix.table == "Booking" for ix in advice.indexes), advice.indexes
    row = next(s for s in advice.statements if s.query == GUESTS)
    assert (row.cost_after, row.indexes) == (row.cost_before, [])
    assert any(h.startswith("Booking_") and "none of the 1 statements it served is cut by it" in h
               for h in advice.hints), advice.hints
