"""health's Prisma advice said "remove the line" once per finding: an index both overlapping and unused got two
identical-looking lines (c26, LOW). One line per index, the one that names its keeper."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from pgtune.prisma.advice import Fit

from .prisma_order import order_health


def test_an_index_with_two_findings_gets_one_removal_line(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    report, _ = order_health(conn, tmp_path, ["userId", "userId, date"],
                             [("Order_userId_idx", "userId"), ("Order_userId_date_idx", "userId, date")],
                             ["overlapping-index", "unused-index"])
    checks = sorted(str(f.check) for f in report.findings if f.index == "Order_userId_idx")
    assert len(checks) == 2, report.findings          # overlapping and unused: two findings, one index
    assert report.prisma is not None
    removals = [p for p in report.prisma.proposals if p.fit == Fit.REMOVE and p.name == "Order_userId_idx"]
    assert len(removals) == 1, [p.note for p in removals]
    assert "Order_userId_date_idx" in removals[0].note or "@@index([userId])" in removals[0].note, removals[0].note
