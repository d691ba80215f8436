"""The generic-plan review keeps the index a Cal.com-shaped app's hottest lookups need (g10, from u12).

On a Cal.com-shaped database the review withdrew Booking's ``userId``-leading
index: the values it planned the statements with were no call's. Prisma sends
``"status" IN (CAST($4::text AS "public"."BookingStatus"), CAST($5 …))`` and
every ``$n`` of the list got one value; a bound boolean got the rare one; and
a window over two columns (``"startTime" >= $2 AND "endTime" <= $3``) got an
upper end years before its lower end, so every plan made "with values" read
nothing and the generic plan, the one that reads a user's bookings, looked
like the only taker of the index.

The fixture follows the shapes of Cal.com's Booking/Attendee models and its
booking queries (busy times, upcoming list, unpaid): a user's bookings over
three years, statuses skewed (accepted dominant), sent as Prisma sends them
(quoted names, enum casts, ``$n``, LIMIT/OFFSET) as named prepared statements.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest

from pgtune import api
from pgtune.analyze import bind, generic_plans
from pgtune.analyze.model import Advice, AnalyzedStatement, IndexSuggestion, Method
from pgtune.analyze.scenarios import ValueSource
from pgtune.analyze.values import valued
from pgtune.capture import read_catalog, reset_counters
from pgtune.snapshot import QualConstant, QualShare

USERS = 400
BOOKINGS = 60_000
START = datetime(2023, 1, 1)

SCHEMA = """
CREATE TYPE "BookingStatus" AS ENUM ('cancelled', 'accepted', 'rejected', 'pending', 'awaiting_host');
CREATE TABLE "users" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL UNIQUE, "name" TEXT);
CREATE TABLE "EventType" ("id" SERIAL PRIMARY KEY, "title" TEXT NOT NULL, "length" INTEGER NOT NULL,
    "userId" INTEGER REFERENCES "users" ("id") ON DELETE CASCADE);
CREATE INDEX "EventType_userId_idx" ON "EventType" ("userId");
CREATE TABLE "Booking" (
    "id" SERIAL PRIMARY KEY,
    "uid" TEXT NOT NULL,
    "userId" INTEGER REFERENCES "users" ("id") ON DELETE CASCADE,
    "eventTypeId" INTEGER REFERENCES "EventType" ("id"),
    "title" TEXT NOT NULL,
    "description" TEXT,
    "startTime" TIMESTAMP(3) NOT NULL,
    "endTime" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "status" "BookingStatus" NOT NULL DEFAULT 'accepted',
    "paid" BOOLEAN NOT NULL DEFAULT false,
    "recurringEventId" TEXT,
    "fromReschedule" TEXT);
CREATE UNIQUE INDEX "Booking_uid_key" ON "Booking" ("uid");
CREATE INDEX "Booking_eventTypeId_idx" ON "Booking" ("eventTypeId");
CREATE INDEX "Booking_recurringEventId_idx" ON "Booking" ("recurringEventId");
CREATE INDEX "Booking_userId_idx" ON "Booking" ("userId");
CREATE INDEX "Booking_status_idx" ON "Booking" ("status");
CREATE INDEX "Booking_startTime_endTime_status_idx" ON "Booking" ("startTime", "endTime", "status");
CREATE TABLE "Attendee" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL, "name" TEXT NOT NULL,
    "timeZone" TEXT NOT NULL, "bookingId" INTEGER REFERENCES "Booking" ("id") ON DELETE CASCADE,
    "noShow" BOOLEAN DEFAULT false);
CREATE INDEX "Attendee_email_idx" ON "Attendee" ("email");
CREATE INDEX "Attendee_bookingId_idx" ON "Attendee" ("bookingId");
"""

# Users book unevenly (a few busy hosts, many quiet ones); a booking is 30 or 60 minutes, any time in three
# years; 80% accepted, the rest cancelled, pending, rejected, awaiting a host; 5% paid.
DATA = f"""
INSERT INTO "users" ("email", "name") SELECT 'host' || g || '@cal.example', 'Host ' || g
FROM generate_series(1, {USERS}) g;
INSERT INTO "EventType" ("title", "length", "userId")
SELECT 'Meeting ' || g, CASE WHEN g % 2 = 0 THEN 30 ELSE 60 END, 1 + g % {USERS} FROM generate_series(1, {USERS * 3}) g;
INSERT INTO "Booking" ("uid", "userId", "eventTypeId", "title", "startTime", "endTime", "createdAt", "status",
                       "paid")
