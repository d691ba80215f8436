"""health's hot-blocking-index on the real server: the evidence, the migration that drops it, HOT back, rollback.

A counter column with an index on it: every `UPDATE … SET hits = hits + 1`
then writes every index of the table instead of being a HOT update. The
check names the index with the UPDATE statements (from pg_stat_statements)
and the columns they set, the table's n_tup_upd / n_tup_hot_upd, and drops
it when its scans are fewer than the updates it spoils; the rollback builds
it again exactly.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psycopg

from pgtune import api
from pgtune.apply import Applier
from pgtune.health import Severity

from .helpers import steady_state

COUNTERS = """
CREATE TABLE "Counter" (id int PRIMARY KEY, name text NOT NULL, hits int NOT NULL DEFAULT 0,
                        "seenAt" timestamptz) WITH (fillfactor = 70);
INSERT INTO "Counter" (id, name) SELECT g, 'c' || g FROM generate_series(1, 20000) AS g;
CREATE INDEX "Counter_hits_idx" ON "Counter" (hits);
CREATE INDEX "Counter_name_idx" ON "Counter" (name);
CREATE TABLE "Gauge" (id int PRIMARY KEY, level int NOT NULL DEFAULT 0) WITH (fillfactor = 70);
INSERT INTO "Gauge" (id) SELECT g FROM generate_series(1, 2000) AS g;
CREATE INDEX "Gauge_level_idx" ON "Gauge" (level);
ANALYZE "Counter", "Gauge";
"""
BUMP = 'UPDATE "Counter" SET hits = hits + 1 WHERE id = %s'


def _burst(db: str, query: str, n: int, *, rows: int = 20000, read: str | None = None, reads: int = 0) -> None:
    """The application's writes (and reads), in its own session: pg_stat_statements and the counters see them."""
    with psycopg.connect(db, autocommit=True) as app:
        for i in range(n):
            app.execute(query, (1 + (i * 7919) % rows,))   # spread: every page keeps room for HOT
        for i in range(reads):
            assert read is not None
            app.execute(read, (i % 50,)).fetchall()
        app.execute("SELECT pg_stat_force_next_flush()")


def _counted(conn: psycopg.Connection[Any], table: str, updates: int) -> tuple[int, int]:
    """(n_tup_upd, n_tup_hot_upd) once the app's session has published at least ``updates``."""
    for _ in range(100):
        row = conn.execute("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = %s",
                           (table,)).fetchone()
        if row is not None and row[0] >= updates:
            return int(row[0]), int(row[1])
        time.sleep(0.1)
    raise AssertionError(f"{table}: the updates never reached pg_stat_user_tables")


