"""A small document-signing app as Prisma 6 and Kysely write it, for issue 23's value and advice tests.

Quoted camelCase, enums compared through casts (``"status" = CAST($1::text AS
"public"."DocumentStatus")``), Prisma's ``1=1``, Kysely's ``select 1 as "one"``,
``not:`` as ``<>`` / ``NOT IN``, ILIKE search, ``= ANY($1)``, a count over
``OR EXISTS``, LIMIT/OFFSET pagination. The statements go through the extended
protocol with their ``$n`` bound (psycopg's RawCursor), on an application
connection of their own, so pg_stat_statements normalizes them (literals become
``$n`` too) and pg_qualstats samples them as the real application's.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from pgtune.capture import reset_counters

SCHEMA = """
CREATE TYPE "DocumentStatus" AS ENUM ('DRAFT', 'PENDING', 'COMPLETED', 'REJECTED');
CREATE TYPE "SigningStatus" AS ENUM ('NOT_SIGNED', 'SIGNED', 'REJECTED');
CREATE TABLE "AvatarImage" (id text PRIMARY KEY, bytes text NOT NULL);
CREATE TABLE "Organisation" (id serial PRIMARY KEY, name text NOT NULL,
    "avatarImageId" text REFERENCES "AvatarImage" (id) ON DELETE SET NULL);
CREATE INDEX "Organisation_avatarImageId_idx" ON "Organisation" ("avatarImageId");
CREATE TABLE "Team" (id serial PRIMARY KEY, name text NOT NULL, url text NOT NULL,
    "avatarImageId" text REFERENCES "AvatarImage" (id) ON DELETE SET NULL);
CREATE TABLE "User" (id serial PRIMARY KEY, email text NOT NULL UNIQUE, name text,
    "createdAt" timestamp(3) NOT NULL DEFAULT now(),
    "avatarImageId" text REFERENCES "AvatarImage" (id) ON DELETE SET NULL);
CREATE TABLE "Webhook" (id serial PRIMARY KEY, "teamId" int, url text NOT NULL);
CREATE TABLE "WebhookCall" (id serial PRIMARY KEY, "webhookId" int REFERENCES "Webhook" (id) ON DELETE CASCADE,
    "retryOfId" int REFERENCES "WebhookCall" (id) ON DELETE SET NULL, body text NOT NULL);
CREATE TABLE "Document" (id serial PRIMARY KEY,
    "userId" int NOT NULL REFERENCES "User" (id) ON DELETE CASCADE,
    "teamId" int REFERENCES "Team" (id) ON DELETE CASCADE, title text NOT NULL,
    status "DocumentStatus" NOT NULL DEFAULT 'DRAFT', "createdAt" timestamp(3) NOT NULL DEFAULT now(),
    "deletedAt" timestamp(3));
CREATE TABLE "Recipient" (id serial PRIMARY KEY,
    "documentId" int NOT NULL REFERENCES "Document" (id) ON DELETE CASCADE,
    email text NOT NULL, name text NOT NULL DEFAULT '', token text NOT NULL,
    "signingStatus" "SigningStatus" NOT NULL DEFAULT 'NOT_SIGNED');
CREATE INDEX "Recipient_documentId_idx" ON "Recipient" ("documentId");
"""

DATA = """
INSERT INTO "AvatarImage" SELECT 'img' || g, 'x' FROM generate_series(1, 300) g;
INSERT INTO "Organisation" (name, "avatarImageId") SELECT 'org ' || g, 'img' || g FROM generate_series(1, 300) g;
INSERT INTO "Team" (name, url, "avatarImageId")
SELECT 'team ' || g, 'team-' || g, CASE WHEN g % 2 = 0 THEN 'img' || (g % 300 + 1) END
FROM generate_series(1, 3000) g;
INSERT INTO "User" (email, name, "createdAt", "avatarImageId")
SELECT 'user' || g || '@example.com', 'User ' || g, now() - g * interval '1 hour',
       CASE WHEN g % 3 = 0 THEN 'img' || (g % 300 + 1) END
FROM generate_series(1, 6000) g;
INSERT INTO "Webhook" ("teamId", url) SELECT g, 'https://hooks.example.com/' || g FROM generate_series(1, 2000) g;
INSERT INTO "WebhookCall" ("webhookId", body) SELECT 1 + g % 2000, 'payload' FROM generate_series(1, 20000) g;
INSERT INTO "Document" ("userId", "teamId", title, status, "createdAt", "deletedAt")
SELECT 1 + (g::bigint * 7919) % 6000, CASE WHEN g % 3 = 0 THEN 1 + g % 3000 END,
       'Contract ' || g || ' ' || md5(g::text),
       (CASE WHEN g % 100 = 0 THEN 'REJECTED' WHEN g % 20 = 1 THEN 'PENDING' WHEN g % 10 = 2 THEN 'DRAFT'
             ELSE 'COMPLETED' END)::"DocumentStatus",
       now() - g * interval '1 minute', CASE WHEN g % 50 = 0 THEN now() END
FROM generate_series(1, 80000) g;
INSERT INTO "Recipient" ("documentId", email, name, token, "signingStatus")
SELECT 1 + g % 80000, 'user' || (1 + (g::bigint * 31) % 6000) || '@example.com', 'R ' || g, md5(g::text),
       (CASE WHEN g % 4 = 0 THEN 'NOT_SIGNED' WHEN g % 50 = 1 THEN 'REJECTED' ELSE 'SIGNED' END)::"SigningStatus"
