"""An OpenPanel-shaped notifications table (p35): a project's notifications, skewed over its projects.

OpenPanel (open-source analytics, Prisma) keeps a ``notifications`` row per rule match: ``projectId``, a title
and message, ``sendToApp``/``sendToEmail`` flags, ``isReadAt``, ``createdAt``; the schema declares no index on
it but the primary key. Its notifications page lists a project's newest first (``findMany`` ordered by
``createdAt`` desc, ``take``). A few projects hold most of the rows: here 4,000 projects, 5 of them 70%.
The app's calls go through Prisma's engine as named prepared statements, so from the sixth call on the server
may run a statement's generic plan. In ``createdAt`` order on disk (as the app inserts them) the planner walks a
``("createdAt")`` index for a big project's page rather than one led by ``"projectId"``; in no order (as after
a bulk copy) it takes the latter for big and small projects alike.
"""

from __future__ import annotations

import random
from typing import Any

import psycopg

from pgtune.capture import reset_counters

from .helpers import all_visible

PROJECTS = 4_000
BIG = 5                 # projects p1..p5 hold BIG_SHARE of the rows
BIG_SHARE = 0.7
ROWS = 150_000

SCHEMA = """
CREATE TABLE "projects" ("id" TEXT PRIMARY KEY, "name" TEXT NOT NULL);
CREATE TABLE "notifications" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    "projectId" TEXT NOT NULL REFERENCES "projects" ("id") ON DELETE CASCADE,
    "title" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "isReadAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sendToApp" BOOLEAN NOT NULL DEFAULT false,
    "sendToEmail" BOOLEAN NOT NULL DEFAULT false,
    "integrationId" UUID,
    "notificationRuleId" UUID,
    "payload" JSONB);
"""

DATA = f"""
INSERT INTO "projects" SELECT 'p' || g, 'Project ' || g FROM generate_series(1, {PROJECTS}) g;
INSERT INTO "notifications" ("projectId", "title", "message", "isReadAt", "createdAt", "updatedAt", "sendToApp",
                             "sendToEmail")
SELECT 'p' || CASE WHEN g % 10 < {round(BIG_SHARE * 10)} THEN 1 + g % {BIG}
                   ELSE {BIG + 1} + (g * 7919) % {PROJECTS - BIG} END,
       'Rule matched', 'An event matched the rule of this project: ' || g,
       CASE WHEN g % 3 = 0 THEN NULL ELSE timestamp '2026-01-01' + g * interval '3 minutes' END,
       timestamp '2026-01-01' + {{created}} * interval '2 minutes',
       timestamp '2026-01-01' + g * interval '2 minutes',
       g % 4 <> 0, g % 2 = 0
FROM generate_series(1, {ROWS}) g;
"""

_COLUMNS = ('"public"."notifications"."id", "public"."notifications"."projectId", "public"."notifications"."title", '
            '"public"."notifications"."message", "public"."notifications"."isReadAt", '
            '"public"."notifications"."createdAt", "public"."notifications"."sendToApp"')
# The notifications page (trpc notification.list): a project's newest first, ``take: 5000``.
LIST = (f'SELECT {_COLUMNS} FROM "public"."notifications" WHERE "public"."notifications"."projectId" = $1 '
        'ORDER BY "public"."notifications"."createdAt" DESC LIMIT $2 OFFSET $3')
# A project's in-app notifications (the ones a rule sends to the app).
IN_APP = ('SELECT "public"."notifications"."id", "public"."notifications"."createdAt" FROM "public"."notifications" '
          'WHERE ("public"."notifications"."projectId" = $1 AND "public"."notifications"."sendToApp" = $2) '
          'OFFSET $3')
# A project's unread notifications, newest first (the unread badge OpenPanel's table has commented out), and the
# read mark an inbox writes.
UNREAD = (f'SELECT {_COLUMNS} FROM "public"."notifications" WHERE ("public"."notifications"."projectId" = $1 AND '
          '"public"."notifications"."isReadAt" IS NULL) ORDER BY "public"."notifications"."createdAt" DESC '
          'LIMIT $2 OFFSET $3')
MARK_READ = 'UPDATE "public"."notifications" SET "isReadAt" = $1 WHERE "public"."notifications"."id" = $2'
# The latest notifications across projects (a worker's sweep of the last hours).
RECENT = (f'SELECT {_COLUMNS} FROM "public"."notifications" WHERE "public"."notifications"."createdAt" >= $1 '
          'ORDER BY "public"."notifications"."createdAt" DESC LIMIT $2 OFFSET $3')


def build(conn: psycopg.Connection[Any], *, in_order: bool = True) -> None:
    """The tables, their rows in ``createdAt`` order on disk (as the app inserts them) or in none."""
    conn.execute("SELECT setseed(0.35)")
    conn.execute(SCHEMA)
    conn.execute(DATA.format(created="g" if in_order else f"(g * 7919 % {ROWS})"))
    # Statistics from every row (a sample of 300 x 500 rows): the same estimates, and plans, run after run.
    conn.execute("SET default_statistics_target = 500")
    conn.execute('VACUUM ANALYZE "projects", "notifications"')
    conn.execute("RESET default_statistics_target")
    all_visible(conn, "notifications")     # as autovacuum leaves it: index-only scans priced alike, run after run
    reset_counters(conn)


def big(n: int) -> str:
    return f"p{1 + n % BIG}"


def small(n: int) -> str:
    return f"p{BIG + 1 + (n * 31) % (PROJECTS - BIG)}"


def workload(dsn: str, seed: int = 35, connections: int = 6) -> None:
    """The app's calls as Prisma's engine sends them: named prepared statements, each connection of its pool
    with its own cache (so each plans a statement for its values five times, then may run the generic plan).
    60% of the page's calls are for a big project, 40% for small ones."""
    r = random.Random(seed)
    pool = [psycopg.connect(dsn, autocommit=True, cursor_factory=psycopg.RawCursor) for _ in range(connections)]
    try:
        def call(query: str, params: tuple[Any, ...]) -> None:
            pool[r.randrange(connections)].execute(query, params, prepare=True).fetchall()

        def project(share: float = 0.6) -> str:
            return big(r.randrange(BIG)) if r.random() < share else small(r.randrange(10_000))

        for n in range(60):
            call(LIST, (project(1.0 if n < 30 else 0.2), 5000, 0))
            call(IN_APP, (project(), True, 0))
        for _ in range(20):
            call(RECENT, ("2026-07-01", 100, 0))
    finally:
        for c in pool:
            c.close()
