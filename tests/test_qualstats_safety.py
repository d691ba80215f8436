"""pgtune never feeds pg_qualstats, so it never takes a backend down through it (issue 24, point 1).

pg_qualstats 2.0.4, sampling every statement, crashes the backend (signal 11)
on ``EXPLAIN EXECUTE`` of a forced generic plan of a join with a partitioned
table; the postmaster then restarts every connection of the server. pgtune
planned workload statements exactly that way. Each test here runs on a server
of its own, since the reproduction takes the whole server down.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from pgtune import api
from pgtune.capture import Statement
from pgtune.cluster import LocalCluster
from pgtune.explain import explain

SCHEMA = """
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
CREATE TABLE events (id bigint, "userId" bigint NOT NULL, "createdAt" timestamptz NOT NULL, kind text)
    PARTITION BY RANGE ("createdAt");
CREATE TABLE events_2026_01 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE events_2026_02 PARTITION OF events FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
CREATE TABLE events_default PARTITION OF events DEFAULT;
INSERT INTO users SELECT g, 'u' || g || '@example.com' FROM generate_series(1, 2000) AS g;
INSERT INTO events SELECT g, 1 + g % 2000, '2026-01-01'::timestamptz + (g % 55) * interval '1 day', 'view'
FROM generate_series(1, 20000) AS g;
ANALYZE;
"""
JOIN = ('SELECT e.id, e.kind FROM events AS e JOIN users AS u ON u.id = e."userId" '
        'WHERE u.email = $1 AND e."createdAt" >= now() - $2::interval')


def _qualstats(conn: psycopg.Connection[Any]) -> str | None:
    """The version of pg_qualstats this server would install, when it is preloaded."""
    row = conn.execute("SELECT default_version FROM pg_available_extensions WHERE name = 'pg_qualstats' "
                       "AND current_setting('shared_preload_libraries') LIKE '%pg_qualstats%'").fetchone()
    return row[0] if row else None


@pytest.fixture
def server() -> Iterator[LocalCluster]:
    cluster = LocalCluster().start()
    try:
        with psycopg.connect(cluster.dsn, autocommit=True) as conn:
            if _qualstats(conn) is None:
                pytest.skip("pg_qualstats is not preloaded on this server")
            conn.execute("CREATE EXTENSION pg_qualstats")
            conn.execute("CREATE EXTENSION pg_stat_statements")
            conn.execute(SCHEMA)
        yield cluster
    finally:
        cluster.stop()


def _started(conn: psycopg.Connection[Any]) -> Any:
    row = conn.execute("SELECT pg_postmaster_start_time(), pg_conf_load_time()").fetchone()
    assert row is not None
    return row


def _old_sequence(conn: psycopg.Connection[Any]) -> None:
    """What pgtune sent before: a read-only transaction, PREPARE, a forced generic plan, EXPLAIN EXECUTE."""
    conn.execute("BEGIN READ ONLY")
    conn.execute(f"PREPARE pgtune_explain AS {JOIN}")
    conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    conn.execute("EXPLAIN (FORMAT JSON) EXECUTE pgtune_explain(NULL, NULL)").fetchall()


def test_the_old_statement_sequence_crashes_the_server(server: LocalCluster) -> None:
    """The reproduction: without pgtune's session settings the backend dies and takes the others with it."""
    with psycopg.connect(server.dsn, autocommit=True) as canary:
        if _qualstats(canary) != "2.0.4":
            pytest.skip("the crash is pg_qualstats 2.0.4's; this server has another version")
        with psycopg.connect(server.dsn, autocommit=True) as victim, pytest.raises(psycopg.OperationalError):
            _old_sequence(victim)
        with pytest.raises(psycopg.OperationalError):
            for _ in range(100):            # the postmaster restarts every backend, within moments
                canary.execute("SELECT pg_sleep(0.1)")
    log = (server.root / "server.log").read_text()
    assert "was terminated by signal 11" in log


def test_pgtune_plans_the_same_statement_without_a_crash(server: LocalCluster) -> None:
    with psycopg.connect(server.dsn, autocommit=True) as canary:
        before = _started(canary)
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            plan = explain(conn, JOIN)                 # pgtune's own sequence, on a session nobody prepared
            assert plan.cost > 0
            advice = api.suggest(conn, api.SuggestOptions(constraints=False),
                                 statements=[Statement(JOIN, queryid=None, calls=100)])
            assert not [s for s in advice.indexes.skipped if s.kind == "cannot-plan"]
        time.sleep(0.2)
        assert _started(canary) == before              # still the same server, the canary still connected
    assert "signal 11" not in (server.root / "server.log").read_text()


def test_pgtune_sessions_leave_no_trace_in_pg_qualstats(server: LocalCluster) -> None:
    """pgtune's own EXPLAINs and samples take no pg_qualstats slot (pg_qualstats.max is small and fills)."""
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_qualstats_reset()")
        api.suggest(conn, api.SuggestOptions(constraints=True),
                    statements=[Statement(JOIN, queryid=None, calls=100),
                                Statement("SELECT * FROM users WHERE email = 'u7@example.com'", calls=10)])
        row = conn.execute("SELECT count(*) FROM pg_qualstats()").fetchone()
        assert row == (0,)
        conn.execute("SELECT * FROM users WHERE email = 'u8@example.com'").fetchall()   # a session of the app's
        with psycopg.connect(server.dsn, autocommit=True) as app:
            app.execute("SELECT * FROM users WHERE email = 'u9@example.com'").fetchall()
            row = app.execute("SELECT count(*) FROM pg_qualstats()").fetchone()
        assert row is not None and row[0] >= 1       # the application's statements are still sampled