SELECT md5(g::text), u, 1 + (u - 1 + {USERS} * (g % 3)) % {USERS * 3}, 'Meeting between host and guest ' || g,
       s, s + CASE WHEN g % 2 = 0 THEN interval '30 minutes' ELSE interval '60 minutes' END, s - interval '7 days',
       (CASE WHEN g % 100 < 80 THEN 'accepted' WHEN g % 100 < 90 THEN 'cancelled' WHEN g % 100 < 95 THEN 'pending'
             WHEN g % 100 < 98 THEN 'rejected' ELSE 'awaiting_host' END)::"BookingStatus",
       g % 20 = 0
FROM (SELECT g, 1 + floor({USERS} * power(random(), 2))::int AS u,
             timestamp '{START:%Y-%m-%d}' + (random() * 1095) * interval '1 day' AS s
      FROM generate_series(1, {BOOKINGS}) g) AS b;
INSERT INTO "Attendee" ("email", "name", "timeZone", "bookingId", "noShow")
SELECT 'guest' || (g % 9000) || '@mail.example', 'Guest ' || g, 'Europe/London', 1 + g % {BOOKINGS}, g % 50 = 0
FROM generate_series(1, {BOOKINGS * 3 // 2}) g;
"""

_STATUS = 'CAST(${}::text AS "public"."BookingStatus")'
_COLUMNS = ('"public"."Booking"."id", "public"."Booking"."uid", "public"."Booking"."title", '
            '"public"."Booking"."startTime", "public"."Booking"."endTime", "public"."Booking"."status"')

# Busy times of a host over the window a booking page shows (getBusyTimes): accepted or pending bookings.
BUSY = (f'SELECT {_COLUMNS} FROM "public"."Booking" WHERE ("public"."Booking"."userId" = $1 AND '
        '"public"."Booking"."startTime" >= $2 AND "public"."Booking"."endTime" <= $3 AND '
        f'"public"."Booking"."status" IN ({_STATUS.format(4)},{_STATUS.format(5)},{_STATUS.format(6)})) '
        'OFFSET $7')
# The bookings list's "upcoming" tab: not yet ended, accepted or pending, soonest first, a page at a time.
UPCOMING = (f'SELECT {_COLUMNS} FROM "public"."Booking" WHERE ("public"."Booking"."userId" = $1 AND '
            '"public"."Booking"."endTime" >= $2 AND '
            f'"public"."Booking"."status" IN ({_STATUS.format(3)},{_STATUS.format(4)})) '
            'ORDER BY "public"."Booking"."startTime" ASC LIMIT $5 OFFSET $6')
# The "unpaid" tab: a host's bookings not paid yet, newest first.
UNPAID = (f'SELECT {_COLUMNS} FROM "public"."Booking" WHERE ("public"."Booking"."userId" = $1 AND '
          '"public"."Booking"."paid" = $2) ORDER BY "public"."Booking"."startTime" DESC LIMIT $3 OFFSET $4')
# A booking's attendees (the relation Prisma loads after the bookings).
ATTENDEES = ('SELECT "public"."Attendee"."id", "public"."Attendee"."email", "public"."Attendee"."bookingId" '
             'FROM "public"."Attendee" WHERE "public"."Attendee"."bookingId" IN ($1,$2,$3) OFFSET $4')


def build(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SELECT setseed(0.42)")
    conn.execute(SCHEMA)
    conn.execute(DATA)
    # Statistics from every row (a sample of 300 x 300 rows): the same plans run after run.
    conn.execute("SET default_statistics_target = 300")
    conn.execute('VACUUM ANALYZE "users", "EventType", "Booking", "Attendee"')
    conn.execute("RESET default_statistics_target")
    reset_counters(conn)


def _host(r: random.Random) -> int:
    return 1 + int(USERS * r.random() ** 2)


def workload(dsn: str, seed: int = 10) -> None:
    """The app's calls, as Prisma's engine sends them: named prepared statements, ``$n`` bound by the server."""
    r = random.Random(seed)
    with psycopg.connect(dsn, autocommit=True, cursor_factory=psycopg.RawCursor) as app:
        def call(query: str, params: tuple[Any, ...]) -> None:
            app.execute(query, params, prepare=True).fetchall()

        for _ in range(120):
            day = START + timedelta(days=r.randint(0, 1090))
            call(BUSY, (_host(r), day, day + timedelta(days=7), "accepted", "pending", "awaiting_host", 0))
        for _ in range(60):
            now = START + timedelta(days=r.randint(300, 1090))
            call(UPCOMING, (_host(r), now, "accepted", "pending", 10, 0))
        for _ in range(40):
            call(UNPAID, (_host(r), False, 10, 0))
        for _ in range(40):
            first = r.randint(1, BOOKINGS - 3)
            call(ATTENDEES, (first, first + 1, first + 2, 0))

# Busy times in the form Cal.com's overlap check takes: bookings that start before the window ends and end after
# it starts.
OVERLAP = (f'SELECT {_COLUMNS} FROM "public"."Booking" WHERE ("public"."Booking"."userId" = $1 AND '
           '"public"."Booking"."startTime" <= $2 AND "public"."Booking"."endTime" >= $3) OFFSET $4')
BOOKING = ("public", "Booking")


def _values(conn: psycopg.Connection[Any], query: str, nparams: int,
            shares: list[QualShare] | None = None) -> dict[str, str | None]:
    catalog = read_catalog(conn)
    [main, *_] = valued(bind(query, catalog), catalog, nparams, shares=shares).scenarios
    return main.values


def test_prismas_enum_list_is_planned_with_a_status_per_position(conn: psycopg.Connection[Any]) -> None:
    """(a) Each $n of the list its own status: the common ones first, as a list of statuses names them; from the
    share pg_qualstats saw the list keep, the set of statuses whose shares add up to it. Was 'accepted' (or the
    sampled row's status) at every position: a plan for a call that reads one status."""
    build(conn)
    busy = _values(conn, BUSY, 7)
    assert [busy["$4"], busy["$5"], busy["$6"]] == ["accepted", "cancelled", "pending"], busy
    kept = QualShare(BOOKING, "status", "=", executions=10_000, filtered=500)     # 95% of the rows kept
    busy = _values(conn, BUSY, 7, shares=[kept])
    assert [busy["$4"], busy["$5"], busy["$6"]] == ["accepted", "cancelled", "pending"], busy
    upcoming = _values(conn, UPCOMING, 6, shares=[QualShare(BOOKING, "status", "=", 10_000, 1_500)])
    assert {upcoming["$3"], upcoming["$4"]} == {"accepted", "pending"}, upcoming       # 85%: 80% + 5%


def test_a_bound_boolean_is_planned_with_the_value_most_rows_hold(conn: psycopg.Connection[Any]) -> None:
    """(b) ``"paid" = $2``: 95% of the bookings are unpaid; the middle of a flag's two common values was 't'."""
    build(conn)
    assert _values(conn, UNPAID, 4)["$2"] == "f"


def test_a_window_over_start_and_end_is_a_window(conn: psycopg.Connection[Any]) -> None:
    """(c) ``"startTime" >= $2 AND "endTime" <= $3``: the lower end was the 99th-percentile start, the upper the
    1st-percentile end, years before it; the planner then finds no row. Now one window holding about 1% of the
    bookings, in both forms Cal.com writes (inside the window, overlapping it)."""
    build(conn)
    busy = _values(conn, BUSY, 7)
    start, end = (datetime.fromisoformat(str(busy[p])) for p in ("$2", "$3"))
    assert start < end, busy
    inside = conn.execute('SELECT count(*) FROM "Booking" WHERE "startTime" >= %s AND "endTime" <= %s',
                          (start, end)).fetchone()
    assert inside is not None and 0.002 * BOOKINGS < inside[0] < 0.05 * BOOKINGS, (inside, busy)
    overlap = _values(conn, OVERLAP, 4)
    before, after = (datetime.fromisoformat(str(overlap[p])) for p in ("$2", "$3"))
    assert after < before, overlap          # ends after $3, starts before $2: the window [$3, $2]
    met = conn.execute('SELECT count(*) FROM "Booking" WHERE "startTime" <= %s AND "endTime" >= %s',
                       (before, after)).fetchone()
    assert met is not None and 0.002 * BOOKINGS < met[0] < 0.05 * BOOKINGS, (met, overlap)


def _proposal(name: str, columns: list[str]) -> IndexSuggestion:
    keys = ", ".join(f'"{c}"' for c in columns)
    return IndexSuggestion("public", "Booking", name, columns, [False] * len(columns),
                           f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON public."Booking" ({keys})',
                           f'DROP INDEX CONCURRENTLY IF EXISTS public."{name}"', 'ANALYZE public."Booking"',
                           "serves 1 statement")


@pytest.mark.needs_hypopg
def test_the_review_keeps_the_index_of_a_hosts_unpaid_list(conn: psycopg.Connection[Any]) -> None:
    """The review plans a statement with the values valued() chose: pg_qualstats' host (it keeps no constant for
    a boolean, which the planner makes ``paid`` / ``NOT paid``) and, from the statistics, the flag. With 't' (5%
    of the bookings) the custom plan read this host's 200 bookings through Booking_userId_idx and sorted them
    (cost 528), the generic plan walked ("userId", "startTime") backwards (122), and the review withdrew the index
    the app's calls (paid = false: cost 39 through it) take. Valued 'f', the custom plan takes it too."""
    build(conn)
    catalog = read_catalog(conn)
    host = [QualConstant(BOOKING, "userId", "=", "50", occurrences=40)]
    found = valued(bind(UNPAID, catalog), catalog, 4, constants=host, rows_per_call=10)    # a page of ten
    assert (found.scenarios[0].values["$1"], found.params[1].source) == ("50", ValueSource.STATS), found
    name = "Booking_userId_startTime_idx"
    statement = AnalyzedStatement(1, UNPAID, 500, 5.0, cost_before=400.0, cost_after=40.0, indexes=[name],
                                  scenarios=[s.as_dict() for s in found.scenarios])
    advice = Advice(Method.HYPOPG, indexes=[_proposal(name, ["userId", "startTime"])], statements=[statement])
    generic_plans.review(conn, catalog, advice)
    assert [ix.name for ix in advice.indexes] == [name], advice.hints
    assert advice.hints == []


@pytest.mark.needs_hypopg
@pytest.mark.parametrize("query, nparams", [(UPCOMING, 6), (OVERLAP, 4)], ids=["upcoming", "overlap"])
def test_the_review_keeps_a_proposal_an_existing_index_leads_on_a_near_tie(conn: psycopg.Connection[Any],
                                                                           query: str, nparams: int) -> None:
    """g10 (MEDIUM): host 50's custom plan of the upcoming list bitmap-scanned Booking_userId_idx (cost 531)
    where host 100's took the proposed ("userId", "startTime") (443): a near tie. The generic plan took the
    proposal, and the review withdrew it for host 50 only. A plan through ("userId") reads every row one through
    ("userId", "startTime") reads: the generic plan there is no risk, and the proposal stays."""
    build(conn)
    catalog = read_catalog(conn)
    host = [QualConstant(BOOKING, "userId", "=", "50", occurrences=40)]
    found = valued(bind(query, catalog), catalog, nparams, constants=host, rows_per_call=10)
    name = "Booking_userId_startTime_idx"
    statement = AnalyzedStatement(1, query, 500, 5.0, cost_before=600.0, cost_after=120.0, indexes=[name],
                                  scenarios=[s.as_dict() for s in found.scenarios])
    advice = Advice(Method.HYPOPG, indexes=[_proposal(name, ["userId", "startTime"])], statements=[statement])
    generic_plans.review(conn, catalog, advice)
    assert [ix.name for ix in advice.indexes] == [name], advice.hints
    # Not led by an index the custom plans read ((startTime, endTime, status) for the unpaid list): still a risk.
    found = valued(bind(UNPAID, catalog), catalog, 4, constants=host, rows_per_call=10)
    name = "Booking_userId_paid_idx"
    statement = AnalyzedStatement(1, UNPAID, 500, 5.0, cost_before=600.0, cost_after=120.0, indexes=[name],
                                  scenarios=[s.as_dict() for s in found.scenarios])
    advice = Advice(Method.HYPOPG, indexes=[_proposal(name, ["userId", "paid"])], statements=[statement])
    generic_plans.review(conn, catalog, advice)
    assert advice.indexes == [] and "withdrawn" in advice.hints[0], advice.hints


@pytest.mark.needs_hypopg
def test_suggest_on_the_calcom_shaped_app_keeps_a_host_leading_index(conn: psycopg.Connection[Any], db: str) -> None:
    """The whole of suggest, on the app's own calls (pg_qualstats' constants dropped: the statistics alone choose,
    as on a server without it): the busy-times lookup, the hottest, is served by a userId-leading index that the
    generic-plan review keeps, planned with three statuses, a week-wide window and unpaid bookings."""
    build(conn)
    workload(db)
    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_qualstats'").fetchone():
        conn.execute("SELECT pg_qualstats_reset()")
    advice = api.suggest(conn, api.SuggestOptions(constraints=False)).indexes
    assert not [h for h in advice.hints if "withdrawn" in h], advice.hints
    [busy] = [st for st in advice.statements if st.query == BUSY]
    values = busy.scenarios[0]["values"]
    assert len({values["$4"], values["$5"], values["$6"]}) == 3, values
    assert values["$2"] < values["$3"], values
    chosen = {ix.name: ix for ix in advice.indexes}
    assert busy.indexes and all(chosen[n].columns[0] == "userId" for n in busy.indexes), (busy.indexes, chosen)
    [unpaid] = [st for st in advice.statements if st.query == UNPAID]
    assert unpaid.scenarios[0]["values"]["$2"] in ("f", "false"), unpaid.scenarios
