"""A share pg_qualstats saw a qual keep names a value only when a call checked about the whole table (t40).

Papermark counts a data room's views as Prisma sends it: ``"dataroomId" = $1 AND "isArchived" = $2 AND
"viewType" = CAST($3::text AS "ViewType")``. The cast keeps pg_qualstats from recording the value; it records the
rows the qual read and kept. Those rows are the ones View_dataroomId_idx found, all DATAROOM_VIEW: the qual kept
100% of them. pgtune read 100% as the table's frequency and planned the count with DOCUMENT_VIEW (85% of the
table), a value matching none of the room's rows: verify timed 0.017 ms against 268.7 ms and said 15,804.9x.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import Options, ValueSource
from pgtune.snapshot import read_shares

from .helpers import suggest

# mfts/papermark's View (prisma/schema/schema.prisma), condensed: the views of a data room are DATAROOM_VIEW, a
# document link's DOCUMENT_VIEW; @@index([dataroomId]) is Prisma's View_dataroomId_idx.
SCHEMA = """
CREATE TYPE "ViewType" AS ENUM ('DOCUMENT_VIEW', 'DATAROOM_VIEW');
CREATE TABLE "View" (
    id text PRIMARY KEY, "linkId" text NOT NULL, "dataroomId" text,
    "viewedAt" timestamp(3) NOT NULL DEFAULT now(), "isArchived" boolean NOT NULL DEFAULT false,
    "viewType" "ViewType" NOT NULL DEFAULT 'DOCUMENT_VIEW');
INSERT INTO "View" (id, "linkId", "dataroomId", "viewedAt", "isArchived", "viewType")
SELECT 'cv' || g, 'cl' || g % 4000, CASE WHEN g % 20 < 3 THEN 'cd' || (g / 20) % 50 END,
       timestamp '2026-01-01' + g * interval '1 minute', g % 50 = 5,
       CASE WHEN g % 20 < 3 THEN 'DATAROOM_VIEW' ELSE 'DOCUMENT_VIEW' END::"ViewType"
FROM generate_series(1, 100000) g;
CREATE INDEX "View_dataroomId_idx" ON "View" ("dataroomId");
"""
# prisma.view.count({ where: { dataroomId, isArchived: false, viewType: "DATAROOM_VIEW" } })
ROOM_VIEWS = ('SELECT COUNT(*) AS "_count$_all" FROM (SELECT "public"."View"."id" FROM "public"."View" WHERE '
              '("public"."View"."dataroomId" = %s AND "public"."View"."isArchived" = %s AND '
              '"public"."View"."viewType" = CAST(%s::text AS "public"."ViewType")) OFFSET %s) AS "sub"')


@pytest.mark.needs_qualstats
def test_a_share_of_rows_an_index_narrowed_names_no_value_of_the_table(
        db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    conn.execute('VACUUM ANALYZE "View"')
    conn.execute("SELECT pg_stat_statements_reset(), pg_qualstats_reset()")
    with psycopg.connect(db, autocommit=True) as app:      # server-side prepared, as Prisma: generic after 5
        for room in range(0, 50, 4):
            app.execute(ROOM_VIEWS, (f"cd{room}", False, "DATAROOM_VIEW", 0), prepare=True).fetchall()
    [share] = [s for per in read_shares(conn).values() for s in per if s.column == "viewType"]
    rows = conn.execute('SELECT count(*) FROM "View" WHERE "dataroomId" = %s', ("cd0",)).fetchone()
    assert share.kept == 1.0 and rows is not None and share.per_call == pytest.approx(rows[0], rel=0.1), share
    [count] = [s for s in suggest(conn, options=Options(min_rows=100)).statements if '"_count$_all"' in s.query]
    source = {p.param: p.source for p in count.params}
    # Before: DOCUMENT_VIEW (qualstats-share), the value whose table-wide 85% is nearest the 100% the qual kept.
    assert count.values.get("$3") in (None, "DATAROOM_VIEW"), count.params
    assert source["$3"] != ValueSource.QUALSTATS_SHARE, count.params
