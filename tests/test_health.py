"""pgtune health on a real server: planted problems found exactly, a clean schema left alone, fixes that work."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune import api
from pgtune.cli import cli
from pgtune.health import CHECKS, Severity

CLEAN = """
CREATE TABLE parent (id bigint PRIMARY KEY, email text UNIQUE, code text NOT NULL);
CREATE UNIQUE INDEX parent_code_key ON parent (code);
ALTER TABLE parent REPLICA IDENTITY USING INDEX parent_code_key;
CREATE INDEX parent_lower_email_idx ON parent (lower(email));
CREATE TABLE "order" (
    id bigint PRIMARY KEY, "parentId" bigint NOT NULL REFERENCES parent (id), status text NOT NULL,
    period tstzrange, "createdAt" timestamptz NOT NULL DEFAULT now(),
    EXCLUDE USING gist (period WITH &&)
);
CREATE INDEX "order_parentId_createdAt_idx" ON "order" ("parentId", "createdAt" DESC);
CREATE INDEX order_status_pending_idx ON "order" ("createdAt") WHERE status = 'pending';
CREATE INDEX order_status_paid_idx ON "order" ("createdAt") WHERE status = 'paid';
INSERT INTO parent SELECT g, 'p' || g || '@example.com', 'c' || g FROM generate_series(1, 1000) AS g;
INSERT INTO "order" (id, "parentId", status)
SELECT g, 1 + g % 1000, CASE WHEN g % 100 = 0 THEN 'pending' ELSE 'paid' END FROM generate_series(1, 5000) AS g;
ANALYZE;
"""


def plant(conn: psycopg.Connection[Any]) -> None:
    """One of each problem, on a camelCase table and a keyword-named one."""
    conn.execute(CLEAN)
    conn.execute('CREATE TABLE "userOrders" (id bigint PRIMARY KEY, "userId" bigint NOT NULL, note text)')
    conn.execute('INSERT INTO "userOrders" SELECT g, g % 50, \'n\' FROM generate_series(1, 2000) AS g')
    conn.execute('CREATE INDEX "userOrders_userId_a" ON "userOrders" ("userId")')
    conn.execute('CREATE INDEX "userOrders_userId_b" ON "userOrders" ("userId")')              # duplicate
    conn.execute('CREATE INDEX order_status_idx ON "order" (status)')
    conn.execute('CREATE INDEX order_status_created_idx ON "order" (status, "createdAt")')     # overlaps the above
    conn.execute('CREATE TABLE child (id bigint PRIMARY KEY, "parentId" bigint REFERENCES parent (id))')  # no index
    conn.execute('ALTER TABLE "order" ADD CONSTRAINT "order_id_positive" CHECK (id > 0) NOT VALID')
    conn.execute("CREATE TABLE dupes (a int); INSERT INTO dupes VALUES (1), (1)")
    with contextlib.suppress(psycopg.errors.UniqueViolation):
        conn.execute("CREATE UNIQUE INDEX CONCURRENTLY dupes_a_key ON dupes (a)")            # fails: INVALID
    conn.execute("CREATE TABLE shrunk (id int); INSERT INTO shrunk SELECT generate_series(1, 200000)")
    conn.execute("CREATE INDEX shrunk_id_idx ON shrunk (id)")
    conn.execute("DELETE FROM shrunk WHERE id > 100")
    conn.execute("VACUUM shrunk")                          # the heap shrinks, the index keeps its pages
    conn.execute("CREATE TABLE ticket (id serial PRIMARY KEY)")
    conn.execute("SELECT setval('ticket_id_seq', 2000000000)")   # 93% of an integer column's range


def found(conn: psycopg.Connection[Any]) -> set[tuple[str, str | None, str | None]]:
    return {(f.check, f.table, f.index) for f in api.health(conn).findings}


def test_a_clean_schema_has_no_findings(conn: psycopg.Connection[Any]) -> None:
    """PK, unique, exclusion, partial, expression and replica-identity indexes are all left alone."""
    conn.execute(CLEAN)
    report = api.health(conn)
    assert report.findings == [], report.findings
    assert report.checks == [c.id for c in CHECKS]


def test_each_planted_problem_is_reported_exactly(conn: psycopg.Connection[Any]) -> None:
    plant(conn)
    assert found(conn) == {
        ("invalid-index", "dupes", "dupes_a_key"),
        ("duplicate-index", "userOrders", "userOrders_userId_b"),
        ("overlapping-index", "order", "order_status_idx"),
        ("foreign-key-without-index", "child", None),
        ("not-valid-constraint", "order", None),
        ("index-larger-than-table", "shrunk", "shrunk_id_idx"),
        ("sequence-near-overflow", "ticket", None),
    }
    by_check = {f.check: f for f in api.health(conn).findings}
    assert by_check["invalid-index"].severity == Severity.ERROR
    assert by_check["sequence-near-overflow"].severity == Severity.ERROR
    assert by_check["sequence-near-overflow"].evidence["max_value"] == 2147483647
    assert by_check["duplicate-index"].evidence["duplicate_of"] == "userOrders_userId_a"
    assert by_check["duplicate-index"].fix == ['DROP INDEX CONCURRENTLY IF EXISTS "public"."userOrders_userId_b"']
    assert by_check["invalid-index"].fix == ['DROP INDEX CONCURRENTLY IF EXISTS "public"."dupes_a_key"',
                                             "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS dupes_a_key "
                                             "ON public.dupes (a)"]
    assert by_check["not-valid-constraint"].fix == [
        'ALTER TABLE "public"."order" VALIDATE CONSTRAINT "order_id_positive"']


def test_the_fixes_fix_it(conn: psycopg.Connection[Any]) -> None:
    plant(conn)
    conn.execute("DELETE FROM dupes WHERE ctid = (SELECT max(ctid) FROM dupes)")   # the DBA's part: the data
    for f in api.health(conn).findings:
        for stmt in f.fix:
            conn.execute(stmt)           # autocommit: CONCURRENTLY runs outside a transaction
    conn.execute("ANALYZE")
    # The sequence has no automatic fix (widening the column rewrites the table): it stays reported.
    assert found(conn) == {("sequence-near-overflow", "ticket", None)}


def test_cli_exit_codes_and_json(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(CLEAN)
    ok = CliRunner().invoke(cli, ["health", "--dsn", db])
    assert ok.exit_code == 0 and "no problem found" in ok.output
    plant_more = 'ALTER TABLE "order" ADD CONSTRAINT "order_id_positive" CHECK (id > 0) NOT VALID'
    conn.execute(plant_more)
    warn = CliRunner().invoke(cli, ["health", "--dsn", db])
    assert warn.exit_code == 1 and "not-valid-constraint" in warn.output and "VALIDATE CONSTRAINT" in warn.output
    assert CliRunner().invoke(cli, ["health", "--dsn", db, "--fail-on", "error"]).exit_code == 0
    out = CliRunner().invoke(cli, ["health", "--dsn", db, "--format", "json", "--fail-on", "never"])
    assert out.exit_code == 0
    data = json.loads(out.stdout)
    [finding] = data["findings"]
    assert finding["check"] == "not-valid-constraint" and finding["severity"] == "warning"
    assert finding["table"] == "order" and finding["index"] is None
    only = CliRunner().invoke(cli, ["health", "--dsn", db, "--check", "invalid-index"])
    assert only.exit_code == 0
    skipped = CliRunner().invoke(cli, ["health", "--dsn", db, "--skip", "not-valid-constraint"])
    assert skipped.exit_code == 0
    bad = CliRunner().invoke(cli, ["health", "--dsn", db, "--check", "no-such-check"])
    assert bad.exit_code == 2 and "unknown check no-such-check" in bad.output
