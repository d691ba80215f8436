"""An empty migration ledger made no index (p28).

On a Typebot-shaped database with an empty ``_prisma_migrations`` (the table
stands, no migration of Prisma's ever ran), health called an unused index on a
detached partition of the partitioned "Log" "the application's Prisma Migrate
migrations made it", and left its drop out of pgtune's migration. Prisma never
makes a partition's index, and an empty ledger is no migration's. With a
deployed migration in the ledger the claim stands as before.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune import api

from .test_layouts import PRISMA_LEDGER

LOG = """
CREATE TABLE "Log" (id bigint NOT NULL, "createdAt" timestamptz NOT NULL, description text)
    PARTITION BY RANGE ("createdAt");
CREATE TABLE "Log_2026_08" PARTITION OF "Log" FOR VALUES FROM ('2026-08-01') TO ('2026-09-01');
CREATE TABLE "Log_2026_09" PARTITION OF "Log" FOR VALUES FROM ('2026-09-01') TO ('2026-10-01');
CREATE INDEX "Log_createdAt_idx" ON "Log" ("createdAt");
INSERT INTO "Log" SELECT g, '2026-08-01'::timestamptz + g * interval '1 minute', 'x'
FROM generate_series(1, 80000) AS g;
ALTER TABLE "Log" DETACH PARTITION "Log_2026_08";
ANALYZE;
"""


def _claimed(conn: psycopg.Connection[Any]) -> list[str]:
    report = api.health(conn, only=["unused-index"], min_stats_age_s=0)
    found = [f for f in report.findings if f.table == "Log_2026_08"]
    assert found, report.findings
    return [f.message for f in found if f.evidence.get("owned_by") or "Prisma Migrate" in f.message]


def test_an_empty_ledger_made_no_detached_partitions_index(conn: psycopg.Connection[Any]) -> None:
    conn.execute(PRISMA_LEDGER)
    conn.execute(LOG)
    assert _claimed(conn) == []          # main: "(the application's Prisma Migrate migrations made it: …)"
    conn.execute("INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count) "
                 "VALUES ('1', 'c', now(), '20260101000000_init', 1)")
    assert _claimed(conn)                # a deployed migration: the application's, as before
