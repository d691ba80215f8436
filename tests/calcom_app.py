"""A Cal.com-shaped fixture: Booking, Attendee, EventType, and Prisma relationJoins' upcoming-bookings statement
as Prisma's engine sends it (p18). Shared by the tests of its valuation and of its generic plan."""

from __future__ import annotations

from typing import Any

import psycopg

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


def build(conn: psycopg.Connection[Any]) -> None:
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


def run_as_app(db: str) -> None:
    """Through the extended protocol, never prepared, as Prisma's engine sends it: $n bound by the server."""
    with psycopg.connect(db, autocommit=True, prepare_threshold=None, cursor_factory=psycopg.RawCursor) as app:
        for user in range(1, 41):
            app.execute(UPCOMING, (1, user, "2025-03-01", 10, 0)).fetchall()
