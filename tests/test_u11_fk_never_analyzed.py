"""A table never analyzed (reltuples -1) is as small as its size says, for foreign-key-without-index's --min-rows.

Found on a job-queue database (Trigger.dev-shaped) built by its 820 Prisma
migrations: 81 tables the workload never wrote were never analyzed (an empty
table never reaches autovacuum's analyze threshold), so reltuples stayed -1,
which the check read as "unknown" rather than "under --min-rows": health
warned about 54 foreign keys on empty tables and its fix built an index on
each, tables the application neither reads nor writes.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune import api

SCHEMA = """
CREATE TABLE "Project" (id text PRIMARY KEY);
CREATE TABLE "Alert" (id text PRIMARY KEY, "projectId" text NOT NULL REFERENCES "Project" (id))
    WITH (autovacuum_enabled = false);
CREATE TABLE "Run" (id text PRIMARY KEY, "projectId" text NOT NULL REFERENCES "Project" (id), payload text)
    WITH (autovacuum_enabled = false);
INSERT INTO "Project" SELECT 'p' || g FROM generate_series(1, 10) g;
INSERT INTO "Run" SELECT 'r' || g, 'p' || (1 + g % 10), repeat('x', 40) FROM generate_series(1, 5000) g;
"""


def test_a_never_analyzed_empty_table_is_under_min_rows(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    rows = dict(conn.execute("""SELECT relname::text, reltuples FROM pg_class WHERE relname IN ('Alert', 'Run')""")
                .fetchall())
    assert rows == {"Alert": -1, "Run": -1}, rows          # neither was ever analyzed
    report = api.health(conn, only=["foreign-key-without-index"])
    tables = {f.table for f in report.findings if f.check == "foreign-key-without-index"}
    assert "Alert" not in tables, report.findings            # empty: its size holds no row
    assert "Run" in tables, tables                           # 5,000 rows never analyzed: still reported
    assert any("1 foreign key(s) on tables under --min-rows" in n for n in report.notes), report.notes
