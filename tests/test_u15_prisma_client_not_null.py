"""No NOT NULL where the workload is Prisma Client's, even with no _prisma_migrations (u15).

A Prisma database deployed with `prisma db push` has no migration ledger, so
pgtune took it for an ordinary one and proposed, at medium confidence and into
the migration with --constraints, SET NOT NULL on Formbricks' optional
"customHeadScriptsMode" (`SurveyScriptMode? @default(add)`), which the
application may set to NULL. The statements' shape tells Prisma Client: a
three-part quoted column name.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.api import SuggestOptions, suggest

from .helpers import run, steady_state

SCHEMA = """
CREATE TYPE "SurveyScriptMode" AS ENUM ('add', 'replace');
CREATE TABLE "Survey" ("id" TEXT NOT NULL, "workspaceId" TEXT NOT NULL,
    "customHeadScriptsMode" "SurveyScriptMode" DEFAULT 'add', CONSTRAINT "Survey_pkey" PRIMARY KEY ("id"));
INSERT INTO "Survey" SELECT 'c' || md5(i::text), 'w' || (i % 50), 'add' FROM generate_series(1, 5000) i;
ANALYZE "Survey";
"""
PRISMA = ('SELECT "public"."Survey"."id" FROM "public"."Survey" WHERE "public"."Survey"."workspaceId" = %s '
          'LIMIT %s OFFSET %s')
HAND = 'SELECT id FROM "Survey" WHERE "workspaceId" = %s LIMIT %s OFFSET %s'


def _not_null(conn: psycopg.Connection[Any], query: str) -> tuple[list[str], list[str]]:
    run(conn, query, [(f"w{i}", 10, 0) for i in range(5)], times=5)
    result = suggest(conn, SuggestOptions())
    return ([c.name for c in result.constraints.constraints if c.kind == "not-null"],
            [n for n in result.constraints.notes if n.startswith("not-null:")])


def test_prisma_clients_statements_get_no_not_null(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    steady_state(conn)
    proposed, notes = _not_null(conn, PRISMA)
    assert not proposed and notes and "Survey.customHeadScriptsMode" in notes[0], (proposed, notes)


def test_other_statements_keep_the_proposal(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    steady_state(conn)
    proposed, notes = _not_null(conn, HAND)
    assert proposed == ["Survey_customHeadScriptsMode_not_null"] and not notes, (proposed, notes)
