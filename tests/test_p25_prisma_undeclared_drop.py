"""With --prisma-schema, an index the schema does not declare was still "the application's Prisma migrations'" (p25,
MEDIUM).

On a Ghostfolio-shaped database Prisma manages (its ledger, `_prisma_migrations`, exists), a DBA's duplicate
"order_userid_date_dba" and an incident's "Order_userId_idx" (neither in Ghostfolio's schema.prisma) read, with
`--prisma-schema` given, "the application's Prisma Migrate migrations made it: drop it through them": their drops
were left out of pgtune's own layout ("a drop outside them breaks their own later DROP INDEX of it", which Prisma
never writes for an index its schema does not declare) and the user was sent to remove a schema line that does
not exist. The schema answers who made them: only a declared index is the tool's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from pgtune import api

from .test_layouts import PRISMA_LEDGER

SCHEMA = """datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model Order {
  id     String   @id
  userId String
  date   DateTime

  @@index([userId, date])
}
"""

TABLES = """
CREATE TABLE "Order" (id text PRIMARY KEY, "userId" text NOT NULL, date timestamp(3) NOT NULL);
INSERT INTO "Order" SELECT 'o' || g, 'u' || (g % 500), now() - g * interval '1 minute' FROM generate_series(1, 5000) g;
CREATE INDEX "Order_userId_date_idx" ON "Order" ("userId", date);
CREATE INDEX "order_userid_date_dba" ON "Order" ("userId", date);
CREATE INDEX "Order_userId_idx" ON "Order" ("userId");
ANALYZE "Order";
"""


def test_an_undeclared_index_is_not_the_prisma_migrations(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute(PRISMA_LEDGER)
    conn.execute(TABLES)
    schema = tmp_path / "schema.prisma"
    schema.write_text(SCHEMA)
    report = api.health(conn, only=["duplicate-index", "overlapping-index"], min_stats_age_s=0,
                        prisma=api.PrismaOptions(schema=schema))
    by_index = {f.index: f for f in report.findings}
    assert set(by_index) == {"order_userid_date_dba", "Order_userId_idx"}, report.findings
    # Without the fix: both "owned_by": "Prisma Migrate", "drop it through them", and no DROP in the fix list.
    for name in ("order_userid_date_dba", "Order_userId_idx"):
        assert "owned_by" not in by_index[name].evidence, by_index[name]
        assert "Prisma Migrate migrations made it" not in by_index[name].message, by_index[name].message
    assert sorted(report.fixes) == ['DROP INDEX CONCURRENTLY IF EXISTS "public"."Order_userId_idx"',
                                    'DROP INDEX CONCURRENTLY IF EXISTS "public"."order_userid_date_dba"'], report
    # A declared index, the duplicate's keeper, stays the application's: unused, its drop is left to Prisma.
    conn.execute('DROP INDEX "order_userid_date_dba"')
    report = api.health(conn, only=["unused-index"], min_stats_age_s=0, prisma=api.PrismaOptions(schema=schema))
    declared = [f for f in report.findings if f.index == "Order_userId_date_idx"]
    assert declared and declared[0].evidence.get("owned_by") == "Prisma Migrate", report.findings
