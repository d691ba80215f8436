"""A workload statement reading a table dropped since is not EXPLAINed for an index's users (p27, LOW).

p27 (a Documenso-shaped app built by its own Prisma migrations): pg_stat_statements kept the data migrations
that moved "Document" and "Template" rows into "Envelope" (``UPDATE "Recipient" SET "envelopeId" = e.id FROM
"Document" AS d JOIN "Envelope" AS e …``); both tables were dropped later. Asked which statements plan with an
index on "Envelope" (the one a proposal makes redundant), ``suggest --emit`` EXPLAINed each: 9 ERROR lines
('relation "Document" does not exist') in the server's log per run, for no plan.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.health.workload_plans import statements_using

from .helpers import logged_errors

SETUP = """
CREATE TABLE "Envelope" (id text PRIMARY KEY, "secondaryId" text NOT NULL, "teamId" int NOT NULL);
CREATE INDEX "Envelope_teamId_idx" ON "Envelope" ("teamId");
CREATE TABLE "Document" (id text PRIMARY KEY, title text);
CREATE TABLE "Recipient" (id int PRIMARY KEY, "documentId" text, "envelopeId" text);
INSERT INTO "Envelope" SELECT 'e' || i, 'document_' || i, i % 50 FROM generate_series(1, 5000) i;
ANALYZE "Envelope";
"""
MIGRATION = ('UPDATE "Recipient" SET "envelopeId" = e.id FROM "Document" AS d '
             'JOIN "Envelope" AS e ON e."secondaryId" = \'document_\' || d.id WHERE "Recipient"."documentId" = d.id')
APP = 'SELECT id FROM "Envelope" WHERE "teamId" = 7'



def test_a_statement_reading_a_dropped_table_is_not_planned(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(SETUP)
    conn.execute("SELECT pg_stat_statements_reset()")
    with psycopg.connect(db, autocommit=True) as app:
        app.execute("SET enable_seqscan = off")
        for _ in range(3):
            app.execute(MIGRATION)
            app.execute(APP).fetchall()
    conn.execute('DROP TABLE "Document"')            # a later migration
    with logged_errors(conn) as errors:
        used = statements_using(conn, {("public", "Envelope_teamId_idx")})
    assert not errors, errors
    assert [u.statement.query for u in used if "teamId" in u.statement.query], used    # the app's is still read
