"""``pgtune check`` on pg_qualstats: a full table, how full it is, how to size it, and sampling (issue 23.2).

Once pg_qualstats.max entries are taken, every new predicate or constant evicts
the least used ones: the application's constants are lost. A server of its own
(pg_qualstats.max at its minimum, 100; one execution in ten sampled), since the
table is shared by every database of a server.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune import api
from pgtune.cli import cli
from pgtune.cluster import LocalCluster


@pytest.fixture(scope="module")
def small_qualstats() -> Iterator[str]:
    cluster = LocalCluster(settings={"pg_qualstats.max": "100", "pg_qualstats.sample_rate": "1"})
    if "pg_qualstats" not in cluster.settings.get("shared_preload_libraries", ""):
        pytest.skip("pg_qualstats is not available for this server")
    cluster.start()
    try:
        with psycopg.connect(cluster.dsn, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
            conn.execute("CREATE EXTENSION pg_qualstats")
            conn.execute("CREATE TABLE t (id int PRIMARY KEY, status text, ref int)")
            conn.execute("INSERT INTO t SELECT g, 'x' || g % 3, g % 500 FROM generate_series(1, 1000) AS g")
        yield cluster.dsn
    finally:
        cluster.stop()


def _fill(dsn: str, constants: int, column: str = "ref") -> None:
    """The application: one statement run with ``constants`` distinct values (an entry each)."""
    with psycopg.connect(dsn, autocommit=True) as app:
        app.execute("SELECT pg_qualstats_reset()")
        for k in range(constants):
            # A literal each time: a server-side parameter goes generic after five runs, which records no constant.
            app.execute(psycopg.sql.SQL("SELECT status FROM t WHERE {} = {}").format(
                psycopg.sql.Identifier(column), k)).fetchall()


def _check(dsn: str) -> tuple[int, dict[str, Any], str]:
    text = CliRunner().invoke(cli, ["check", "--dsn", dsn])
    out = CliRunner().invoke(cli, ["check", "--dsn", dsn, "--format", "json"])
    return out.exit_code, json.loads(out.stdout), text.output


def test_a_full_pg_qualstats_table_is_reported_with_its_size_and_fix(small_qualstats: str) -> None:
    _fill(small_qualstats, 300)
    code, doc, text = _check(small_qualstats)
    assert code == 0
    # Full, pg_qualstats frees the 10 least used entries (5%, at least 10) for each new one: 90 to 100 stay.
    assert doc["qualstats_max"] == 100 and 90 <= doc["qualstats_entries"] <= 100 and doc["qualstats_full"], doc
    full = [h for h in doc["hints"] if h.startswith("pg_qualstats is full")]
    assert len(full) == 1, doc["hints"]
    # Sized from what the workload fills: the full table's entries (pg_qualstats.max) per statement for every
    # statement pg_stat_statements tracks, at least twice the present table, rounded up to a thousand.
    per = doc["qualstats_max"] / doc["qualstats_statements"]
    want = max(200, math.ceil(per * doc["pgss_statements"]))
    assert f"ALTER SYSTEM SET pg_qualstats.max = {math.ceil(want / 1000) * 1000};" in full[0]
    assert f"its 1 statement fills it ({per:,.1f} entries each)" in full[0]
    [row] = [line for line in text.splitlines() if line.startswith("pg_qualstats entries")]
    assert row.split()[-3:] == ["100", "(100%,", "full)"] or "full)" in row, row


def test_the_full_tables_hint_is_the_same_from_run_to_run(small_qualstats: str) -> None:
    """The tryouts' F7: the same workload, read again, got another pg_qualstats.max and another text.

    pgtune's own statements (pg_stat_statements keeps them too) grew the count of
    statements the size is for with every run (12, then 45 after a suggest: 2000,
    then 5000), and the entries a full table holds move between 90% and 100% of
    the maximum with each eviction (90, then 95). Neither is the workload's.
    """
    _fill(small_qualstats, 300)
    first = _full_hint(small_qualstats)
    out = CliRunner().invoke(cli, ["suggest", "--dsn", small_qualstats, "--format", "json"])
    assert out.exit_code == 0, out.output
    with psycopg.connect(small_qualstats, autocommit=True) as app:     # the application again: more evictions
        for k in range(300, 305):
            app.execute(psycopg.sql.SQL("SELECT status FROM t WHERE ref = {}").format(k)).fetchall()
    assert _full_hint(small_qualstats) == first
    # The fixture's INSERT, the application's SELECT and its pg_qualstats_reset(): not pgtune's statements.
    assert "pg_stat_statements tracks 3 that may have predicates" in first, first


def _full_hint(dsn: str) -> str:
    out = CliRunner().invoke(cli, ["check", "--dsn", dsn, "--format", "json"])
    [hint] = [h for h in json.loads(out.stdout)["hints"] if h.startswith("pg_qualstats is full")]
    return str(hint)


def test_no_size_hint_when_unique_key_lookups_fill_it(small_qualstats: str) -> None:
    """Each primary key looked up takes an entry: a larger table fills the same way, so no size is advised (q9)."""
    _fill(small_qualstats, 300, column="id")
    code, doc, text = _check(small_qualstats)
    assert code == 0 and doc["qualstats_full"] and doc["qualstats_unique"] >= 45, doc
    assert not [h for h in doc["hints"] if h.startswith("pg_qualstats is full")], doc["hints"]
    out = CliRunner().invoke(cli, ["config", "--dsn", small_qualstats, "--format", "json"])
    assert out.exit_code in (0, 1), out.output
    assert "pg_qualstats.max" not in out.stdout, out.stdout


def test_a_table_with_room_is_not_full(small_qualstats: str) -> None:
    _fill(small_qualstats, 20)
    with psycopg.connect(small_qualstats, autocommit=True) as conn:
        caps = api.check(conn)
    assert caps.qualstats_entries is not None and caps.qualstats_entries <= 30 and not caps.qualstats_full
    assert not [h for h in caps.hints() if "full" in h]


def test_sampling_below_one_says_what_it_misses(small_qualstats: str) -> None:
    with psycopg.connect(small_qualstats, autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET pg_qualstats.sample_rate = 0.1")
        conn.execute("SELECT pg_reload_conf()")
    try:
        with psycopg.connect(small_qualstats, autocommit=True) as conn:
            caps = api.check(conn)
        assert caps.qualstats_rate == pytest.approx(0.1)
        [hint] = [h for h in caps.hints() if "samples one execution in 10 " in h]
        assert "ALTER SYSTEM SET pg_qualstats.sample_rate = 1;" in hint
    finally:
        with psycopg.connect(small_qualstats, autocommit=True) as conn:
            conn.execute("ALTER SYSTEM RESET pg_qualstats.sample_rate")
            conn.execute("SELECT pg_reload_conf()")
