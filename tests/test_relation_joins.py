"""Prisma's relationJoins statements are planned and timed with values (p18, Cal.com-shaped).

With ``relationJoins`` Prisma loads a booking's attendees and event type in one
statement: ``LEFT JOIN LATERAL (…) ON true`` per relation, each row built with
``JSONB_BUILD_OBJECT('id', …)``. pg_stat_statements normalizes ``true`` and the
keys to ``$n``. The ``ON $12`` had no rule, so the statement (the costliest of
p18's workload: 44% of its time) was planned generic there, and neither emit
nor verify --measure timed it ("no value for $12, $16"); a NULL key would have
made the timed run fail ("key must not be null"). Now ON $n is true and each
key a text of its own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from .helpers import emitted

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
@pytest.mark.no_qualstats      # no example of the statement as sent: its ON and keys get values by rule alone
def test_prisma_relation_joins_are_valued_and_timed(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    _calcom(conn)
    conn.execute("SELECT pg_stat_statements_reset()")
    _run_as_app(db)
    result = emitted(conn, tmp_path / "m")
    [st] = [s for s in result.indexes.statements if "Booking_attendees" in s.query]
    assert "ON $" in st.query and "JSONB_BUILD_OBJECT($" in st.query, st.query   # normalized, as in the app's
    ons = ["$9", "$12"]                  # numbered in text order after the five the app binds
    keys = ["$7", "$8", "$10", "$11"]
    assert st.generic_params == [], (st.generic_params, st.values)
    assert [st.values[p] for p in ons] == ["true", "true"], st.values
    assert all(st.values[p] for p in keys), st.values        # a NULL key: "key must not be null" when run
    [target] = [t for t in json.loads((tmp_path / "m" / "targets.json").read_text())
                if "Booking_attendees" in t["query"]]
    assert target["baseline_ms"] is not None, target["baseline_note"]
