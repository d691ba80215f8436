"""Writes charged to an index are the workload's own, inside pg_stat_statements' window (u's F6).

A job queue's pick-up needs a partial index (about 1000x by HypoPG). After a
bulk load, a per-database pg_stat_statements_reset starts the window but
leaves pg_stat_statements_info.stats_reset alone, so the load's 200,000
inserts (in the table's counters) were charged as the workload's writes and
outweighed the saving: "already served". Now a table's writes are capped at
the rows the workload's own statements wrote in the window, and the hints say
so.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune.cli import cli

LOAD = """
CREATE TABLE jobs (id bigint PRIMARY KEY, queue text NOT NULL, "runAt" timestamptz NOT NULL,
                   "finishedAt" timestamptz, payload text);
INSERT INTO jobs SELECT g, (ARRAY['mail', 'billing', 'export'])[1 + g % 3], now() - g * interval '1 second',
                        CASE WHEN g % 400 = 0 THEN NULL ELSE now() END, repeat('x', 60)
FROM generate_series(1, 200000) g;
ANALYZE jobs;
"""
PICKUP = 'SELECT id FROM jobs WHERE queue = $1 AND "finishedAt" IS NULL ORDER BY "runAt" LIMIT $2'


def test_a_load_before_a_per_database_reset_is_not_charged_as_the_workloads_writes(
        db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute("SELECT pg_stat_statements_reset(), pg_stat_reset()")
    conn.execute(LOAD)
    conn.execute("SELECT pg_stat_force_next_flush()")
    conn.execute("SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = "
                 "current_database()), 0)")
    with psycopg.connect(db, autocommit=True) as app:
        for i in range(30):
            app.execute(PICKUP.replace("$1", "%s").replace("$2", "%s"), (["mail", "billing", "export"][i % 3], 10))
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--format", "json", "--no-constraints"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert [ix["table"] for ix in doc["indexes"]] == ["jobs"], doc["hints"]
    assert any("public.jobs: charged 0 written rows" in h for h in doc["hints"]), doc["hints"]
