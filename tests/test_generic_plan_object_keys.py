"""The generic-plan review plans Prisma's relationJoins statements (p18, Cal.com-shaped).

With ``relationJoins`` Prisma loads a booking's attendees and event type in one
statement, each row built with ``JSONB_BUILD_OBJECT('id', "t0"."id", …)``, which
pg_stat_statements keeps as ``JSONB_BUILD_OBJECT($7, …)``. The review PREPAREs
the whole text to get its generic plan; the function takes "any", so the server
could not type ``$7`` and refused it ("could not determine data type of parameter"):
two ERROR lines in the server log a suggest, and the review skipped the workload's
costliest statement. The PREPARE now names those ``$n`` text.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import Options
from pgtune.analyze.generic_plans import _plans
from pgtune.health.workload_plans import statements_using

from .helpers import suggest

UPCOMING = (
    'SELECT "public"."Booking"."id", "public"."Booking"."title", "Booking_attendees"."__prisma_data__" AS "attendees", '
    '"Booking_eventType"."__prisma_data__" AS "eventType" FROM "public"."Booking" '
    'LEFT JOIN LATERAL (SELECT COALESCE(JSONB_AGG("__prisma_data__"), \'[]\') AS "__prisma_data__" FROM '
    '(SELECT "t1"."__prisma_data__" FROM (SELECT JSONB_BUILD_OBJECT(\'id\', "t0"."id", \'email\', "t0"."email") '
    'AS "__prisma_data__", "t0"."id" FROM (SELECT "t2".* FROM "public"."Attendee" AS "t2" '
    'WHERE "public"."Booking"."id" = "t2"."bookingId") AS "t0" ORDER BY "t0"."id" ASC) AS "t1") AS "t3") '
    'AS "Booking_attendees" ON true '
    'LEFT JOIN LATERAL (SELECT JSONB_BUILD_OBJECT(\'id\', "t4"."id", \'title\', "t4"."title") AS "__prisma_data__" '
    'FROM "public"."EventType" AS "t4" WHERE "public"."Booking"."eventTypeId" = "t4"."id" LIMIT $1) '
    'AS "Booking_eventType" ON true '
    'WHERE ("public"."Booking"."userId" = $2 AND "public"."Booking"."endTime" >= $3) '
    'ORDER BY "public"."Booking"."startTime" ASC LIMIT $4 OFFSET $5')


def _calcom(conn: psycopg.Connection[Any]) -> None:
    conn.execute('CREATE TABLE "EventType" (id serial PRIMARY KEY, title text NOT NULL)')
    conn.execute('CREATE TABLE "Booking" (id serial PRIMARY KEY, "userId" int, "eventTypeId" int, title text NOT NULL, '
                 '"startTime" timestamp(3) NOT NULL, "endTime" timestamp(3) NOT NULL)')
    conn.execute('CREATE TABLE "Attendee" (id serial PRIMARY KEY, email text NOT NULL, "bookingId" int)')
    conn.execute('CREATE INDEX "Attendee_bookingId_idx" ON "Attendee" ("bookingId")')
    conn.execute('INSERT INTO "EventType" (title) SELECT \'Meeting \' || g FROM generate_series(1, 2000) g')
    conn.execute('INSERT INTO "Booking" ("userId", "eventTypeId", title, "startTime", "endTime") '
                 "SELECT 1 + g % 2000, 1 + g % 2000, 'b', timestamp '2025-01-01' + g * interval '5 minutes', "
                 "timestamp '2025-01-01' + g * interval '5 minutes' + interval '30 minutes' "
                 "FROM generate_series(1, 60000) g")
    conn.execute('INSERT INTO "Attendee" (email, "bookingId") SELECT \'g\' || g || \'@x.com\', 1 + g % 60000 '
                 'FROM generate_series(1, 90000) g')
    conn.execute('ANALYZE "EventType", "Booking", "Attendee"')


def _run_as_app(db: str) -> None:
    """Through the extended protocol, never prepared, as Prisma's engine sends it: $n bound by the server."""
    with psycopg.connect(db, autocommit=True, prepare_threshold=None, cursor_factory=psycopg.RawCursor) as app:
        for user in range(1, 41):
            app.execute(UPCOMING, (1, user, "2025-03-01", 10, 0)).fetchall()


@pytest.mark.needs_hypopg
@pytest.mark.no_qualstats      # no example of the statement as sent: its keys stay $n, as on p18's database
def test_the_generic_plan_of_a_relation_joins_statement_is_planned(db: str, conn: psycopg.Connection[Any]) -> None:
    _calcom(conn)
    conn.execute("SELECT pg_stat_statements_reset()")
    _run_as_app(db)
    advice = suggest(conn, options=Options(min_rows=100))
    [st] = [s for s in advice.statements if "Booking_attendees" in s.query]
    assert "JSONB_BUILD_OBJECT($" in st.query and st.cost_before is not None, st.query
    [plans] = _plans(conn, [st])
    assert plans is not None and len(plans) == 1 + len(st.scenarios), plans     # the generic plan, then each


def test_health_reads_the_plan_of_a_relation_joins_statement(db: str, conn: psycopg.Connection[Any]) -> None:
    """Before health drops an index it plans the workload's statements: this one failed on the server the same way,
    one ERROR line a health run, and health could not see that its plan uses Attendee_bookingId_idx."""
    _calcom(conn)
    conn.execute("SELECT pg_stat_statements_reset()")
    _run_as_app(db)
    used = statements_using(conn, {"Attendee_bookingId_idx"})
    assert any("Booking_attendees" in u.statement.query for u in used), [u.statement.query[:60] for u in used]