def test_an_index_on_a_counter_is_reported_with_its_updates_dropped_by_the_migration_and_hot_comes_back(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute(COUNTERS)
    steady_state(conn)
    _burst(db, BUMP, 3000)
    _burst(db, 'UPDATE "Gauge" SET level = level + 1 WHERE id = %s', 1500, rows=2000,
           read='SELECT id FROM "Gauge" WHERE level = %s', reads=3000)
    assert _counted(conn, "Counter", 3000)[1] == 0            # not one HOT update while hits is indexed
    _counted(conn, "Gauge", 1500)

    report = api.health(conn, only=["hot-blocking-index"], emit=api.EmitOptions(directory=tmp_path / "h"))
    found = {f.index: f for f in report.findings}
    assert set(found) == {"Counter_hits_idx", "Gauge_level_idx"}, report.notes   # never the name index
    f = found["Counter_hits_idx"]
    assert f.severity == Severity.WARNING and f.table == "Counter"
    assert f.evidence["columns"] == ["hits"] and f.evidence["blocked_rows"] == 3000
    assert f.evidence["n_tup_upd"] >= 3000 and f.evidence["hot_share"] == 0
    assert [(u["columns"], u["rows"]) for u in f.evidence["updates"]] == [(["hits"], 3000)]
    assert 'SET hits = hits + $2' in f.evidence["updates"][0]["query"]
    assert f.fix == ['DROP INDEX CONCURRENTLY IF EXISTS "public"."Counter_hits_idx"']
    # Gauge's index is read more than the updates it spoils: reported, no fix, left out of the migration.
    g = found["Gauge_level_idx"]
    assert g.severity == Severity.INFO and g.fix == [] and g.evidence["idx_scan"] > g.evidence["blocked_rows"] == 1500
    m = report.migration
    assert m is not None and m.phases == ["1: drop redundant and unused indexes"]
    assert any("Gauge_level_idx" in line and "no automatic fix" in line for line in m.left_out), m.left_out
    definition = conn.execute("SELECT pg_get_indexdef('\"Counter_hits_idx\"'::regclass)").fetchone()

    applier = Applier(conn, tmp_path / "h")
    applier.apply()
    before = _counted(conn, "Counter", 0)
    _burst(db, BUMP, 2000)
    after = _counted(conn, "Counter", before[0] + 2000)
    assert after[1] - before[1] >= 0.9 * 2000, (before, after)   # HOT again (fillfactor 70 leaves room)

    applier.rollback()
    assert conn.execute("SELECT pg_get_indexdef('\"Counter_hits_idx\"'::regclass)").fetchone() == definition


def test_updates_of_a_column_no_index_holds_are_not_reported(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(COUNTERS)
    conn.execute('DROP INDEX "Counter_hits_idx"')
    steady_state(conn)
    _burst(db, BUMP, 3000)
    assert _counted(conn, "Counter", 3000)[1] >= 0.9 * 3000
    report = api.health(conn, only=["hot-blocking-index"])
    assert report.findings == [], [f.message for f in report.findings]


def test_an_index_a_workload_plan_uses_gets_no_drop_however_few_its_scans(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """Do no harm: 3,000 counter bumps against 40 reads of a report that needs the index (fewer scans than
    the updates it spoils) is a person's call, not a DROP: the finding names the statement whose plan uses it."""
    conn.execute(COUNTERS)
    steady_state(conn)
    _burst(db, BUMP, 3000, read='SELECT id, name FROM "Counter" WHERE hits >= %s ORDER BY hits DESC LIMIT 10',
           reads=40)
    _counted(conn, "Counter", 3000)
    report = api.health(conn, only=["hot-blocking-index"], emit=api.EmitOptions(directory=tmp_path / "h"))
    [f] = [f for f in report.findings if f.index == "Counter_hits_idx"]
    assert f.evidence["idx_scan"] < f.evidence["blocked_rows"]                # the old rule would drop it
    assert f.severity == Severity.INFO and f.fix == [], f.message
    reader = conn.execute("SELECT queryid FROM pg_stat_statements WHERE query LIKE 'SELECT id, name FROM \"Counter\"%'"
                          ).fetchone()
    assert reader is not None and str(reader[0]) in f.message, f.message
    assert [u["queryid"] for u in f.evidence["used_by"]] == [reader[0]]
    assert report.migration is None or all("Counter_hits_idx" not in str(p) for p in report.migration.phases)


PARTITIONED = """
CREATE TABLE "Hit" (id int NOT NULL, name text NOT NULL, hits int NOT NULL DEFAULT 0) PARTITION BY RANGE (id);
CREATE TABLE "Hit_a" PARTITION OF "Hit" FOR VALUES FROM (1) TO (10001) WITH (fillfactor = 70);
CREATE TABLE "Hit_b" PARTITION OF "Hit" FOR VALUES FROM (10001) TO (20001) WITH (fillfactor = 70);
INSERT INTO "Hit" (id, name) SELECT g, 'h' || g FROM generate_series(1, 20000) AS g;
ALTER TABLE "Hit" ADD PRIMARY KEY (id);
CREATE INDEX "Hit_hits_idx" ON "Hit" (hits);
CREATE INDEX "Hit_name_idx" ON "Hit" (name);
ANALYZE "Hit";
"""


def test_a_partitioned_index_on_a_counter_is_judged_per_partition_dropped_on_the_parent_and_rolled_back(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute(PARTITIONED)
    steady_state(conn)
    _burst(db, 'UPDATE "Hit" SET hits = hits + 1 WHERE id = %s', 3000)
    _counted(conn, "Hit_a", 1000)
    _counted(conn, "Hit_b", 1000)
    report = api.health(conn, only=["hot-blocking-index"], emit=api.EmitOptions(directory=tmp_path / "p"))
    found = {f.index: f for f in report.findings}
    assert set(found) == {"Hit_hits_idx"}, (report.notes, [f.message for f in report.findings])
    f = found["Hit_hits_idx"]
    assert f.severity == Severity.WARNING and f.table == "Hit"
    assert f.fix == ['DROP INDEX IF EXISTS "public"."Hit_hits_idx"']     # no CONCURRENTLY on a partitioned index
    assert f.evidence["blocked_rows"] == 3000 and f.evidence["n_tup_upd"] >= 3000 and f.evidence["hot_share"] == 0
    per = {p["partition"]: p for p in f.evidence["partition_hot"]}
    assert set(per) == {"Hit_a", "Hit_b"} and all(p["n_tup_hot_upd"] == 0 and p["n_tup_upd"] > 0
                                                 for p in per.values())
    before = {r[0]: r[1] for r in conn.execute(
        "SELECT c.relname, pg_get_indexdef(c.oid) FROM pg_class c WHERE c.relname LIKE 'Hit%%hits%%'").fetchall()}
    assert len(before) == 3                      # the parent's and each partition's
    applier = Applier(conn, tmp_path / "p")
    applier.apply()
    start = {t: _counted(conn, t, 0) for t in ("Hit_a", "Hit_b")}
    _burst(db, 'UPDATE "Hit" SET hits = hits + 1 WHERE id = %s', 2000)
    for t in ("Hit_a", "Hit_b"):
        after = _counted(conn, t, start[t][0] + 900)
        assert after[1] - start[t][1] >= 0.9 * (after[0] - start[t][0]), (t, start[t], after)   # HOT again
    applier.rollback()
    again = {r[0]: r[1] for r in conn.execute(
        "SELECT c.relname, pg_get_indexdef(c.oid) FROM pg_class c WHERE c.relname LIKE 'Hit%%hits%%'").fetchall()}
    assert again == before
