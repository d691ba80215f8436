"""p23: an application's ALTER TABLE queued behind apply's concurrent build, which then waits for it: the server
breaks the deadlock by cancelling one of them. When it cancels the build, apply retries it (as it does a lock
timeout) instead of failing the phase: on a Midday-shaped database a 3M-row build failed with 'deadlock detected',
exit 1, 4 s of build lost, and the application's ALTER then ran at once.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import psycopg

from pgtune.apply import Applier

from .test_partitions_migration import migration

PATIENCE = 60.0


def test_build_cancelled_by_a_deadlock_is_retried(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute("CREATE TABLE t (id int, k int); INSERT INTO t SELECT g, g % 100 FROM generate_series(1, 300000) g")
    folder = tmp_path / "mig"
    migration(conn, folder, ("t", "k"), lock_timeout="60s")
    done: list[BaseException | None] = []
    ddl_error: list[str] = []

    def run() -> None:
        try:
            with psycopg.connect(db, autocommit=True) as own:
                Applier(own, folder, retries=3, backoff=0.2).apply()
            done.append(None)
        except BaseException as exc:     # reported by the assertion below
            done.append(exc)

    reader = psycopg.connect(db)
    app = psycopg.connect(db, autocommit=True)
    app.execute("SET deadlock_timeout = '30s'")       # the build's session, not the app's, finds the deadlock
    applier = threading.Thread(target=run)
    try:
        applier.start()
        deadline = time.monotonic() + PATIENCE
        # t's own: the history's tables, made as apply starts, show there too
        while not conn.execute("SELECT 1 FROM pg_stat_progress_create_index WHERE relid = 't'::regclass").fetchone():
            assert time.monotonic() < deadline and not done, done
            time.sleep(0.005)
        reader.execute("INSERT INTO t VALUES (0, 0)")       # a writer the build waits for once it has built
        while conn.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                           "AND query LIKE 'CREATE INDEX CONCURRENTLY%%'").fetchone() == (0,):
            assert time.monotonic() < deadline and not done, done
            time.sleep(0.01)

        def alter() -> None:
            try:
                app.execute("ALTER TABLE t ADD COLUMN note text")     # queues behind the build's lock
            except psycopg.Error as exc:
                ddl_error.append(str(exc))
        ddl = threading.Thread(target=alter)
        ddl.start()
        while conn.execute("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'ALTER TABLE t%%' "
                           "AND wait_event_type = 'Lock'").fetchone() == (0,):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        reader.rollback()        # the build now waits for the ALTER's transaction: a deadlock, the build's to break
        ddl.join(timeout=PATIENCE)
        applier.join(timeout=PATIENCE)
        assert not applier.is_alive(), conn.execute(
            "SELECT pid, wait_event_type, wait_event, left(query, 40) FROM pg_stat_activity "
            "WHERE datname = current_database() AND state <> 'idle'").fetchall()
    finally:
        reader.close()
        app.close()
    assert ddl_error == [], ddl_error
    assert done == [None], done
    assert conn.execute("SELECT count(*) FROM pg_index WHERE indrelid = 't'::regclass AND indisvalid").fetchone() \
        == (1,)
    failed = conn.execute("SELECT count(*) FROM pgtune.history WHERE error LIKE 'deadlock detected%%'").fetchone()
    assert failed == (1,), failed          # it did happen, and was retried
