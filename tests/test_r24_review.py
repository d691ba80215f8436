"""r24: review findings on session 32's changes, each on a real server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune import capabilities
from pgtune.analyze import Options
from pgtune.capture import Statement
from pgtune.cluster import LocalCluster, find_bindir

from .helpers import suggest

SETUP = """
CREATE TABLE people (id int PRIMARY KEY, first text NOT NULL, last text NOT NULL);
INSERT INTO people SELECT g, 'f' || g, 'l' || g FROM generate_series(1, 20000) g;
CREATE FUNCTION full_name(people) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT $1.first || ' ' || $1.last $$;
ANALYZE people;
"""
# A computed field (PostgREST, Supabase): p.full_name is full_name(p), attribute notation the server resolves.
COMPUTED = ["SELECT p.id, p.full_name FROM people p WHERE p.first = $1",
            "SELECT id FROM people p WHERE p.full_name = $1",
            "SELECT people.id FROM people WHERE people.full_name = $1 ORDER BY people.full_name"]


def test_a_computed_field_is_not_taken_for_a_dropped_column(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SETUP)
    for q in COMPUTED:      # the server plans each
        conn.execute("EXPLAIN " + q.replace("$1", "'x'"))
    statements = [Statement(query=q, queryid=n + 1, calls=1000, total_ms=5000.0, mean_ms=5.0)
                  for n, q in enumerate(COMPUTED)]
    advice = suggest(conn, statements, Options(min_rows=100))
    assert not [s for s in advice.skipped if "no longer has" in s.reason], advice.skipped   # main: the first
    assert ["first"] in [ix.columns for ix in advice.indexes if ix.table == "people"], advice.indexes


def test_a_server_never_restarted_is_not_said_to_have_emptied_pg_qualstats() -> None:
    """After pg_qualstats_reset() (the start of a window, as check's hint asks), no restart to name."""
    bindir = os.environ.get("PGTUNE_PG_BINDIR")
    cluster = LocalCluster(Path(bindir) if bindir else find_bindir()).start()
    try:
        with psycopg.connect(cluster.dsn, autocommit=True) as c:
            if c.execute("SELECT current_setting('pg_qualstats.max', true)").fetchone() == (None,):
                pytest.skip("pg_qualstats is not preloaded on this server")
            c.execute("CREATE EXTENSION pg_stat_statements; CREATE EXTENSION pg_qualstats")
            c.execute("CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL)")
            c.execute("SELECT pg_qualstats_reset()")
            c.execute("SELECT id FROM t WHERE n = 1")
            caps = capabilities.probe(c)
        # main: pg_stat_statements' reset is stamped a few ms before the server's start, taken for a restart
        assert not caps.pgss_kept_restart, caps
        assert not [h for h in caps.hints() if h.startswith("pg_qualstats holds no constants")], caps.hints()
    finally:
        cluster.stop()
