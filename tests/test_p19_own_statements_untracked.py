"""pgtune's own statements take no pg_stat_statements entry where its role may say so (p19, HIGH).

On an Umami-shaped production server with pg_stat_statements.max = 150 and
entries already evicted (dealloc 31), one ``pgtune suggest`` added about 170
entries of its own (catalog reads, PREPAREs, BEGIN/ROLLBACK, set_config) and
evicted the application's least-used ones: 141 application entries became 22,
and the next run read what was left. pgtune now turns pg_stat_statements.track
off in the sessions it opens, where the role may set it (a superuser; on 15+ a
``GRANT SET ON PARAMETER``); another role keeps tracking, with no error, and
``check`` tells it, on a full pg_stat_statements, what each run costs and the GRANT.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import psycopg
from click.testing import CliRunner
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgtune import capabilities
from pgtune.cli import cli
from pgtune.connect import connect


def _entries(conn: psycopg.Connection[Any]) -> set[str]:
    return {q for (q,) in conn.execute("SELECT s.query FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
                                       "WHERE d.datname = current_database()")}


def test_a_suggest_run_adds_no_entry_to_pg_stat_statements(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE visits (id bigint PRIMARY KEY, site int NOT NULL, at timestamptz NOT NULL)")
    conn.execute("INSERT INTO visits SELECT g, g % 50, now() - g * interval '1 minute' "
                 "FROM generate_series(1, 20000) g")
    conn.execute("ANALYZE visits")
    conn.execute("SELECT pg_stat_statements_reset()")
    for site in range(5):
        conn.execute("SELECT count(*) FROM visits WHERE site = %s AND at > now() - interval '1 day'", (site,))
    before = _entries(conn) | _entries(conn)       # the second read holds the reading statement itself
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--format", "json"])
    assert out.exit_code == 0, out.output
    assert "visits" in out.stdout
    # Without the fix: dozens of entries of pgtune's own here (each of them evicts one at .max). The one left is
    # the transaction-pooler probe's, run before the setting may be changed (on a pooled session it would stay).
    added = _entries(conn) - before
    assert added <= {"SELECT /* pgtune */ pg_catalog.pg_backend_pid()"}, sorted(added)


def test_a_role_that_may_not_set_it_keeps_tracking_without_error(db: str, conn: psycopg.Connection[Any]) -> None:
    role = f"app_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    params = conninfo_to_dict(db)
    params["user"] = role
    dsn = make_conninfo("", **params)
    with connect(dsn) as own:
        assert own.execute("SHOW pg_stat_statements.track").fetchone() != ("none",)
    if conn.info.server_version >= 150000:
        conn.execute(sql.SQL("GRANT SET ON PARAMETER pg_stat_statements.track TO {}").format(sql.Identifier(role)))
        with connect(dsn) as own:
            assert own.execute("SHOW pg_stat_statements.track").fetchone() == ("none",)
    with connect(db) as own:
        assert own.execute("SHOW pg_stat_statements.track").fetchone() == ("none",)


def test_check_says_when_pgtunes_own_statements_would_evict_the_applications(
        db: str, conn: psycopg.Connection[Any]) -> None:
    """A role that may not turn tracking off is told, on a full pg_stat_statements, what each run costs and the
    GRANT that ends it; a superuser is not (its sessions stay out)."""
    role = f"dba_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    params = conninfo_to_dict(db)
    params["user"] = role
    with connect(make_conninfo("", **params)) as own:
        caps = capabilities.probe(own)
    assert caps.pgss_untracked is False and caps.pgss_max and caps.pgss_entries is not None
    assert (caps.pgss_dealloc is not None) == (conn.info.server_version >= 140000)
    full = replace(caps, pgss_entries=caps.pgss_max)
    [hint] = full.eviction_hints()
    assert f"role {role!r} may not keep pgtune's own statements out of it" in hint
    assert ("GRANT SET ON PARAMETER pg_stat_statements.track TO" in hint) == (conn.info.server_version >= 150000)
    assert replace(caps, pgss_entries=caps.pgss_max // 2, pgss_dealloc=0).eviction_hints() == []
    with connect(db) as own:
        caps = capabilities.probe(own)
    assert caps.pgss_untracked is True
    assert replace(caps, pgss_entries=caps.pgss_max).eviction_hints() == []
