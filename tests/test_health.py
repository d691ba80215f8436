"""pgtune health on a real server: planted problems found exactly, a clean schema left alone, fixes that work."""

from __future__ import annotations

import contextlib
import json
import os
import time
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
    conn.execute('INSERT INTO child SELECT g, 1 + g % 1000 FROM generate_series(1, 2000) AS g')    # over --min-rows
    # The parent sees deletes, so the key needs its index (a key nothing uses is info: test_health_fk_idle).
    conn.execute("INSERT INTO parent VALUES (0, 'gone@example.com', 'c0'); DELETE FROM parent WHERE id = 0")
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
    conn.execute("ANALYZE")                                      # stale-statistics has its own test
    conn.execute("SELECT pg_stat_force_next_flush()")            # the parent's delete in its counters


# These two read activity counters (how long they have counted, what changed since ANALYZE): their own
# tests below; the catalog checks are tested without them.
DYNAMIC = ["unused-index", "stale-statistics"]
SKIP_DYNAMIC = ["--skip", "unused-index", "--skip", "stale-statistics"]
def found(conn: psycopg.Connection[Any]) -> set[tuple[str, str | None, str | None]]:
    return {(f.check, f.table, f.index) for f in api.health(conn, skip=DYNAMIC).findings}


def test_a_clean_schema_has_no_findings(conn: psycopg.Connection[Any]) -> None:
    """PK, unique, exclusion, partial, expression and replica-identity indexes are all left alone."""
    conn.execute(CLEAN)
    report = api.health(conn, skip=DYNAMIC)
    assert report.findings == [], report.findings
    assert report.checks == [c.id for c in CHECKS if c.id not in DYNAMIC]


def test_each_planted_problem_is_reported_exactly(conn: psycopg.Connection[Any]) -> None:
    plant(conn)
    assert found(conn) == {
        ("invalid-index", "dupes", "dupes_a_key"),
        ("duplicate-index", "userOrders", "userOrders_userId_b"),
        ("overlapping-index", "order", "order_status_idx"),
        ("foreign-key-without-index", "child", None),
        ("not-valid-constraint", "order", None),
        ("index-larger-than-table", "shrunk", "shrunk_id_idx"),
        ("bloated-index", "shrunk", "shrunk_id_idx"),
        ("sequence-near-overflow", "ticket", None),
    }
    by_check = {f.check: f for f in api.health(conn, skip=DYNAMIC).findings}
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
    for f in api.health(conn, skip=DYNAMIC).findings:
        for stmt in f.fix:
            conn.execute(stmt)           # autocommit: CONCURRENTLY runs outside a transaction
    conn.execute("ANALYZE")
    # The sequence has no automatic fix (widening the column rewrites the table): it stays reported.
    assert found(conn) == {("sequence-near-overflow", "ticket", None)}


