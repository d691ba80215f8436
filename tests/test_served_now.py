"""Heuristic mode on PostgreSQL 18: no index for a statement an existing index serves by skip scan (p17).

Inbox-Zero-shaped: ``SELECT count(*) FROM "ExecutedAction" WHERE "createdAt" >= $1 AND "createdAt" < $2``, with
the application's ("executionStatus", "createdAt") over 5 status values. PostgreSQL 18 reads it by skip scan
(Index Cond on "createdAt", no filter); without HypoPG pgtune proposed a 15.7 MB ("createdAt") all the same,
measured 0.71 -> 0.47 ms once built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgtune.analyze import Advice, Options

from .helpers import suggest

SETUP = """
CREATE TABLE "ExecutedAction" (id int PRIMARY KEY, "executionStatus" text NOT NULL, "createdAt" timestamptz NOT NULL,
                               "ruleId" int NOT NULL);
INSERT INTO "ExecutedAction" SELECT g, (ARRAY['APPLIED', 'PENDING', 'SKIPPED', 'ERROR', 'CANCELLED'])[1 + g % 5],
       timestamptz '2026-01-01' + g * interval '1 minute', g % 300 FROM generate_series(1, 200000) g;
CREATE INDEX "ExecutedAction_executionStatus_createdAt_idx" ON "ExecutedAction" ("executionStatus", "createdAt");
"""
WINDOW = 'SELECT count(*) FROM "ExecutedAction" WHERE "createdAt" >= %s AND "createdAt" < %s'
RULE = 'SELECT id FROM "ExecutedAction" WHERE "ruleId" = %s ORDER BY "createdAt" DESC LIMIT 10'


def _advised(db: str, conn: psycopg.Connection[Any], setup: str, table: str,
             run: Callable[[psycopg.Connection[Any], int], None]) -> Advice:
    """``setup`` on PostgreSQL 18, ``run`` 30 times as the application, then heuristic advice."""
    if conn.info.server_version < 180000:
        pytest.skip("skip scan is PostgreSQL 18's")
    conn.execute(setup)
    conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(table)))
    conn.execute("SELECT pg_stat_statements_reset()")
    with psycopg.connect(db, autocommit=True) as app:
        for k in range(30):
            run(app, k)
    return suggest(conn, options=Options(min_rows=100, use_hypopg=False))


def test_a_statement_a_skip_scan_serves_gets_no_index(db: str, conn: psycopg.Connection[Any]) -> None:
    def run(app: psycopg.Connection[Any], k: int) -> None:
        app.execute(WINDOW, (f"2026-02-{1 + k % 20:02d}", f"2026-02-{2 + k % 20:02d}"), prepare=True)
        app.execute(RULE, (k,), prepare=True).fetchall()

    advice = _advised(db, conn, SETUP, "ExecutedAction", run)
    proposed = [(ix.table, ix.columns) for ix in advice.indexes]
    assert ("ExecutedAction", ["createdAt"]) not in proposed, proposed
    assert any(h.startswith('("createdAt") on public.ExecutedAction not proposed') and
               "ExecutedAction_executionStatus_createdAt_idx" in h for h in advice.hints), advice.hints
    assert any(cols[:1] == ["ruleId"] for _, cols in proposed), proposed       # a statement no index serves


MESSAGES = """
CREATE TABLE "EmailMessage" (id int PRIMARY KEY, "emailAccountId" text NOT NULL, "threadId" text NOT NULL,
                             "messageId" text NOT NULL);
INSERT INTO "EmailMessage" SELECT g, 'acct' || (g % 4), 'thread' || (g / 2), 'msg' || g
  FROM generate_series(1, 200000) g;
CREATE UNIQUE INDEX "EmailMessage_emailAccountId_threadId_messageId_key"
  ON "EmailMessage" ("emailAccountId", "threadId", "messageId");
"""
LOOKUP = 'SELECT id FROM "EmailMessage" WHERE "messageId" = %s AND "emailAccountId" = %s'


def test_a_condition_past_many_skipped_values_is_not_served(db: str, conn: psycopg.Connection[Any]) -> None:
    """p17: the unique (emailAccountId, threadId, messageId) read for messageId passes over 400,000 threads (one
    descent, 3,983 buffers, 218 ms a call): its plan has no Filter, but it does not serve the lookup."""
    def run(app: psycopg.Connection[Any], k: int) -> None:
        app.execute(LOOKUP, (f"msg{k * 997}", f"acct{k % 4}"), prepare=True).fetchall()

    advice = _advised(db, conn, MESSAGES, "EmailMessage", run)
    proposed = [(ix.table, ix.columns) for ix in advice.indexes]
    assert any(t == "EmailMessage" and cols[:1] == ["messageId"] for t, cols in proposed), (proposed, advice.hints)
