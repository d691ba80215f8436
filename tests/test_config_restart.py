"""Issue 26, the restart-level proposals on a live load, on clusters of this module's own.

pgtune writes restart-level settings with ALTER SYSTEM and never restarts:
status lists them pending and verify says "not in force". Here the test
plays the DBA who schedules the restart (pg_ctl restart), runs the same load
again and reads verify: per proposal, did its symptom go away — the cache
(shared_buffers), WAL buffers, pg_stat_statements evicting statements,
pg_qualstats' table full, texts longer than track_activity_query_size, and
max_connections lowered behind a pooler or raised for a full, busy pool.
Then rollback, a second restart, and every setting, source and
postgresql.auto.conf byte as before.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from pgtune import api
from pgtune.cli import cli
from pgtune.cluster import LocalCluster, find_bindir
from pgtune.config import ConfigOptions, Scope, Symptom
from pgtune.config.verify import Outcome

from .test_config_symptoms import HARDWARE, SETTINGS, app, around, changed_since, server_state

RESTART_LEVEL = {"shared_buffers": Symptom.CACHE_MISSES, "wal_buffers": Symptom.WAL_BUFFERS_FULL,
                 "pg_stat_statements.max": Symptom.STATEMENTS_EVICTED, "pg_qualstats.max": Symptom.QUALSTATS_FULL,
                 "track_activity_query_size": Symptom.LONG_TEXTS}


def start(**settings: str) -> LocalCluster:
    bindir = os.environ.get("PGTUNE_PG_BINDIR")
    return LocalCluster(Path(bindir) if bindir else find_bindir(), settings={**SETTINGS, **settings}).start()


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    c = start(**{"pg_stat_statements.max": "100"})
    try:
        yield c
    finally:
        c.stop()


def database(cluster: LocalCluster, name: str) -> str:
    with psycopg.connect(cluster.dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(cluster.dsn_for(name), autocommit=True) as c:
        c.execute("CREATE EXTENSION pg_stat_statements")
        if c.execute("SELECT current_setting('pg_qualstats.max', true)").fetchone() != (None,):
            c.execute("CREATE EXTENSION pg_qualstats")
    return cluster.dsn_for(name)


def restart(cluster: LocalCluster) -> None:
    """What the DBA does at the scheduled time; pgtune never does it."""
    out = cluster._run(str(cluster.bindir / "pg_ctl"), "-D", str(cluster.datadir), "-l",
                       str(cluster.root / "server.log"), "-w", "-t", "60", "restart")
    assert out.returncode == 0, out.stderr


LONG = "SELECT count(*) FROM small WHERE " + " OR ".join(f"id = {i} + 0 * length('padding {i}')" for i in range(60))


def load(dsn: str) -> None:
    """An application's hour in small: 150 statement shapes (more than pg_stat_statements.max 100), 1,100
    constants on one column (more than pg_qualstats.max's default 1,000), a long statement, scans of a 60 MB
    table against shared_buffers 16MB, a write burst against 512kB of WAL buffers."""
    with app(dsn) as c:
        for i in range(1, 151):
            c.execute("SELECT " + ", ".join(["1"] * i)).fetchone()
        for i in range(1100):
            c.execute(f"SELECT count(*) FROM small WHERE id = {i}").fetchone()
        for _ in range(30):
            c.execute(LONG).fetchone()
        for _ in range(2):
            c.execute("SELECT count(*) FROM history WHERE body LIKE '%zz%'").fetchone()
        for i in range(20):     # the application's writes: one statement run once would be a load (wal.py)
            c.execute("INSERT INTO burst SELECT g, repeat(md5(g::text), 4) FROM generate_series(%s::int, %s::int) g",
                      (i * 5000 + 1, (i + 1) * 5000))


def test_restart_level_proposals_are_pending_until_the_dbas_restart_then_their_symptoms_are_gone(
        cluster: LocalCluster, tmp_path: Path) -> None:
    dsn = database(cluster, "restarts")
    with app(dsn) as c:
        c.execute("CREATE TABLE small AS SELECT g AS id FROM generate_series(1, 1000) g")
        c.execute("CREATE TABLE history AS SELECT g AS id, repeat(md5(g::text), 4) AS body "
                  "FROM generate_series(1, 300000) g")
        c.execute("CREATE TABLE burst (id int, body text)")
        # An autovacuum of history (its inserts) or burst inside a measured period reads every block through its
        # ring: 7,296 more blocks read after the restart made the warming cache look like misses (hit ratio 0.898).
        for table in ("small", "history", "burst"):
            c.execute(sql.SQL("ALTER TABLE {} SET (autovacuum_enabled = off)").format(sql.Identifier(table)))
        c.execute("VACUUM ANALYZE small, history")
    with app(dsn) as conn:
        begin = server_state(conn, cluster)
        report = api.config(conn, HARDWARE, evidence=around(conn, lambda: load(dsn)),
                            emit=api.EmitOptions(directory=tmp_path / "m"))
    expected = {k: v for k, v in RESTART_LEVEL.items() if k != "pg_qualstats.max" or _qualstats(dsn)}
    by = {p.setting: p for p in report.proposals}
    for name, symptom in expected.items():
        assert name in by, (name, sorted(by))
        assert (by[name].scope, by[name].symptom) == (Scope.RESTART, symptom), by[name]
    assert by["pg_stat_statements.max"].evidence["dealloc"] > 0
    assert by["track_activity_query_size"].evidence["longest_bytes"] >= 1024
    with app(dsn) as conn:
        api.apply(conn, tmp_path / "m")
        pending = {s.name for s in api.status(conn, tmp_path / "m").settings if s.pending_restart}
        assert set(expected) <= pending
        shown = CliRunner().invoke(cli, ["status", str(tmp_path / "m"), "--dsn", dsn])
        assert shown.exit_code == 0, shown.output
        assert (f"pending restart: shared_buffers pgtune's {by['shared_buffers'].value} is written; the server still "
                "runs 16MB until the next restart") in shown.output
        waiting = {c.name: c for c in api.config_verify(conn, tmp_path / "m").checks}
        assert all(waiting[n].outcome == Outcome.NOT_IN_FORCE for n in expected)
    restart(cluster)
    with app(dsn) as conn:
        checks = {c.name: c for c in api.config_verify(conn, tmp_path / "m", evidence=around(conn, lambda: load(dsn))
                                                       ).checks}
        for name in expected:
            assert checks[name].outcome == Outcome.GONE, checks[name]
        assert checks["pg_stat_statements.max"].now["dealloc"] == 0
        api.rollback(conn, tmp_path / "m")
        assert set(expected) <= {s.name for s in api.status(conn, tmp_path / "m").settings if s.pending_restart}
        # the rolled-back value is still the one in force until the next restart: status says which comes back
        shown = CliRunner().invoke(cli, ["status", str(tmp_path / "m"), "--dsn", dsn])
        assert shown.exit_code == 0, shown.output
        line = next(x for x in shown.output.splitlines() if x.startswith("pending restart: shared_buffers"))
        assert line == ("pending restart: shared_buffers is as at emit (rolled back, or never applied): not in "
                        "postgresql.auto.conf (the configuration file's or the default value returns); the server "
                        f"still runs {by['shared_buffers'].value} until the next restart; pgtune never restarts the "
                        "server"), line
    restart(cluster)
    with app(dsn) as conn:
        assert changed_since(conn, cluster, begin) == []


def _qualstats(dsn: str) -> bool:
    with app(dsn) as c:
        return c.execute("SELECT current_setting('pg_qualstats.max', true)").fetchone() != (None,)


@contextmanager
def sessions(dsn: str, n: int, *, busy: bool, application_name: str = "app") -> Iterator[None]:
    """``n`` application sessions: idle, or each running a long statement (busy) until the block ends."""
    conns = [psycopg.connect(dsn, autocommit=True, application_name=application_name) for _ in range(n)]
    threads: list[threading.Thread] = []

    def sleep(c: psycopg.Connection[Any]) -> None:
        with suppress(psycopg.Error):          # cancelled at the end of the block
            c.execute("SELECT pg_sleep(120)")

    try:
        if busy:
            threads = [threading.Thread(target=sleep, args=(c,)) for c in conns]
            for t in threads:
                t.start()
            _wait(lambda: _active(dsn) >= n)
        yield
    finally:
        for c in conns:
            c.cancel_safe()
        for t in threads:
            t.join(30)
        for c in conns:
            c.close()


def _active(dsn: str) -> int:
    with app(dsn) as c:
        row = c.execute("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(120)' "
                        "AND state = 'active'").fetchone()
        return int(row[0]) if row else 0


def _wait(check: Callable[[], bool], seconds: float = 30.0) -> None:
    import time
    end = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < end, "the sessions did not start"
        time.sleep(0.2)


def connections_round_trip(cluster: LocalCluster, dsn: str, tmp_path: Path, how: Callable[[], Any],
                           options: ConfigOptions) -> tuple[Any, Any]:
    """Propose max_connections over a window with ``how`` open, apply, restart, the same sessions again,
    verify over a window, roll back, restart: (proposal, check)."""
    with app(dsn) as conn:
        begin = server_state(conn, cluster)
        with how():
            report = api.config(conn, options, emit=api.EmitOptions(directory=tmp_path / "m"))
        (p,) = [p for p in report.proposals if p.setting == "max_connections"]
        api.apply(conn, tmp_path / "m")
        st = next(s for s in api.status(conn, tmp_path / "m").settings if s.name == "max_connections")
        assert st.pending_restart and st.now == p.value
    restart(cluster)
    with app(dsn) as conn, how():
        check = next(c for c in api.config_verify(conn, tmp_path / "m", window_s=2).checks
                     if c.name == "max_connections")
    with app(dsn) as conn:
        api.rollback(conn, tmp_path / "m")
    restart(cluster)
    with app(dsn) as conn:
        assert changed_since(conn, cluster, begin) == []
    return p, check


def test_max_connections_is_lowered_behind_a_pooler_from_the_peak_of_a_window(cluster: LocalCluster,
                                                                              tmp_path: Path) -> None:
    dsn = database(cluster, "pooled")
    options = ConfigOptions(window_s=2, memory=HARDWARE.memory, cpus=HARDWARE.cpus, storage=HARDWARE.storage)
    p, check = connections_round_trip(cluster, dsn, tmp_path,
                                      lambda: sessions(dsn, 3, busy=False, application_name="pgbouncer"), options)
    assert (p.scope, p.current, p.value) == (Scope.RESTART, "50", "30")
    assert p.evidence["peak_sessions"] >= 3 and p.evidence["peak_sampled"]
    assert "3 session(s) of application_name 'pgbouncer'" in p.evidence["pooler_signs"][0]
    assert check.outcome == Outcome.GONE and check.now["max_connections"] == 30, check


def test_max_connections_is_raised_for_a_full_busy_pool(tmp_path: Path) -> None:
    small = start(max_connections="20")
    try:
        dsn = database(small, "busy")
        options = ConfigOptions(window_s=2, memory=HARDWARE.memory, cpus=HARDWARE.cpus, storage=HARDWARE.storage)
        p, check = connections_round_trip(small, dsn, tmp_path, lambda: sessions(dsn, 15, busy=True), options)
    finally:
        small.stop()
    assert (p.scope, p.symptom, p.current, p.value) == (Scope.RESTART, Symptom.CONNECTION_LIMIT, "20", "40")
    assert p.evidence["peak_sessions"] >= 15 and p.evidence["idle_now"] == 0
    assert check.outcome == Outcome.GONE and check.now["max_connections"] == 40, check
