"""p28: a restart empties pg_qualstats and keeps pg_stat_statements: check and suggest say so.

On a Typebot-shaped database, after the restart that put shared_buffers in force, pg_qualstats held 0 entries
while pg_stat_statements kept its statements; suggest then costed "the last hour" over pg_stats' last histogram
bucket (28 hours) and proposed two b-trees (206 MB) where it had proposed a 48 kB BRIN, with no word of why.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from pgtune import capabilities
from pgtune.cluster import LocalCluster, find_bindir

from .test_config_restart import restart

EMPTY = "pg_qualstats holds no constants while pg_stat_statements tracks"


def test_a_restart_that_emptied_pg_qualstats_is_named() -> None:
    bindir = os.environ.get("PGTUNE_PG_BINDIR")
    cluster = LocalCluster(Path(bindir) if bindir else find_bindir()).start()
    try:
        with psycopg.connect(cluster.dsn, autocommit=True) as c:
            if c.execute("SELECT current_setting('pg_qualstats.max', true)").fetchone() == (None,):
                pytest.skip("pg_qualstats is not preloaded on this server")
            c.execute("CREATE EXTENSION pg_stat_statements; CREATE EXTENSION pg_qualstats")
            c.execute("CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL)")
            c.execute("INSERT INTO t SELECT g, g % 100 FROM generate_series(1, 1000) g")
            c.execute("SELECT pg_stat_statements_reset()")
        with psycopg.connect(cluster.dsn, autocommit=True) as app:
            for i in range(5):
                app.execute("SELECT id FROM t WHERE n = %s", (i,)).fetchall()
        with psycopg.connect(cluster.dsn, autocommit=True) as c:
            before = capabilities.probe(c)
        assert before.qualstats_entries and not any(h.startswith(EMPTY) for h in before.hints()), before.hints()
        restart(cluster)
        with psycopg.connect(cluster.dsn, autocommit=True) as c:
            after = capabilities.probe(c)
            assert after.qualstats_entries == 0 and after.pgss_statements and after.pgss_kept_restart
            assert any(h.startswith(EMPTY) and "run pgtune after a while of normal load" in h
                       for h in after.hints()), after.hints()
            assert "pgss_kept_restart" not in after.as_dict()
        with psycopg.connect(cluster.dsn, autocommit=True) as app:
            app.execute("SELECT id FROM t WHERE n = %s", (7,)).fetchall()
        with psycopg.connect(cluster.dsn, autocommit=True) as c:
            again = capabilities.probe(c)
        assert again.qualstats_entries and not any(h.startswith(EMPTY) for h in again.hints()), again.hints()
    finally:
        cluster.stop()
