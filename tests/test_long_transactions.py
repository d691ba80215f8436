"""Issue 24 point 7: a long transaction elsewhere never costs a build, and no wait of apply's blocks the application.

A concurrent build's last phase waits for every older snapshot in the
database; under lock_timeout that wait failed the build after all its work
(six full builds, then apply gave up). Now apply names the transactions a
build would wait for and waits for them first (bounded), watches the build
from a second connection so that only a relation-lock wait is cut at
lock_timeout, and its own catalog reads give up quickly and say whom they
waited on.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune.apply import Applier, waits
from pgtune.cli import cli
from pgtune.errors import ApplyFailed

from . import production
from .helpers import writer_latencies
from .test_partitions_migration import migration, valid


def builds(conn: psycopg.Connection[Any]) -> list[tuple[str, int]]:
    """(status, count) of the history's CREATE INDEX CONCURRENTLY rows."""
    return [(r[0], int(r[1])) for r in conn.execute(
        "SELECT status, count(*) FROM pgtune.history WHERE statement LIKE 'CREATE INDEX CONCURRENTLY%%' "
        "GROUP BY status ORDER BY status")]


def test_apply_beside_a_60s_repeatable_read_transaction_builds_once(db: str, conn: psycopg.Connection[Any],
                                                                    tmp_path: Path) -> None:
    prod = production.build(db)
    folder = tmp_path / "mig"
    m = migration(conn, folder, ("events", "userId"), ("sessions", "token"), schema="app", lock_timeout="1s")
    leaves = sum(1 for s in m.phases[0].up if s.kind == "index")
    messages: list[str] = []
    with production.beside_long_transaction(prod, seconds=60) as (txn, latencies):
        time.sleep(6)                       # the transaction is 6 s old: apply names it before building
        started = time.monotonic()
        report = Applier(conn, folder, progress=messages.append, wait_for_transactions=120).apply()
        elapsed = time.monotonic() - started
    assert report.phases_run == [1]
    assert valid(conn, 'app."events_userId_idx"') and valid(conn, 'app."sessions_token_idx"')
    assert builds(conn) == [("done", leaves)]                  # one build each, none thrown away
    assert any(f"pid {txn.pid}" in msg and "waiting up to 120s" in msg for msg in messages), messages
    assert elapsed >= 60 - 6 - 5                               # it waited for the transaction to end
    assert len(latencies) > 100
    assert max(latencies) < 1.0, f"a writer waited {max(latencies):.3f}s (lock_timeout 1s)"


def test_a_transaction_still_open_stops_apply_cleanly_with_its_name(db: str, conn: psycopg.Connection[Any],
                                                                    tmp_path: Path) -> None:
    prod = production.build(db)
    folder = tmp_path / "mig"
    migration(conn, folder, ("events", "userId"), schema="app")
    with production.long_transaction(prod.dsn, seconds=30) as txn:
        time.sleep(6)
        out = CliRunner().invoke(cli, ["apply", str(folder), "--dsn", db, "--wait-for-transactions", "2"])
        assert out.exit_code == 1, out.output
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert f"pid {txn.pid}" in out.stderr and "was not started" in out.stderr
        assert "idle in transaction, open " in out.stderr            # its state, age and last statement
    # Nothing of the phase ran: not even the parent's ON ONLY index; its state is not "failed".
    assert conn.execute("SELECT to_regclass('app.\"events_userId_idx\"')").fetchone() == (None,)
    assert conn.execute("SELECT count(*) FROM pgtune.phases").fetchone() == (0,)
    assert Applier(conn, folder).apply().phases_run == [1]


BIG = """
CREATE TABLE big (id bigint PRIMARY KEY, k int NOT NULL, pad text);
INSERT INTO big SELECT g, g % 50000, repeat('x', 40) FROM generate_series(1, 600000) g;
CREATE TABLE other (id int);
INSERT INTO other VALUES (1);
ANALYZE;
"""


