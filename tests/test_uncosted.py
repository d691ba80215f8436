"""Statements pg_stat_statements normalized past what the server parses, and a headline that says what it left out.

u2's F2: umami's dashboard reaches pg_stat_statements as ``extract($9 from …)`` (no server parses a $n as
EXTRACT's field) and ``sum(case when … then $5 else $6 end)`` (the $n are text: sum(text) does not exist).
Both were "cannot plan", and the headline said "the workload is already served" with none of it costed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune.cli import cli

EVENTS = """
CREATE TABLE website_event (event_id bigint PRIMARY KEY, website_id int NOT NULL, session_id int NOT NULL,
  visit_id int NOT NULL, created_at timestamptz NOT NULL, event_type int NOT NULL DEFAULT 1);
INSERT INTO website_event SELECT i, i % 10, i / 5, i / 3, now() - (i || ' seconds')::interval, 1 + (i % 7 = 0)::int
FROM generate_series(1, 200000) i;
ANALYZE website_event;
"""
STATS = """select cast(coalesce(sum(t.c), 0) as bigint) as "pageviews", count(distinct t.session_id) as "visitors",
  coalesce(sum(case when t.c = 1 then 1 else 0 end), 0) as "bounces",
  cast(coalesce(sum(floor(extract(epoch from (t.max_time - t.min_time)))), 0) as bigint) as "totaltime"
from (select website_event.session_id, website_event.visit_id, count(*) as "c",
        min(website_event.created_at) as "min_time", max(website_event.created_at) as "max_time"
      from website_event where website_event.website_id = %s and website_event.created_at between %s and %s
      group by 1, 2) as t"""
SESSIONS = """select website_event.session_id, sum(case when website_event.event_type = 1 then 1 else 0 end) as "views"
from website_event where website_event.website_id = %s and website_event.created_at between %s and %s
group by 1 order by 2 desc limit 20"""


def _suggest(db: str) -> tuple[dict[str, Any], str]:
    as_json = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--format", "json", "--no-constraints"])
    assert as_json.exit_code == 0, as_json.output
    text = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--no-constraints"])
    assert text.exit_code == 0, text.output
    return json.loads(as_json.stdout), text.stdout


@pytest.mark.needs_hypopg
def test_extract_and_a_sum_of_case_as_pg_stat_statements_keeps_them_are_planned(db: str, conn: Any) -> None:
    conn.execute(EVENTS)
    conn.execute("SELECT pg_stat_statements_reset()")
    now = datetime.now(UTC)
    with psycopg.connect(db, autocommit=True) as app:
        for i in range(10):
            for query in (STATS, SESSIONS):
                app.execute(query, (i, now - timedelta(hours=6), now))
    doc, text = _suggest(db)
    rows = [s for s in doc["statements"] if "website_event" in s["query"]]
    assert len(rows) == 2 and all(s["cost_before"] is not None for s in rows), (rows, doc["skipped"])
    assert not [s for s in doc["skipped"] if s["kind"] == "cannot-plan"], doc["skipped"]
    assert any("extract($" in s["query"].lower() for s in rows)
    assert any(ix["table"] == "website_event" for ix in doc["indexes"]), text
    assert not doc["partly_costed"] and "already served" not in text


def test_a_headline_over_a_small_part_of_the_workload_says_what_it_leaves_out(db: str, conn: Any) -> None:
    """The statements holding most of the time cannot be costed (their table is gone: 'references no known
    table'): no 'already served', and the share said beside the headline."""
    conn.execute(EVENTS)
    conn.execute("CREATE TABLE small (id int PRIMARY KEY, name text NOT NULL)")
    conn.execute("INSERT INTO small SELECT i, 'n' || i FROM generate_series(1, 100) i")
    conn.execute("ANALYZE small")
    conn.execute("SELECT pg_stat_statements_reset()")
    with psycopg.connect(db, autocommit=True) as app:
        for i in range(20):
            app.execute("SELECT count(*) FROM website_event WHERE visit_id = %s", (i,))     # ~10 ms, seq scan
            app.execute("SELECT name FROM small WHERE id = %s", (i,))
    conn.execute("ALTER TABLE website_event RENAME TO website_event_old")
    doc, text = _suggest(db)
    assert doc["partly_costed"] and doc["uncosted_share"] > 0.9, doc["uncosted_share"]
    assert "already served" not in text, text
    assert "not costed" in text and "no verdict on them" in text, text
    assert any("were not costed (1 unknown-table" in h for h in doc["hints"]), doc["hints"]


@pytest.mark.needs_hypopg
def test_the_skipped_list_shows_the_costliest_unplannable_statement_first(db: str, conn: Any) -> None:
    """u2's R3: the skipped list's first lines were the bind-time skips (INSERTs with no filter, a DBA's
    pg_stat_statements queries) and the statement that could not be planned came after them, out of sight."""
    conn.execute(EVENTS)
    conn.execute("CREATE FUNCTION bucket(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 % 100'")
    for n in range(6):
        conn.execute(f"CREATE TABLE log_{n} (id int, at timestamptz DEFAULT now())")
    conn.execute("SELECT pg_stat_statements_reset()")
    with psycopg.connect(db, autocommit=True) as app:
        for i in range(30):
            for n in range(6):
                app.execute(f"INSERT INTO log_{n} (id) VALUES (%s)", (i,))             # no filter: skipped
        for i in range(5):
            app.execute("SELECT count(*) FROM website_event WHERE bucket(visit_id) = %s", (i,))   # seq scans
    conn.execute("DROP FUNCTION bucket(int)")              # now the costliest statement cannot be planned
    doc, text = _suggest(db)
    kinds = [s["kind"] for s in doc["skipped"]]
    assert kinds[0] == "cannot-plan", doc["skipped"]
    assert [s["total_ms"] for s in doc["skipped"][1:]] == sorted((s["total_ms"] for s in doc["skipped"][1:]),
                                                                 reverse=True)
    listed = text.split("--format json lists them all")[1].splitlines()[1]
    assert "FROM website_event WHERE bucket(" in listed and "cannot plan" in listed and " ms" in listed, text


@pytest.mark.needs_hypopg
def test_a_queries_file_s_uncosted_share_counts_statements_not_time(db: str, conn: Any, tmp_path: Any) -> None:
    """A --queries file has no times: the share left out is of its statements, and the hint says so (it said
    "of the workload's time" over a figure that counted statements)."""
    conn.execute(EVENTS)
    queries = tmp_path / "q.sql"
    queries.write_text("SELECT session_id FROM website_event WHERE website_id = 3 AND created_at > now() - "
                       "interval '1 hour';\nSELECT event_id FROM website_evnt WHERE website_id = 3;\n")
    result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--no-constraints", "--queries", str(queries)])
    assert result.exit_code == 0, result.output
    assert "1 statement(s) holding 50% of the statements (no times: a --queries file) were not costed" \
        in result.stdout, result.stdout
    assert "of the workload's time" not in result.stdout
