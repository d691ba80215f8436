"""The share of rows a qual without its constant kept counts for the partitioned table the statement names (k37).

pg_qualstats keeps a qual per partition the plan scans (lrelid: the partition). x36 mapped the constants it saw to
the partitioned table; the shares (sql/qualstats_shares.sql: a generic plan's ``type = $1``, the rows it read and
threw away) were still per partition, matched no table the statement names, and the value came from the
statistics (the most common type) instead of the one whose frequency is the share the qual kept.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import Options, ValueSource
from pgtune.snapshot import read_shares

from .helpers import suggest
from .test_x36_partition_constants import AUDIT_LOG

# x36's Documenso audit log by month, its types skewed as a signing app's are: opened often, completed rarely (5%).
SKEWED = AUDIT_LOG + """
UPDATE "DocumentAuditLog" SET type = CASE WHEN substr(id, 4)::int % 20 = 0 THEN 'DOCUMENT_COMPLETED'
    WHEN substr(id, 4)::int % 20 < 4 THEN 'DOCUMENT_SENT' WHEN substr(id, 4)::int % 20 < 10 THEN 'EMAIL_SENT'
    ELSE 'DOCUMENT_OPENED' END;
ANALYZE "DocumentAuditLog";
"""
COMPLETED = 'SELECT count(*) FROM "DocumentAuditLog" WHERE type = %s'


@pytest.mark.needs_qualstats
def test_a_generic_plans_share_on_a_partitioned_table_is_its_own(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(SKEWED)
    conn.execute("SELECT pg_stat_statements_reset(), pg_qualstats_reset()")
    with psycopg.connect(db, autocommit=True) as app:
        app.execute("SET plan_cache_mode = force_generic_plan")    # the value never reaches pg_qualstats
        for _ in range(20):
            app.execute(COMPLETED, ("DOCUMENT_COMPLETED",), prepare=True).fetchall()
    kept = conn.execute("SELECT count(DISTINCT lrelid) FROM pg_qualstats() WHERE constvalue IS NULL").fetchone()
    assert kept is not None and kept[0] == 3, kept      # per partition scanned, never the partitioned table
    shares = [s for per in read_shares(conn).values() for s in per if s.column == "type"]
    assert [s.table for s in shares] == [("public", "DocumentAuditLog")], shares
    assert shares[0].kept == pytest.approx(0.05, abs=0.001), shares
    [completed] = [s for s in suggest(conn, options=Options(min_rows=100)).statements if "count(" in s.query]
    assert completed.values["$1"] == "DOCUMENT_COMPLETED", completed.params
    assert {p.param: p.source for p in completed.params}["$1"] == ValueSource.QUALSTATS_SHARE
