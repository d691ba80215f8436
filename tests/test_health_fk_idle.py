"""foreign-key-without-index on a key nothing uses yet (the formbricks tryout's F5).

An index on a foreign key serves the parent's deletes and key updates (the
server searches the child for each) and the workload's reads of the child by
the key. A parent with no rows and no deletes, whose key no UPDATE sets, and a
child the workload never reads by the key: the index would serve nothing and
cost every insert into the child. health says so (info, no fix, the reason in
the finding) and --emit builds nothing for it; each use brings the warning
and its fix back.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune import api
from pgtune.cli import cli
from pgtune.health import Severity

SCHEMA = """
CREATE TABLE teams (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE responses (id bigint PRIMARY KEY, "teamId" bigint REFERENCES teams (id) ON DELETE CASCADE,
                        body text NOT NULL);
INSERT INTO responses SELECT g, NULL, 'r' || g FROM generate_series(1, 3000) AS g;
ANALYZE;
"""


def _run(conn: psycopg.Connection[Any], *queries: str) -> None:
    """The application's statements, then its counters flushed (a backend may hold them up to 10 s)."""
    for q in queries:
        conn.execute(q)
    conn.execute("SELECT pg_stat_force_next_flush()")


def _finding(conn: psycopg.Connection[Any], min_stats_age_s: float = 7 * 86_400) -> Any:
    report = api.health(conn, only=["foreign-key-without-index"], min_stats_age_s=min_stats_age_s)
    [f] = report.findings
    return f


def test_a_key_into_an_empty_parent_nothing_reads_by_is_info_without_a_fix(
        db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    _run(conn, "SELECT id, \"teamId\", body FROM responses WHERE id = 5",      # its output only: no use of the key
         "INSERT INTO responses VALUES (9001, NULL, 'x')")
    f = _finding(conn)
    assert f.severity == Severity.INFO and f.fix == [], f
    assert "needs none now: teams has no rows and had no delete" in f.message, f.message
    assert "reads responses by teamId" in f.message and f.evidence["index"] is None
    out = CliRunner().invoke(cli, ["health", "--dsn", db, "--check", "foreign-key-without-index"])
    assert out.exit_code == 0, out.output          # info does not fail the run (--fail-on warning)


def test_a_parent_analyzed_empty_that_has_rows_since_is_not_called_empty(conn: psycopg.Connection[Any]) -> None:
    """reltuples 0 is stale once rows come in under the autoanalyze threshold (and on PostgreSQL 13 it also means
    never analyzed): the short statistics window then keeps the warning."""
    conn.execute(SCHEMA)
    _run(conn, "INSERT INTO teams VALUES (1, 'a'), (2, 'b')")       # after ANALYZE: reltuples still 0
    f = _finding(conn)
    assert f.severity != Severity.INFO and f.fix, f


def test_a_read_by_the_key_brings_the_warning_and_its_fix_back(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    _run(conn, 'SELECT r.id FROM responses AS r JOIN teams AS t ON t.id = r."teamId" WHERE t.name = \'a\'')
    f = _finding(conn)
    # Every "teamId" is NULL: the index without them serves the join (test_fk_not_null_index).
    assert f.severity == Severity.WARNING and f.fix == [
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS "responses_teamId_idx" ON public.responses ("teamId") '
        'WHERE "teamId" IS NOT NULL'], f


def test_a_parent_with_rows_is_judged_on_its_deletes_and_key_updates(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    conn.execute("INSERT INTO teams SELECT g, 't' || g FROM generate_series(1, 100) AS g; ANALYZE teams")
    _run(conn, "UPDATE teams SET name = 'renamed' WHERE id = 3")     # not the key: no search of the child
    # A window shorter than --min-stats-age: no delete in it says nothing yet.
    assert _finding(conn).severity == Severity.WARNING
    assert _finding(conn, min_stats_age_s=0).severity == Severity.INFO
    _run(conn, "UPDATE teams SET id = 1000 WHERE id = 4")             # the key: the child is searched
    assert _finding(conn, min_stats_age_s=0).severity == Severity.WARNING


def test_a_delete_on_the_parent_brings_the_warning_back(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    conn.execute("INSERT INTO teams SELECT g, 't' || g FROM generate_series(1, 100) AS g; ANALYZE teams")
    assert _finding(conn, min_stats_age_s=0).severity == Severity.INFO
    _run(conn, "DELETE FROM teams WHERE id = 7")
    f = _finding(conn, min_stats_age_s=0)
    assert f.severity == Severity.WARNING and f.fix, f


def test_emit_builds_nothing_for_an_idle_key(db: str, conn: psycopg.Connection[Any], tmp_path: Any) -> None:
    conn.execute(SCHEMA)
    out = CliRunner().invoke(cli, ["health", "--dsn", db, "--check", "foreign-key-without-index", "--emit",
                                   str(tmp_path), "--format", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["migration"]["phases"] == [], doc["migration"]
    assert doc["migration"]["left_out"] == ["foreign-key-without-index on responses: no index built, none needed "
                                            "now (responses_teamId_fkey)"], doc["migration"]


def test_rows_written_before_a_statistics_reset_are_still_rows(conn: psycopg.Connection[Any]) -> None:
    """r7: after pg_stat_reset() (or a crash restart) the parent's write counters read 0 while its rows are there;
    with reltuples still 0 from an ANALYZE of the empty table, it was called empty."""
    conn.execute(SCHEMA)
    _run(conn, "INSERT INTO teams SELECT g, 't' || g FROM generate_series(1, 50) g")
    conn.execute("SELECT pg_stat_reset()")
    conn.execute("SELECT pg_stat_force_next_flush()")
    f = _finding(conn)
    assert f.severity != Severity.INFO and f.fix, f


def test_a_partitioned_parent_with_rows_in_its_partitions_is_not_called_empty(conn: psycopg.Connection[Any]) -> None:
    """r8: the partitioned parent has no storage of its own (pg_relation_size 0): its rows are its partitions'."""
    conn.execute(SCHEMA.replace("CREATE TABLE teams (id bigint PRIMARY KEY, name text NOT NULL);",
                                "CREATE TABLE teams (id bigint PRIMARY KEY, name text NOT NULL) "
                                "PARTITION BY RANGE (id);"
                                "CREATE TABLE teams_1 PARTITION OF teams FOR VALUES FROM (0) TO (1000000);"))
    _run(conn, "INSERT INTO teams SELECT g, 't' || g FROM generate_series(1, 50) g")
    conn.execute("SELECT pg_stat_reset()")
    conn.execute("SELECT pg_stat_force_next_flush()")
    f = _finding(conn)
    assert f.severity != Severity.INFO and f.fix, f
