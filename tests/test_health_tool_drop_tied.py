"""health in a migration tool's layout drops no index whose stand-in a pgtune migration built (p18, Cal.com-shaped).

suggest's migration built ("userId", "startTime") on Booking beside the app's
Booking_userId_idx (kept: Prisma made it). health then found Booking_userId_idx
overlapped and, with --layout prisma, wrote its drop for Prisma to run. pgtune's
history never heard of that drop, so a rollback of the suggest migration dropped
its index as well, and the busy times' "userId" = $1 (and the foreign key to
users) had no index left: 17 -> 713 ms a call on p18's 1.5M bookings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune import api, plan
from pgtune.health import build_migration

from .helpers import emitted


@pytest.mark.needs_hypopg
def test_a_tool_layout_keeps_an_index_a_pgtune_migration_stands_in_for(conn: psycopg.Connection[Any],
                                                                      tmp_path: Path) -> None:
    conn.execute("CREATE TABLE users (id int PRIMARY KEY)")
    conn.execute("INSERT INTO users SELECT g FROM generate_series(1, 2000) g")
    conn.execute('CREATE TABLE "Booking" (id int PRIMARY KEY, "userId" int REFERENCES users ON DELETE CASCADE, '
                 '"startTime" timestamp(3) NOT NULL)')
    conn.execute('INSERT INTO "Booking" SELECT g, 1 + g % 2000, timestamp \'2025-01-01\' + g * interval \'1 minute\' '
                 "FROM generate_series(1, 100000) g")
    conn.execute('CREATE INDEX "Booking_userId_idx" ON "Booking" ("userId")')
    conn.execute("ANALYZE")
    query = ('SELECT id FROM "Booking" WHERE "userId" = 42 AND "startTime" >= \'2025-02-01\' '
             'ORDER BY "startTime" LIMIT 10;')
    result = emitted(conn, tmp_path / "m", query, drop_replaced=False)
    assert result.migration is not None
    api.apply(conn, tmp_path / "m")
    report = api.health(conn, only=["overlapping-index"])
    [f] = report.findings
    assert f.index == "Booking_userId_idx" and f.evidence["keeper_built_by"] == result.migration.id, f.message
    for layout in (plan.Layout.PRISMA, plan.Layout.GOLANG_MIGRATE, plan.Layout.FLYWAY):
        built = build_migration(conn, report, layout=layout)
        drops = [e.name for m in [built.migration] if m is not None for p in m.phases for e in p.existing]
        assert "Booking_userId_idx" not in drops, (layout, drops)
        assert any(line.startswith("overlapping-index on Booking_userId_idx: kept") and result.migration.id in line
                   for line in built.left_out), built.left_out
    # pgtune's own layout still drops it: its rollback refuses while the drop stands.
    own = build_migration(conn, report).migration
    assert own is not None and [e.name for p in own.phases for e in p.existing] == ["Booking_userId_idx"]
