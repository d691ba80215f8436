"""The Prisma not-null note names its columns (u4's F3 on formbricks).

On a formbricks-shaped database suggest said "1 NULL-able column(s) hold no
NULL, but each is an optional field": it named none, in the table or the
JSON, so no one could tell which field to make required
("Survey"."customHeadScriptsMode", an optional enum with a DEFAULT).
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.constraints import propose

SCHEMA = """
CREATE TABLE "_prisma_migrations" (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL,
    finished_at timestamptz, migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz,
    started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0);
CREATE TYPE "SurveyScriptMode" AS ENUM ('add', 'replace');
CREATE TABLE "Survey" (id text PRIMARY KEY, name text NOT NULL,
    "customHeadScriptsMode" "SurveyScriptMode" DEFAULT 'add');
INSERT INTO "Survey" SELECT 'sv' || g, 'Survey ' || g, 'add' FROM generate_series(1, 3000) g;
ANALYZE "Survey";
"""


def test_the_prisma_not_null_note_names_the_columns(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    advice = propose(conn)
    assert not [p for p in advice.constraints if p.kind == "not-null"]
    [note] = [n for n in advice.notes if n.startswith("not-null:")]
    assert "(Survey.customHeadScriptsMode)" in note, note
