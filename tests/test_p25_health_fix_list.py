"""health without --emit printed every finding's own fix in a row: run as printed, they broke things (p25, MEDIUM).

On a Ghostfolio-shaped database after years of index debt, `pgtune health` (table) listed under "fix (review
before running …)" `DROP INDEX … order_userid_date_dba` (a duplicate of "Order_userId_date_idx"), `DROP INDEX …
"Order_userId_date_idx"` (unused: its twin took the scans since the counters' reset) and `DROP INDEX …
"Order_userId_idx"` (a leading part of "Order_userId_date_idx"): all three indexes on ("userId", …) gone at once.
It also re-ran the unique build of an INVALID index whose table holds duplicate keys (it fails again), VALIDATEd
a CHECK 50 rows break and a foreign key 30 orphans break (both fail), REINDEXed indexes it then dropped, and
printed some drops twice. `--emit` already chose right (keeps an index whose stand-in goes, leaves out a build or
VALIDATE that would fail); the printed list now is what --emit would run, in its order, plus what it leaves out.
"""

from __future__ import annotations

import contextlib
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune import api
from pgtune.cli import cli

SCHEMA = """
CREATE TABLE holding (id int PRIMARY KEY, user_id int NOT NULL, d date NOT NULL, qty int NOT NULL);
INSERT INTO holding SELECT g, g % 2000, DATE '2020-01-01' + g % 1000, g % 7 FROM generate_series(1, 20000) g;
CREATE INDEX holding_user_d ON holding (user_id, d);
CREATE INDEX holding_user_d_dba ON holding (user_id, d);
ALTER TABLE holding ADD CONSTRAINT holding_qty_low CHECK (qty < 5) NOT VALID;
ANALYZE holding;
"""


def _setup(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    with contextlib.suppress(psycopg.errors.UniqueViolation):    # left INVALID, as a failed build leaves it
        conn.execute("CREATE UNIQUE INDEX CONCURRENTLY holding_qty_key ON holding (qty)")
    conn.execute("SET enable_seqscan = off; SET enable_bitmapscan = off")
    for u in range(20):
        conn.execute("SELECT id FROM holding WHERE user_id = %s ORDER BY d", (u,))
    conn.execute("RESET enable_seqscan; RESET enable_bitmapscan")
    # The counters were reset since: the planner's favourite twin keeps the scans, the other reads 0.
    conn.execute("SELECT pg_stat_reset_single_table_counters('holding_user_d'::regclass)")
    conn.execute("SELECT pg_stat_force_next_flush()")
    [(a, b)] = conn.execute("SELECT (SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'holding_user_d'),"
                            " (SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'holding_user_d_dba')"
                            ).fetchall()
    if a:    # the planner took holding_user_d: reset the other one instead, so that the twin with scans is the dba's
        conn.execute("SELECT pg_stat_reset_single_table_counters('holding_user_d_dba'::regclass)")
        conn.execute("SELECT pg_stat_force_next_flush()")


def _dropped(fixes: list[str]) -> set[str]:
    return {s.rsplit(".", 1)[1].strip('";') for s in fixes if s.startswith("DROP INDEX")}


def test_the_printed_fixes_keep_a_stand_in_and_leave_out_what_fails(conn: psycopg.Connection[Any], db: str) -> None:
    _setup(conn)
    out = CliRunner().invoke(cli, ["health", "--dsn", db, "--min-stats-age", "0"])
    assert out.exit_code == 1, out.output
    printed = [line.strip().rstrip(";") for line in out.output.split("\nfix (", 1)[1].splitlines()[1:]
               if line.startswith("  ")]
    # Without the fix: both twins dropped (one as a duplicate, the other as unused), the unique build that fails
    # on the duplicate keys re-run, the CHECK its rows break VALIDATEd.
    assert not {"holding_user_d", "holding_user_d_dba"} <= _dropped(printed), out.output
    assert not any(s.startswith("CREATE UNIQUE INDEX") for s in printed), out.output
    assert not any("holding_qty_low" in s for s in printed), out.output
    assert len(printed) == len(set(printed)), out.output
    assert "not in the fix: not-valid-constraint on holding: holding_qty_low stays NOT VALID" in out.output, out.output

    report = api.health(conn, min_stats_age_s=0)
    found = {(f.check, f.index) for f in report.findings}
    assert ("duplicate-index", "holding_user_d_dba") in found or ("duplicate-index", "holding_user_d") in found, found
    assert any(c == "unused-index" and i in ("holding_user_d", "holding_user_d_dba") for c, i in found), found
    assert report.fixes == printed, (report.fixes, out.output)
    assert any("holding_qty_low" in s and "break it" in s for s in report.not_fixed), report.not_fixed
    assert any("holding_qty_key" in s for s in report.not_fixed), report.not_fixed
    assert report.as_dict()["fixes"] == printed
    # What the list prints runs: each statement, in order, on this server.
    for stmt in report.fixes:
        conn.execute(stmt)
    left = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'holding'")}
    assert left & {"holding_user_d", "holding_user_d_dba"}, left
