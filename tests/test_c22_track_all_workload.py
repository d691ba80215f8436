"""c22: with pg_stat_statements.track = all, a statement a PL/pgSQL function runs was counted twice in the
workload's time: once inside the call's own (toplevel) time and once as its own nested row. suggest's
workload_ms was their sum (3,014 ms where the application's statements took 2,119 ms), which made the
uncosted in-function statement look a smaller share than it is (30% instead of 42%). The workload's time is now
that of the toplevel statements; nested rows are its breakdown."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune.cli import cli


def test_a_functions_statement_is_not_counted_twice_in_workload_ms(db: str, conn: psycopg.Connection[Any]) -> None:
    if conn.info.server_version < 140000:
        pytest.skip("pg_stat_statements says which statements ran nested from PostgreSQL 14 on")
    conn.execute("CREATE TABLE event (id bigint PRIMARY KEY, site int NOT NULL, at timestamptz NOT NULL)")
    conn.execute("INSERT INTO event SELECT g, g % 100, now() - g * interval '1 minute' "
                 "FROM generate_series(1, 200000) g")
    conn.execute("ANALYZE event")
    conn.execute("""CREATE FUNCTION site_views(p_site int) RETURNS bigint LANGUAGE plpgsql STABLE AS $f$
                    BEGIN RETURN (SELECT count(*) FROM event e WHERE e.site = p_site); END $f$""")
    conn.execute("SELECT pg_stat_statements_reset()")
    conn.execute("SET pg_stat_statements.track = 'all'")
    for site in range(20):
        conn.execute("SELECT site_views(%s)", (site,))
        conn.execute("SELECT count(*) FROM event WHERE at > now() - %s * interval '1 minute'", (site * 100,))
    conn.execute("RESET pg_stat_statements.track")
    rows = conn.execute("SELECT query, toplevel, total_exec_time FROM pg_stat_statements "
                        "WHERE query LIKE '%site_views(%' OR query LIKE '%FROM event%'").fetchall()
    nested_ms = sum(ms for _, top, ms in rows if not top)
    toplevel_ms = sum(ms for _, top, ms in rows if top)
    assert nested_ms > 0 and toplevel_ms > nested_ms, rows

    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--format", "json"])
    assert out.exit_code == 0, out.output
    advice = json.loads(out.stdout)
    # Only the workload's statements and pgtune's probe above (a few ms) were run in this database.
    assert toplevel_ms <= advice["workload_ms"] < toplevel_ms + 0.25 * nested_ms, (advice["workload_ms"], rows)
    [inner] = [s for s in advice["skipped"] if "p_site" in s["query"]]
    assert inner["kind"] == "in-function"
    assert advice["uncosted_ms"] == pytest.approx(nested_ms)
    assert advice["uncosted_share"] == pytest.approx(nested_ms / advice["workload_ms"])