def test_cli_exit_codes_and_json(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(CLEAN)
    ok = CliRunner().invoke(cli, ["health", "--dsn", db, *SKIP_DYNAMIC])
    assert ok.exit_code == 0 and "no problem found" in ok.output
    plant_more = 'ALTER TABLE "order" ADD CONSTRAINT "order_id_positive" CHECK (id > 0) NOT VALID'
    conn.execute(plant_more)
    warn = CliRunner().invoke(cli, ["health", "--dsn", db, *SKIP_DYNAMIC])
    assert warn.exit_code == 1 and "not-valid-constraint" in warn.output and "VALIDATE CONSTRAINT" in warn.output
    assert CliRunner().invoke(cli, ["health", "--dsn", db, *SKIP_DYNAMIC, "--fail-on", "error"]
                              ).exit_code == 0
    out = CliRunner().invoke(cli, ["health", "--dsn", db, *SKIP_DYNAMIC, "--format", "json",
                                   "--fail-on", "never"])
    assert out.exit_code == 0
    data = json.loads(out.stdout)
    [finding] = data["findings"]
    assert finding["check"] == "not-valid-constraint" and finding["severity"] == "warning"
    assert finding["table"] == "order" and finding["index"] is None
    only = CliRunner().invoke(cli, ["health", "--dsn", db, "--check", "invalid-index"])
    assert only.exit_code == 0
    skipped = CliRunner().invoke(cli, ["health", "--dsn", db, "--skip", "not-valid-constraint",
                                       *SKIP_DYNAMIC])
    assert skipped.exit_code == 0
    bad = CliRunner().invoke(cli, ["health", "--dsn", db, "--check", "no-such-check"])
    assert bad.exit_code == 2 and "unknown check no-such-check" in bad.output


USAGE = """
CREATE TABLE visit (id bigint PRIMARY KEY, "pageId" int NOT NULL, day date NOT NULL);
INSERT INTO visit SELECT g, g % 100, date '2026-01-01' + g % 300 FROM generate_series(1, 20000) AS g;
CREATE INDEX "visit_pageId_idx" ON visit ("pageId");
CREATE INDEX visit_day_idx ON visit (day);
ANALYZE visit;
"""


def scan_page_index(conn: psycopg.Connection[Any]) -> None:
    """Read through visit_pageId_idx, and make the server publish the count now."""
    conn.execute("SET enable_seqscan = off")
    conn.execute('SELECT count(*) FROM visit WHERE "pageId" = 7').fetchone()
    conn.execute("RESET enable_seqscan")
    conn.execute("SELECT pg_stat_force_next_flush()")


def test_unused_index_once_the_statistics_are_old_enough(conn: psycopg.Connection[Any]) -> None:
    conn.execute(USAGE)
    conn.execute("SELECT pg_stat_reset()")
    scan_page_index(conn)
    young = api.health(conn, only=["unused-index"])             # counted for seconds, not 7 days
    assert young.findings == []
    [note] = young.notes
    assert note.startswith("unused-index not run: index statistics have counted for 0.0 hours")
    assert "--min-stats-age is 7.0 days" in note
    report = api.health(conn, only=["unused-index"], min_stats_age_s=0)
    assert [(f.table, f.index) for f in report.findings] == [("visit", "visit_day_idx")]   # never the PK
    assert report.findings[0].fix == ['DROP INDEX CONCURRENTLY IF EXISTS "public"."visit_day_idx"']


def test_scans_on_another_server_count(pg_server: Any, conn: psycopg.Connection[Any]) -> None:
    """An index read only on another server given with --workload-dsn (a replica's role) is not unused.

    The other server here is a second database of the test server with the same
    schema; its counters stand for a standby's, which pgtune reads the same way.
    """
    conn.execute(USAGE)
    conn.execute("SELECT pg_stat_reset()")
    name = f"pgtune_replica_{os.getpid()}"
    with psycopg.connect(pg_server.dsn, autocommit=True) as admin:
        admin.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
    try:
        with psycopg.connect(pg_server.dsn_for(name), autocommit=True) as replica:
            replica.execute(USAGE)
            scan_page_index(replica)
            alone = api.health(conn, only=["unused-index"], min_stats_age_s=0)
            assert {f.index for f in alone.findings} == {"visit_pageId_idx", "visit_day_idx"}
            both = api.health(conn, only=["unused-index"], min_stats_age_s=0, replicas=[replica])
            assert {f.index for f in both.findings} == {"visit_day_idx"}
            assert both.findings[0].evidence["servers"] == 2
    finally:
        with psycopg.connect(pg_server.dsn, autocommit=True) as admin:
            admin.execute(psycopg.sql.SQL("DROP DATABASE {} WITH (FORCE)").format(psycopg.sql.Identifier(name)))


def test_an_index_scanned_only_on_a_physical_standby_is_not_unused() -> None:
    """The real thing: a streaming hot standby counts its own index scans; health reads them there."""
    from pgtune.cluster import LocalCluster

    from .helpers import standby

    primary = LocalCluster(settings={"listen_addresses": "''"}).start()
    try:
        with psycopg.connect(primary.dsn, autocommit=True) as c:
            c.execute(USAGE)                        # before the base backup: the standby has it at once
        with standby(primary) as standby_dsn, psycopg.connect(primary.dsn, autocommit=True) as c, \
                psycopg.connect(standby_dsn, autocommit=True) as replica:
            assert replica.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
            scan_page_index(replica)
            alone = api.health(c, only=["unused-index"], min_stats_age_s=0)
            assert {f.index for f in alone.findings} == {"visit_pageId_idx", "visit_day_idx"}
            both = api.health(c, only=["unused-index"], min_stats_age_s=0, replicas=[replica])
            assert {f.index for f in both.findings} == {"visit_day_idx"}
            young = api.health(c, only=["unused-index"], replicas=[replica])    # 7 days by default
            assert young.findings == [] and young.notes[0].startswith("unused-index not run")
    finally:
        primary.stop()


def test_an_index_younger_than_the_window_is_not_judged() -> None:
    """With track_commit_timestamp on, an index's creation time is known: one built inside the
    window has not had the window to be used."""
    from pgtune.cluster import LocalCluster

    with LocalCluster(settings={"track_commit_timestamp": "on"}) as cluster, \
            psycopg.connect(cluster.dsn, autocommit=True) as c:
        c.execute(USAGE)                                   # both indexes: created now
        time.sleep(2.2)
        c.execute("CREATE INDEX visit_late_idx ON visit (day, \"pageId\")")
        report = api.health(c, only=["unused-index"], min_stats_age_s=2.0)
        assert {f.index for f in report.findings} == {"visit_pageId_idx", "visit_day_idx"}
        [note] = report.notes
        assert note.startswith("unused-index: not judged, created less than --min-stats-age ago: visit_late_idx")


def test_cli_min_stats_age_and_replicas(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(USAGE)
    conn.execute("SELECT pg_stat_reset()")
    young = CliRunner().invoke(cli, ["health", "--dsn", db, "--check", "unused-index"])
    assert young.exit_code == 0 and "note: unused-index not run" in young.output
    old_enough = CliRunner().invoke(cli, ["health", "--dsn", db, "--check", "unused-index", "--min-stats-age", "0",
                                          "--workload-dsn", db])
    assert old_enough.exit_code == 1 and "on 2 servers" in old_enough.output
    bad = CliRunner().invoke(cli, ["health", "--dsn", db, "--min-stats-age", "a week"])
    assert bad.exit_code == 2 and "not a duration" in bad.output


def test_stale_statistics(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE feed (id int, body text) WITH (autovacuum_enabled = false)")
    conn.execute("INSERT INTO feed SELECT g, 'x' FROM generate_series(1, 10000) AS g")
    conn.execute("SELECT pg_stat_force_next_flush()")
    [never] = api.health(conn, only=["stale-statistics"]).findings
    assert never.table == "feed" and "never analyzed" in never.message
    assert never.fix == ["ANALYZE public.feed"]
    conn.execute("ANALYZE feed")
    conn.execute("UPDATE feed SET body = 'y' WHERE id <= 2000")      # 20%: within what autovacuum allows
    conn.execute("SELECT pg_stat_force_next_flush()")
    assert api.health(conn, only=["stale-statistics"]).findings == []
    conn.execute("UPDATE feed SET body = 'z' WHERE id > 5000")       # 7,000 rows in all since ANALYZE
    conn.execute("SELECT pg_stat_force_next_flush()")
    [stale] = api.health(conn, only=["stale-statistics"]).findings
    assert stale.evidence["changed_rows"] == 7000 and "last analyzed" in stale.message
    conn.execute(stale.fix[0])
    conn.execute("SELECT pg_stat_force_next_flush()")
    assert api.health(conn, only=["stale-statistics"]).findings == []


def test_bloated_index_against_a_fresh_build(conn: psycopg.Connection[Any]) -> None:
    conn.execute('CREATE TABLE "auditLog" (id bigint PRIMARY KEY, "userId" int NOT NULL, at timestamptz NOT NULL)')
    conn.execute('INSERT INTO "auditLog" SELECT g, g % 500, now() FROM generate_series(1, 300000) AS g')
    conn.execute('CREATE INDEX "auditLog_at_idx" ON "auditLog" (at)')
    conn.execute('DELETE FROM "auditLog" WHERE id % 10 <> 0')        # 90% gone, spread over every page
    conn.execute('VACUUM ANALYZE "auditLog"')                       # space reusable, not returned
    findings = api.health(conn, only=["bloated-index"]).findings
    assert {f.index for f in findings} == {"auditLog_pkey", "auditLog_at_idx"}
    for f in findings:
        assert f.evidence["index_bytes"] > 2 * f.evidence["forecast_bytes"]
        conn.execute(f.fix[0])                                       # REINDEX INDEX CONCURRENTLY
    assert api.health(conn, only=["bloated-index"]).findings == []


def test_xid_wraparound_risk(conn: psycopg.Connection[Any]) -> None:
    """A table whose own freeze age (the smallest allowed, 100,000) is left 1.5x behind."""
    conn.execute("CREATE TABLE ledger (id int) WITH (autovacuum_freeze_max_age = 100000, autovacuum_enabled = off)")
    conn.execute("INSERT INTO ledger VALUES (1)")
    assert api.health(conn, only=["xid-wraparound-risk"]).findings == []
    conn.execute("CREATE TEMP TABLE burn (i int)")
    # 160,000 transaction ids, cheaply: each exception block is a subtransaction with its own xid.
    conn.execute("DO $$ BEGIN FOR i IN 1..160000 LOOP BEGIN INSERT INTO burn VALUES (i); "
                 "EXCEPTION WHEN OTHERS THEN NULL; END; END LOOP; END $$")
    [f] = [f for f in api.health(conn, only=["xid-wraparound-risk"]).findings if f.table == "ledger"]
    assert f.severity == Severity.WARNING and f.evidence["freeze_max_age"] == 100000
    assert f.evidence["age"] > 150000
    conn.execute(f.fix[0])                                   # VACUUM (FREEZE) public.ledger
    assert not [f for f in api.health(conn, only=["xid-wraparound-risk"]).findings if f.table == "ledger"]


def test_bloated_table_estimated_and_measured(conn: psycopg.Connection[Any]) -> None:
    conn.execute('CREATE TABLE "order" (id bigint, note text) WITH (autovacuum_enabled = off)')
    conn.execute('INSERT INTO "order" SELECT g, repeat(\'x\', 60) FROM generate_series(1, 100000) AS g')
    conn.execute('ANALYZE "order"')
    assert api.health(conn, only=["bloated-table"]).findings == []
    conn.execute('DELETE FROM "order" WHERE id % 5 <> 0')            # 80% gone, from every page
    conn.execute('VACUUM ANALYZE "order"')
    [estimated] = api.health(conn, only=["bloated-table"]).findings
    assert estimated.table == "order" and estimated.evidence["method"] == "statistics"
    assert estimated.evidence["wasted_bytes"] > 0.6 * estimated.evidence["table_bytes"]
    assert estimated.fix == []
    if conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pgstattuple'").fetchone() is None:
        return          # a server without contrib's pgstattuple: the estimate is what it gets
    conn.execute("CREATE EXTENSION pgstattuple")
    [measured] = api.health(conn, only=["bloated-table"]).findings
    assert measured.evidence["method"] == "pgstattuple_approx"
    assert measured.evidence["wasted_bytes"] > 0.6 * measured.evidence["table_bytes"]



PREFIX_FK = """
CREATE TABLE events (id bigint NOT NULL, "createdAt" timestamp(3) NOT NULL, PRIMARY KEY (id, "createdAt"));
CREATE TABLE rules (id int NOT NULL, version int NOT NULL, PRIMARY KEY (id, version));
CREATE TABLE alerts (id serial PRIMARY KEY, "eventId" bigint NOT NULL, "eventCreatedAt" timestamp(3) NOT NULL,
                     "ruleId" int NOT NULL, "ruleVersion" int NOT NULL,
                     FOREIGN KEY ("eventId", "eventCreatedAt") REFERENCES events (id, "createdAt") ON DELETE CASCADE,
                     FOREIGN KEY ("ruleId", "ruleVersion") REFERENCES rules (id, version));
INSERT INTO events SELECT i, '2026-01-01'::timestamp + i * interval '1 minute' FROM generate_series(1, 20000) i;
INSERT INTO rules SELECT i, v FROM generate_series(1, 3) i, generate_series(1, 50) v;
INSERT INTO alerts ("eventId", "eventCreatedAt", "ruleId", "ruleVersion")
SELECT id, "createdAt", 1 + id % 3, 1 + id % 50 FROM events WHERE id % 4 = 0;
CREATE INDEX "alerts_eventId_idx" ON alerts ("eventId");
CREATE INDEX "alerts_ruleId_idx" ON alerts ("ruleId");
ANALYZE;
"""


def test_a_foreign_key_served_by_an_index_on_its_leading_column(conn: psycopg.Connection[Any]) -> None:
    """u's F4: ("eventId") serves the check of the key ("eventId", "eventCreatedAt"): one row per value.

    health neither calls that key unindexed (a second, overlapping build) nor lets
    unused-index drop the index that serves it. ("ruleId") leaves 1,667 rows per
    value to filter for the key ("ruleId", "ruleVersion"): that key is still reported.
    """
    conn.execute(PREFIX_FK)
    plan = conn.execute('EXPLAIN SELECT 1 FROM ONLY alerts x WHERE "eventId" = 8 AND "eventCreatedAt" = now() '
                        "FOR KEY SHARE OF x").fetchall()
    assert "alerts_eventId_idx" in plan[1][0], plan
    report = api.health(conn, only=["foreign-key-without-index"])
    assert [f.evidence["constraint"] for f in report.findings] == ["alerts_ruleId_ruleVersion_fkey"]
    assert any("alerts_eventId_eventCreatedAt_fkey by alerts_eventId_idx" in n for n in report.notes), report.notes
    conn.execute("SELECT pg_stat_reset()")
    unused = api.health(conn, only=["unused-index"], min_stats_age_s=0)
    assert [f.index for f in unused.findings] == ["alerts_ruleId_idx"]      # never the key's only index


HASH_FK = """
CREATE TABLE polls (id text PRIMARY KEY);
CREATE TABLE options (id text PRIMARY KEY, poll_id text NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
                      voter_id text REFERENCES polls (id));
CREATE INDEX options_poll_id_idx ON options USING hash (poll_id);
INSERT INTO polls SELECT 'p' || i FROM generate_series(1, 3000) i;
INSERT INTO options SELECT 'o' || i || '-' || k, 'p' || i, NULL
FROM generate_series(1, 3000) i, generate_series(1, 3) k;
ANALYZE;
"""


def test_a_hash_index_on_a_foreign_key_serves_it(conn: psycopg.Connection[Any]) -> None:
    """u3's R3: Prisma's ``@@index([pollId], type: Hash)`` is the key's index: the delete's check probes it.

    health neither reports the key as unindexed (a b-tree twin) nor lets
    unused-index drop the hash index; the key with no index at all is still reported.
    """
    conn.execute(HASH_FK)
    plan = conn.execute("EXPLAIN SELECT 1 FROM ONLY options x WHERE poll_id = 'p42' FOR KEY SHARE OF x").fetchall()
    assert "options_poll_id_idx" in " ".join(r[0] for r in plan), plan
    report = api.health(conn, only=["foreign-key-without-index"])
    assert [f.evidence["constraint"] for f in report.findings] == ["options_voter_id_fkey"]
    conn.execute("SELECT pg_stat_reset()")
    unused = api.health(conn, only=["unused-index"], min_stats_age_s=0)
    assert "options_poll_id_idx" not in [f.index for f in unused.findings]