FROM generate_series(1, 90000) g;
"""

USERS, TEAMS, DOCUMENTS, RECIPIENTS = 6000, 3000, 80000, 90000


@dataclass(frozen=True)
class Statement:
    name: str
    sql: str                                         # $n placeholders, bound by the server
    params: Callable[[random.Random], tuple[Any, ...]]
    calls: int


def _token(r: random.Random) -> str:
    return hashlib.md5(str(r.randint(1, RECIPIENTS)).encode()).hexdigest()


def _email(r: random.Random) -> str:
    return f"user{r.randint(1, USERS)}@example.com"


BY_STATUS = ('SELECT "public"."Document"."id", "public"."Document"."title" FROM "public"."Document" WHERE '
             '("public"."Document"."status" = CAST($1::text AS "public"."DocumentStatus") AND 1=1) '
             'ORDER BY "public"."Document"."createdAt" DESC LIMIT $2 OFFSET $3')
BY_STATUS_TYPED = ('select "Document"."id" from "Document" where "Document"."userId" = $1 '
                   'and "Document"."status" = $2::"DocumentStatus" order by "Document"."createdAt" desc limit $3')
COUNT_OR_EXISTS = ('SELECT COUNT(*) FROM (SELECT "public"."Document"."id" FROM "public"."Document" WHERE '
                   '(("public"."Document"."userId" = $1 OR EXISTS(SELECT "t0"."id" FROM "public"."Recipient" AS "t0" '
                   'WHERE "t0"."documentId" = "public"."Document"."id" AND "t0"."email" = $2)) '
                   'AND "public"."Document"."deletedAt" IS NULL) OFFSET $3) AS "sub"')
JSON_FILTER = ('SELECT "public"."Document"."id" FROM "public"."Document" WHERE "public"."Document"."userId" = $1 '
               'AND md5("public"."Document"."title") = $2')


def statements() -> list[Statement]:
    return [
        Statement("documents by status (an enum through a cast, 1=1)", BY_STATUS,
                  lambda r: ("REJECTED", 10, 0), 40),
        Statement("a user's documents, not: DRAFT",
                  'SELECT "public"."Document"."id" FROM "public"."Document" WHERE ("public"."Document"."userId" = $1 '
                  'AND "public"."Document"."status" <> CAST($2::text AS "public"."DocumentStatus") AND '
                  '"public"."Document"."deletedAt" IS NULL) ORDER BY "public"."Document"."createdAt" DESC '
                  'LIMIT $3 OFFSET $4', lambda r: (r.randint(1, USERS), "DRAFT", 20, 0), 40),
        Statement("a team's documents, notIn",
                  'SELECT "public"."Document"."id" FROM "public"."Document" WHERE ("public"."Document"."teamId" = $1 '
                  'AND "public"."Document"."status" NOT IN (CAST($2::text AS "public"."DocumentStatus"),'
                  'CAST($3::text AS "public"."DocumentStatus")))', lambda r: (r.randint(1, TEAMS), "DRAFT", "REJECTED"),
                  30),
        Statement("search titles (ILIKE)",
                  'SELECT "public"."Document"."id" FROM "public"."Document" WHERE ("public"."Document"."userId" = $1 '
                  'AND "public"."Document"."title"::text ILIKE $2) LIMIT $3',
                  lambda r: (r.randint(1, USERS), "%contract 1%", 10), 30),
        Statement("kysely exists (select 1 as one)",
                  'select "Document"."id" from "Document" where "Document"."teamId" = $1 and exists (select 1 as "one" '
                  'from "Recipient" where "Recipient"."documentId" = "Document"."id" and "Recipient"."email" = $2) '
                  'limit $3', lambda r: (r.randint(1, TEAMS), _email(r), 5), 30),
        Statement("count over OR EXISTS", COUNT_OR_EXISTS, lambda r: (r.randint(1, USERS), _email(r), 0), 20),
        Statement("recipients = ANY($1)",
                  'SELECT "public"."Recipient"."id", "public"."Recipient"."email" FROM "public"."Recipient" '
                  'WHERE "public"."Recipient"."token" = ANY($1)', lambda r: ([_token(r) for _ in range(3)],), 30),
        Statement("recipient by token (1=1, LIMIT, OFFSET)",
                  'SELECT "public"."Recipient"."id" FROM "public"."Recipient" WHERE ("public"."Recipient"."token" = $1 '
                  'AND 1=1) LIMIT $2 OFFSET $3', lambda r: (_token(r), 1, 0), 40),
        Statement("kysely select-list parameter, typed enum", BY_STATUS_TYPED,
                  lambda r: (r.randint(1, USERS), "REJECTED", 10), 30),
        Statement("kysely select-list parameter",
                  'select $1 as "kind", "Recipient"."id" from "Recipient" where "Recipient"."email" = $2',
                  lambda r: ("recipient", _email(r)), 20),
        Statement("a function's argument", JSON_FILTER, lambda r: (r.randint(1, USERS), "x"), 10),
    ]


def build(conn: psycopg.Connection[Any]) -> None:
    """Schema and data (about 200,000 rows; no table reaches the 100,000 rows above which pgtune samples
    sizes under a time limit), statistics fresh, counters reset."""
    conn.execute(SCHEMA)
    conn.execute(DATA)
    conn.execute("VACUUM ANALYZE")
    # One observation window for statements and table writes: the bulk load is no workload's write.
    reset_counters(conn)


def run(dsn: str, only: list[str] | None = None, seed: int = 3) -> None:
    """The workload on an application connection of its own ($n bound by the server, never prepared)."""
    rng = random.Random(seed)
    with psycopg.connect(dsn, autocommit=True, prepare_threshold=None, cursor_factory=psycopg.RawCursor) as app:
        for st in statements():
            if only is not None and st.name not in only:
                continue
            for _ in range(st.calls):
                cur = app.execute(st.sql, st.params(rng))
                if cur.description:
                    cur.fetchall()
