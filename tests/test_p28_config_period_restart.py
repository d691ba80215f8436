"""p28: after a clean restart the counters still count from their reset, and so does config's period.

PostgreSQL keeps its statistics across a clean restart. On a Typebot-shaped database, right after the restart
that put the proposed shared_buffers in force, `pgtune config` and `pgtune verify` said "period: 8.2 s since"
the restart while pg_stat_database.blks_read still held the 27,954,300 reads of the 32 minutes before it:
verify judged the new cache on the old cache's misses (hit ratio 0.82, FAIL "persists"), and every rate
config computes over the period was the old counters divided by seconds.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg

from pgtune import api
from pgtune.cluster import LocalCluster, find_bindir
from pgtune.config import evidence

from .test_config_restart import restart
from .test_config_symptoms import HARDWARE, SETTINGS


def test_a_clean_restart_keeps_the_period_from_the_counters_reset() -> None:
    bindir = os.environ.get("PGTUNE_PG_BINDIR")
    cluster = LocalCluster(Path(bindir) if bindir else find_bindir(), settings=dict(SETTINGS)).start()
    try:
        with psycopg.connect(cluster.dsn, autocommit=True) as c:
            c.execute("CREATE TABLE history AS SELECT g AS id, repeat(md5(g::text), 4) AS body "
                      "FROM generate_series(1, 100000) g")
            c.execute("SELECT count(*) FROM history").fetchone()
            c.execute("SELECT pg_stat_force_next_flush()")
        with psycopg.connect(cluster.dsn, autocommit=True) as c:
            before = evidence.capture(c)
        restart(cluster)
        with psycopg.connect(cluster.dsn, autocommit=True) as c:
            started = c.execute("SELECT pg_postmaster_start_time()").fetchone()
            after = evidence.capture(c)
            report = api.config(c, HARDWARE)
        assert started is not None and started[0] > before.taken_at
        # The counters came through the restart: they still count from before it, and so does the period.
        assert after.counters.blks_read >= before.counters.blks_read > 0
        assert after.since == before.since < started[0], (before.since, after.since, started[0])
        assert report.period["since"] == before.since.isoformat(), report.period
    finally:
        cluster.stop()
