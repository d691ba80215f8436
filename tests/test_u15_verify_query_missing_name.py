"""verify --query says when an expected index name names no index (u15).

After a rollback (or with a name in the wrong case), `pgtune verify --query …
--expect-index Display_contactId_pgtune_idx` failed with "expected index not
used …; its plan uses none of this migration's indexes", which reads as a plan
problem when the index is simply not there.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune import api
from pgtune.verify import Verdict

SCHEMA = """
CREATE TABLE "Display" (id text PRIMARY KEY, "contactId" text);
INSERT INTO "Display" SELECT 'd' || g, CASE WHEN g % 2 = 0 THEN 'c' || (g % 5000) END FROM generate_series(1, 20000) g;
CREATE INDEX "Display_contactId_pgtune_idx" ON "Display" ("contactId");
ANALYZE "Display";
"""
QUERY = 'SELECT "public"."Display"."id" FROM "public"."Display" WHERE "public"."Display"."contactId" = \'c42\''


def test_a_name_no_index_has_is_said_so(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    [wrong] = api.verify_query(conn, QUERY, ["display_contactid_pgtune_idx"]).targets
    assert wrong.verdict == Verdict.FAIL
    assert "no index is named display_contactid_pgtune_idx" in wrong.problem, wrong.problem
    [right] = api.verify_query(conn, QUERY, ["Display_contactId_pgtune_idx"]).targets
    assert right.verdict == Verdict.OK and "no index is named" not in right.problem, right.problem