def report_once_the_build_runs(db: str, seconds: float, held: list[int]) -> threading.Thread:
    """Once a build is under way, a report opens a REPEATABLE READ transaction on another table for ``seconds``."""

    def report() -> None:
        with psycopg.connect(db, autocommit=True) as watch:
            for _ in range(1000):
                # big's own: the history's tables, made as apply starts, show there too
                row = watch.execute("SELECT count(*) FROM pg_stat_progress_create_index "
                                    "WHERE relid = 'big'::regclass").fetchone()
                if row and row[0]:
                    break
                time.sleep(0.01)
        with psycopg.connect(db) as reader:
            reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            reader.execute("SELECT count(*) FROM other").fetchone()
            held.append(reader.info.backend_pid)
            time.sleep(seconds)
            reader.rollback()

    thread = threading.Thread(target=report)
    thread.start()
    return thread


def test_a_long_transaction_that_starts_mid_build_costs_time_not_the_build(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conn.execute(BIG)
    folder = tmp_path / "mig"
    migration(conn, folder, ("big", "k"), lock_timeout="300ms")
    monkeypatch.setattr(waits, "PROGRESS_EVERY", 0.5)
    messages: list[str] = []
    held: list[int] = []
    thread = report_once_the_build_runs(db, 3.0, held)

    def write(w: psycopg.Connection[Any], i: int) -> None:
        w.execute("INSERT INTO big VALUES (%s, 1, 'y')", (i,))

    try:
        with writer_latencies(db, write) as latencies:
            Applier(conn, folder, progress=messages.append).apply()
    finally:
        thread.join()
    assert held, "the report never started: the build was over before it"
    assert builds(conn) == [("done", 1)]                       # the 3 s wait (lock_timeout 300 ms) cut nothing
    assert any(f"pid {held[0]}" in msg and "blocks nobody" in msg for msg in messages), messages
    assert valid(conn, "big_k_idx")
    assert max(latencies) < 0.3, f"a writer waited {max(latencies):.3f}s"


def test_a_build_that_waits_past_its_patience_is_cancelled_and_named(db: str, conn: psycopg.Connection[Any],
                                                                     tmp_path: Path) -> None:
    conn.execute(BIG)
    folder = tmp_path / "mig"
    migration(conn, folder, ("big", "k"))
    held: list[int] = []
    thread = report_once_the_build_runs(db, 20.0, held)
    try:
        started = time.monotonic()
        with pytest.raises(ApplyFailed, match=r"was cancelled: it waited 2s in all for other transactions to end, "
                                              r"the last pid \d+ \(idle in transaction"):
            Applier(conn, folder, wait_for_transactions=2).apply()
        assert time.monotonic() - started < 15
        assert held
        assert conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone() == (0,)
    finally:
        thread.join()
    assert builds(conn) == [("failed", 1)]


def test_catalog_reads_give_up_quickly_and_name_the_lock_holder(db: str, conn: psycopg.Connection[Any],
                                                                tmp_path: Path) -> None:
    conn.execute("CREATE TABLE t (id int, k int); CREATE INDEX t_k_idx ON t (k)")
    folder = tmp_path / "mig"
    migration(conn, folder, ("t", "id"))
    Applier(conn, folder).apply()
    ddl = psycopg.connect(db)
    ddl.execute("DROP INDEX t_id_idx")                 # ACCESS EXCLUSIVE, held until commit or rollback
    try:
        started = time.monotonic()
        with pytest.raises(ApplyFailed, match=rf"pid {ddl.info.backend_pid} holds ACCESS EXCLUSIVE on public.t"):
            Applier(conn, folder).status()
        assert time.monotonic() - started < 20           # 4 tries of 2 s with 1 + 2 + 4 s between, not forever
        messages: list[str] = []
        threading.Timer(3.0, ddl.rollback).start()     # the DBA gives up the DDL: status goes on, and said why
        assert Applier(conn, folder, progress=messages.append).status().ok
        assert any("catalog read waited 2s" in msg and f"pid {ddl.info.backend_pid}" in msg for msg in messages)
    finally:
        ddl.close()


def test_a_lock_on_the_index_alone_bounds_a_drop_and_its_last_line_names_the_holder(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """A session holding a lock on the index only (COMMENT ON INDEX, left open) is not in the way of the table,
    so the drop starts, and waits on that lock: cut at lock_timeout, retried, and the line apply stops with names
    the lock and its holder (before, only the statement)."""
    conn.execute("CREATE TABLE t (id int, k int); INSERT INTO t SELECT g, g % 100 FROM generate_series(1, 1000) g")
    folder = tmp_path / "mig"
    migration(conn, folder, ("t", "k"), lock_timeout="300ms")
    Applier(conn, folder).apply()
    with psycopg.connect(db) as holder:
        holder.execute("COMMENT ON INDEX t_k_idx IS 'the team lead reviews it'")   # a lock on the index alone
        pid = holder.info.backend_pid
        messages: list[str] = []
        started = time.monotonic()
        with pytest.raises(ApplyFailed, match=rf"gave up after 1 lock timeouts on: DROP INDEX CONCURRENTLY IF EXISTS "
                                              rf"public.t_k_idx \(the last: lock timeout: waited 0.\ds for "
                                              rf"ShareUpdateExclusiveLock on public.t_k_idx, held by pid {pid} "
                                              r"\(idle in transaction"):
            Applier(conn, folder, retries=1, backoff=0.1, progress=messages.append).rollback()
        assert time.monotonic() - started < 10
        assert any(f"held by pid {pid}" in msg and "retry 1/1" in msg for msg in messages), messages
        holder.rollback()
    Applier(conn, folder).rollback()
    assert conn.execute("SELECT to_regclass('t_k_idx')").fetchone() == (None,)


IDLE = """
CREATE TABLE docs (id int, k int, "createdAt" date NOT NULL) PARTITION BY RANGE ("createdAt");
CREATE TABLE docs_2026 PARTITION OF docs FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE docs_default PARTITION OF docs DEFAULT;
INSERT INTO docs SELECT g, g % 500, date '2026-01-01' + g % 400 FROM generate_series(1, 20000) g;
CREATE TABLE jobs (id int PRIMARY KEY, status int);
INSERT INTO jobs SELECT g, g % 4 FROM generate_series(1, 20000) g;
ANALYZE;
"""


def test_a_reader_idle_in_a_read_committed_transaction_is_in_no_builds_way(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """p12: a Prisma-style app left a READ COMMITTED transaction idle after reading the tables (ACCESS SHARE, no
    snapshot). CREATE INDEX CONCURRENTLY and CREATE INDEX ON ONLY do not wait for it (neither conflicts with ACCESS
    SHARE), yet apply waited --wait-for-transactions (300 s by default) for it and then built nothing, exit 1."""
    conn.execute(IDLE)
    folder = tmp_path / "mig"
    migration(conn, folder, ("docs", "k"), ("jobs", "status"))
    with psycopg.connect(db) as reader:       # a transaction opens with the first statement and stays open
        reader.execute("SELECT count(*) FROM docs").fetchone()
        reader.execute("SELECT count(*) FROM jobs").fetchone()
        time.sleep(6)                          # older than IN_THE_WAY_SECONDS
        assert reader.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        started = time.monotonic()
        report = Applier(conn, folder, wait_for_transactions=3, long_transaction_seconds=0).apply()
        elapsed = time.monotonic() - started
        # DROP INDEX CONCURRENTLY does wait for it: rollback stops, and says it is a drop it held back.
        out = CliRunner().invoke(cli, ["rollback", str(folder), "--dsn", db, "--wait-for-transactions", "2"])
        assert out.exit_code == 1, out.output
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert f"pid {reader.info.backend_pid}" in out.stderr and "a concurrent drop waits" in out.stderr
        assert "build" not in out.stderr, out.stderr
    assert report.phases_run == [1]
    assert valid(conn, '"docs_k_idx"') and valid(conn, '"jobs_status_idx"')
    assert elapsed < 3, f"apply waited {elapsed:.1f}s for a reader no build waits for"
    assert not any("will wait for it" in w for w in report.warnings), report.warnings


def test_a_writer_idle_in_a_read_committed_transaction_still_stops_apply(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """Its ROW EXCLUSIVE lock is one a concurrent build does wait for: apply names it and builds nothing."""
    conn.execute(IDLE)
    folder = tmp_path / "mig"
    migration(conn, folder, ("jobs", "status"))
    with psycopg.connect(db) as writer:
        writer.execute("UPDATE jobs SET status = 1 WHERE id = 1")
        time.sleep(6)
        out = CliRunner().invoke(cli, ["apply", str(folder), "--dsn", db, "--wait-for-transactions", "2"])
        assert out.exit_code == 1, out.output
        assert f"pid {writer.info.backend_pid}" in out.stderr and "was not started" in out.stderr
    assert conn.execute("SELECT to_regclass('\"jobs_status_idx\"')").fetchone() == (None,)


def _idle_after_a_parameterized_read(db: str) -> psycopg.Connection[Any]:
    """p14 F3: an app's READ COMMITTED transaction idle after a parameterized read (the extended protocol's
    portal lives to the transaction's end, and so does its snapshot: backend_xmin stays set) on a partitioned
    table (ACCESS SHARE on each leaf, which keeps a DROP INDEX CONCURRENTLY of a leaf's index waiting)."""
    app = psycopg.connect(db)
    app.execute("SELECT id FROM docs WHERE k = %s LIMIT 5", (1,)).fetchall()
    return app


def test_a_young_transaction_keeping_a_snapshot_is_waited_for_before_the_build_not_during_it(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """It was under IN_THE_WAY_SECONDS old, so apply started the leaf's build; the build waited out
    --wait-for-transactions for its snapshot and was cancelled, and the INVALID index it left could not be dropped
    (the same transaction holds ACCESS SHARE on the leaf) until the next apply. Now it is waited for first, and
    apply stops before building anything, naming it."""
    conn.execute(IDLE)
    folder = tmp_path / "mig"
    migration(conn, folder, ("docs", "k"), lock_timeout="300ms")
    app = _idle_after_a_parameterized_read(db)
    try:
        row = conn.execute("SELECT backend_xmin IS NOT NULL, now() - xact_start < interval '3s' "
                           "FROM pg_stat_activity WHERE pid = %s", (app.info.backend_pid,)).fetchone()
        assert row == (True, True)             # it keeps a snapshot, and is young
        with pytest.raises(ApplyFailed, match=rf"was not started: 1 transaction\(s\) still open after 2s, and a "
                                              rf"concurrent build waits for each to end: pid {app.info.backend_pid} "
                                              r"\(\w+, idle in transaction"):
            Applier(conn, folder, retries=1, backoff=0.05, wait_for_transactions=2).apply()
        assert conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone() == (0,)
        assert builds(conn) == []                              # no build was started
        messages: list[str] = []
        threading.Timer(1.0, app.rollback).start()             # the app's transaction ends while apply waits
        report = Applier(conn, folder, progress=messages.append, wait_for_transactions=30).apply()
    finally:
        app.close()
    assert report.phases_run == [1]
    assert builds(conn) == [("done", 2)]
    assert valid(conn, '"docs_k_idx"')


def test_apply_leaves_no_statement_of_its_own_untagged_in_the_workload(db: str, conn: psycopg.Connection[Any],
                                                                        tmp_path: Path) -> None:
    """p15: the watch's SET statement_timeout (and the catalog reads' SET LOCAL lock_timeout) carried no
    /* pgtune */ tag: pg_stat_statements kept them as the application's, and `pgtune config` counted pgtune's
    own session as an application using SET outside SET LOCAL."""
    conn.execute(IDLE)
    folder = tmp_path / "mig"
    migration(conn, folder, ("jobs", "status"))
    conn.execute("SELECT pg_stat_statements_reset()")
    Applier(conn, folder, progress=lambda _m: None, monitor_dsn=db).apply()
    assert valid(conn, '"jobs_status_idx"')
    untagged = [r[0] for r in conn.execute(
        "SELECT query FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = "
        "current_database()) AND query ~* '^\\s*SET' AND strpos(query, '/* pgtune */') = 0")]
    assert untagged == [], untagged
