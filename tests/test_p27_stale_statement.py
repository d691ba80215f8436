"""A statement naming a column its table no longer has is skipped from the catalog, not planned (p27, LOW).

p27 (a Documenso-shaped app built by its own 163 Prisma migrations): pg_stat_statements still held a data
migration's ``INSERT INTO "OrganisationAuthenticationPortal" (…, "organisationId") SELECT … FROM "Organisation"
WHERE …``, whose column a later migration dropped. Every suggest PREPAREd it three times: three
``ERROR: column "organisationId" … does not exist`` lines in the server's log a run, where a DBA's log alerting
trips. The catalog pgtune already read says the table has no such column.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import Options

from .helpers import logged_errors, suggest

SETUP = """
CREATE TABLE "Organisation" (id text PRIMARY KEY, "portalId" text);
CREATE TABLE "Portal" (id text, enabled boolean NOT NULL DEFAULT false, "organisationId" text);
INSERT INTO "Organisation" SELECT 'org' || i, CASE WHEN i % 2 = 0 THEN 'p' || i END FROM generate_series(1, 3000) i;
"""
STALE = ('INSERT INTO "Portal" (id, enabled, "organisationId") SELECT \'p\' || o.id, false, o.id '
         'FROM "Organisation" AS o WHERE o."portalId" IS NULL')



@pytest.mark.needs_hypopg
def test_a_statement_naming_a_dropped_column_is_skipped_without_an_error_in_the_servers_log(
        db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(SETUP)
    conn.execute("SELECT pg_stat_statements_reset()")
    with psycopg.connect(db, autocommit=True) as app:
        for _ in range(5):
            app.execute(STALE)
    conn.execute('ALTER TABLE "Portal" DROP COLUMN "organisationId"')     # a later migration
    conn.execute('ANALYZE "Organisation"')
    with logged_errors(conn) as errors:
        advice = suggest(conn, options=Options(min_rows=100))
    assert not errors, errors
    stale = [s for s in advice.skipped if s.query.startswith('INSERT INTO "Portal"')]
    assert [s.kind for s in stale] == ["cannot-plan"], advice.skipped
    assert 'has no column organisationId' in stale[0].reason, stale[0].reason
