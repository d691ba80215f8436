"""pg_qualstats' constants of a statement on a partitioned table count for that table (x36).

Found on a Documenso-shaped database (t36): the audit log is partitioned by month, and the application reads the
recent activity with ``"createdAt" >= $1 AND type = ANY($2)``, always the array ['DOCUMENT_COMPLETED',
'DOCUMENT_SENT', 'DOCUMENT_OPENED']. pg_qualstats saw that array, but keeps a qual per partition the plan scans
(lrelid: the partition); pgtune matched constants to the table the statement names, found none, and planned it
with an invented array ('DOCUMENT_RECIPIENT_COMPLETED', 'DOCUMENT_COMPLETED', 'EMAIL_SENT') from the statistics.
The occurrences of a prepared statement's generic plans, kept per partition too, count for the table alike, so the
few constants such a statement leaves stand for the calls they were seen in only (analyze.coverage).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest

from pgtune.analyze import Options, ValueSource

from .helpers import suggest

# Documenso's shape (documenso/documenso, packages/prisma/schema.prisma: DocumentAuditLog), by month.
AUDIT_LOG = """
CREATE TABLE "DocumentAuditLog" (id text NOT NULL, "envelopeId" text NOT NULL, "createdAt" timestamptz NOT NULL,
                                 type text NOT NULL, PRIMARY KEY (id, "createdAt")) PARTITION BY RANGE ("createdAt");
CREATE TABLE "AuditLog_2026_10" PARTITION OF "DocumentAuditLog" FOR VALUES FROM ('2026-10-01') TO ('2026-11-01');
CREATE TABLE "AuditLog_2026_11" PARTITION OF "DocumentAuditLog" FOR VALUES FROM ('2026-11-01') TO ('2026-12-01');
CREATE TABLE "AuditLog_default" PARTITION OF "DocumentAuditLog" DEFAULT;
INSERT INTO "DocumentAuditLog" SELECT 'log' || g, 'env' || g / 8, timestamptz '2026-10-01' + g * interval '2 minutes',
       (ARRAY['DOCUMENT_CREATED', 'DOCUMENT_SENT', 'EMAIL_SENT', 'DOCUMENT_OPENED', 'DOCUMENT_FIELD_INSERTED',
              'DOCUMENT_RECIPIENT_COMPLETED', 'DOCUMENT_COMPLETED'])[1 + g % 7]
FROM generate_series(1, 60000) AS g;
ANALYZE "DocumentAuditLog";
"""
RECENT = ('SELECT id, type, "createdAt" FROM "DocumentAuditLog" WHERE "createdAt" >= %s AND type = ANY(%s) '
          'ORDER BY "createdAt" DESC LIMIT 10')
ENVELOPE = 'SELECT id, type FROM "DocumentAuditLog" WHERE "envelopeId" = %s ORDER BY "createdAt" DESC LIMIT 30'
SENT = ["DOCUMENT_COMPLETED", "DOCUMENT_SENT", "DOCUMENT_OPENED"]


@pytest.mark.needs_qualstats
def test_a_partitioned_table_s_constants_are_its_own(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(AUDIT_LOG)
    conn.execute("SELECT pg_stat_statements_reset(), pg_qualstats_reset()")
    since = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    with psycopg.connect(db, autocommit=True) as app:
        for _ in range(30):     # unnamed: a custom plan each time, so pg_qualstats keeps the array
            app.execute(RECENT, (since, SENT), prepare=False).fetchall()
        for env in range(10):   # prepared: generic plans after five runs, whose constants pg_qualstats never sees
            for _ in range(8):
                app.execute(ENVELOPE, (f"env{env * 500}",), prepare=True).fetchall()
    kept = conn.execute("SELECT count(DISTINCT lrelid) FROM pg_qualstats() WHERE constvalue LIKE '''{DOC%'").fetchone()
    assert kept is not None and kept[0] >= 2, kept      # per partition scanned, never the partitioned table
    statements = suggest(conn, options=Options(min_rows=100)).statements
    [recent] = [s for s in statements if "ANY" in s.query]
    assert recent.values["$2"] == "{DOCUMENT_COMPLETED,DOCUMENT_SENT,DOCUMENT_OPENED}", recent.params
    assert recent.values["$1"].startswith("2026-11-20"), recent.params
    assert recent.values_source == ValueSource.QUALSTATS
    # The prepared statement's constants: the first five runs of one connection's statement, among 80 occurrences
    # (each counted once, not once per partition scanned): they stand for those runs alone.
    [envelope] = [s for s in statements if '"envelopeId" =' in s.query]
    cov = envelope.qualstats_coverage
    assert cov is not None and cov.of == 80 and cov.seen < cov.of / 2, cov
