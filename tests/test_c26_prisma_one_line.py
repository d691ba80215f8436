"""health's Prisma advice said "remove the line" once per finding: an index both overlapping and unused got two
identical-looking lines (c26, LOW). One line per index, the one that names its keeper."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from pgtune import api
from pgtune.prisma.advice import Fit

from .test_layouts import PRISMA_LEDGER

SCHEMA = """datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model Order {
  id     String   @id
  userId String
  date   DateTime

  @@index([userId])
  @@index([userId, date])
}
"""

TABLES = """
CREATE TABLE "Order" (id text PRIMARY KEY, "userId" text NOT NULL, date timestamp(3) NOT NULL);
INSERT INTO "Order" SELECT 'o' || g, 'u' || (g % 500), now() - g * interval '1 minute' FROM generate_series(1, 5000) g;
CREATE INDEX "Order_userId_idx" ON "Order" ("userId");
CREATE INDEX "Order_userId_date_idx" ON "Order" ("userId", date);
ANALYZE "Order";
"""


def test_an_index_with_two_findings_gets_one_removal_line(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute(PRISMA_LEDGER)
    conn.execute(TABLES)
    schema = tmp_path / "schema.prisma"
    schema.write_text(SCHEMA)
    report = api.health(conn, only=["overlapping-index", "unused-index"], min_stats_age_s=0,
                        prisma=api.PrismaOptions(schema=schema))
    checks = sorted(str(f.check) for f in report.findings if f.index == "Order_userId_idx")
    assert len(checks) == 2, report.findings          # overlapping and unused: two findings, one index
    assert report.prisma is not None
    removals = [p for p in report.prisma.proposals if p.fit == Fit.REMOVE and p.name == "Order_userId_idx"]
    assert len(removals) == 1, [p.note for p in removals]
    assert "Order_userId_date_idx" in removals[0].note or "@@index([userId])" in removals[0].note, removals[0].note
