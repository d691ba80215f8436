"""A migration's foreign key check is DDL, not workload: no index for it (p24).

trigger.dev-shaped, pg_stat_statements.track = all: each ``ALTER TABLE … ADD FOREIGN KEY`` of its Prisma migrations
left the check it runs once over the table (``SELECT fk."scheduleInstanceId" FROM ONLY … fk LEFT OUTER JOIN ONLY
… pk … WHERE pk."id" IS NULL AND (…)``) as a nested statement; suggest proposed a partial index for three of
them, and verify --measure reported "93,551.7x" for one, a statement the application never runs.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune.cli import cli


def test_the_check_add_foreign_key_runs_is_skipped_as_ddl(db: str, conn: psycopg.Connection[Any]) -> None:
    if conn.info.server_version < 140000:
        pytest.skip("pg_stat_statements says which statements ran nested from PostgreSQL 14 on")
    conn.execute('CREATE TABLE "Schedule" (id text PRIMARY KEY)')
    conn.execute('INSERT INTO "Schedule" SELECT \'s\' || g FROM generate_series(1, 2000) g')
    conn.execute('CREATE TABLE "Run" (id int PRIMARY KEY, "scheduleId" text, "envId" int NOT NULL)')
    conn.execute('INSERT INTO "Run" SELECT g, CASE WHEN g % 50 = 0 THEN \'s\' || (g % 2000 + 1) END, g % 300 '
                 'FROM generate_series(1, 100000) g')
    conn.execute('ANALYZE "Run"')
    conn.execute("SELECT pg_stat_statements_reset()")
    with psycopg.connect(db, autocommit=True) as app:
        app.execute("SET pg_stat_statements.track = 'all'")          # as the migration ran
        app.execute('ALTER TABLE "Run" ADD CONSTRAINT "Run_scheduleId_fkey" FOREIGN KEY ("scheduleId") '
                    'REFERENCES "Schedule"(id)')
        app.execute("RESET pg_stat_statements.track")
        for k in range(20):
            app.execute('SELECT id FROM "Run" WHERE "envId" = %s', (k,)).fetchall()
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--format", "json", "--no-constraints"])
    assert out.exit_code == 0, out.output
    advice = json.loads(out.stdout)
    proposed = [ix["columns"] for ix in advice["indexes"]]
    assert ["scheduleId"] not in proposed, proposed
    assert ["envId"] in proposed, proposed
    [check] = [s for s in advice["skipped"] if 'pk."id" IS NULL' in s["query"]]
    assert check["kind"] == "utility" and "ADD FOREIGN KEY" in check["reason"], check
