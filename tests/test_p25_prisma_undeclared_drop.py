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

from .prisma_order import order_health


def test_an_undeclared_index_is_not_the_prisma_migrations(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    report, prisma = order_health(conn, tmp_path, ["userId, date"],
                                  [("Order_userId_date_idx", "userId, date"), ("order_userid_date_dba", "userId, date"),
                                   ("Order_userId_idx", "userId")], ["duplicate-index", "overlapping-index"])
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
    report = api.health(conn, only=["unused-index"], min_stats_age_s=0, prisma=prisma)
    declared = [f for f in report.findings if f.index == "Order_userId_date_idx"]
    assert declared and declared[0].evidence.get("owned_by") == "Prisma Migrate", report.findings
