"""issue 28: the heap pages an index scan visits, counted on a sample where the planner's correlation misleads it."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune import baseline_pages, plan
from pgtune.apply import Applier
from pgtune.baseline_pace import Pace, Probe
from pgtune.explain import explain
from pgtune.verify import TargetResult, diagnose, verify

from .helpers import emitted

ADMINS = 'SELECT id, email FROM members WHERE role = \'admin\' AND "deletedAt" IS NULL'


def members(conn: psycopg.Connection[Any]) -> None:
    """100,000 members in order, one in 500 an admin (200, one a page apart), every admin deleted: role's
    correlation is near 1 (99.8% are 'member'), so the planner counts a few pages for the 200 admins."""
    conn.execute('CREATE TABLE members (id bigint PRIMARY KEY, email text NOT NULL, role text NOT NULL, '
                 '"deletedAt" timestamptz)')
    conn.execute("INSERT INTO members SELECT g, 'm' || g || '@example.com', "
                 "CASE WHEN g % 500 = 0 THEN 'admin' ELSE 'member' END, "
                 "CASE WHEN g % 20 = 0 THEN now() END FROM generate_series(1, 100000) AS g")
    conn.execute("VACUUM ANALYZE members")


@pytest.mark.needs_hypopg
def test_emit_counts_the_heap_pages_the_index_scan_visits(conn: psycopg.Connection[Any], tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows matching the conditions on the index's keys (not ``"deletedAt" IS NULL``, a filter after the heap
    fetch: no admin passes it) sit on 200 pages, which the built index scan reads; the planner counts far fewer."""
    members(conn)
    emitted(conn, tmp_path / "m", ADMINS + ";", measure=True)
    [t] = plan.load(tmp_path / "m").targets
    assert t.predicted_scans and t.predicted_scans[0].startswith("Index Scan ")
    assert t.heap_pages_sampled == 200           # the whole table read (under SAMPLE_PAGES): an exact count
    assert t.heap_pages_planned is not None
    assert t.heap_pages_sampled > baseline_pages.PAGE_COUNT_OFF * t.heap_pages_planned
    Applier(conn, tmp_path / "m").apply()
    built = explain(conn, ADMINS, analyze=True).plan["Plan"]
    buffers = int(built["Shared Hit Blocks"]) + int(built.get("Shared Read Blocks", 0))
    assert built["Node Type"] == "Index Scan" and built["Actual Rows"] == 0
    assert 200 <= buffers <= 200 + 5              # the sampled heap pages and the index's own few
    result = verify(conn, tmp_path / "m", analyze=True)
    [r] = result.targets
    assert (r.heap_pages_planned, r.heap_pages_sampled) == (t.heap_pages_planned, t.heap_pages_sampled)
    # A table larger than the sample: a share of its pages read, the count scaled up.
    Applier(conn, tmp_path / "m").rollback()
    monkeypatch.setattr(baseline_pages, "SAMPLE_PAGES", 300)
    emitted(conn, tmp_path / "s", ADMINS + ";", measure=True)
    m = plan.load(tmp_path / "s")
    [s] = m.targets
    assert s.heap_pages_sampled is not None and 120 < s.heap_pages_sampled < 300
    # REPEATABLE: every target on the table samples the same pages (read from the cache after the first).
    [ix] = [ix for p in m.phases for ix in p.indexes]
    again = [baseline_pages.heap_pages(conn, s, ix, 1.0) for _ in range(3)]
    assert {p.sampled for p in again if p is not None} == {s.heap_pages_sampled}
    # No sample starts once the migration's budget for them is spent.
    spent = baseline_pages.with_heap_pages(conn, s, [ix], 1.0, deadline=time.monotonic())
    assert spent == (s, 0.0)


@pytest.mark.needs_hypopg
def test_a_limit_or_another_index_is_not_counted(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """A LIMIT stops the scan early, and a plan that is no single index scan on the table has no such count."""
    members(conn)
    emitted(conn, tmp_path / "m", ADMINS + " ORDER BY id LIMIT 5;\n"
            "SELECT id FROM members WHERE email = 'm7@example.com';", measure=True)
    targets = {t.query.split(" WHERE ")[1][:5]: t for t in plan.load(tmp_path / "m").targets}
    assert targets["role "].heap_pages_sampled is None
    one = targets["email"]
    assert one.heap_pages_sampled == 1 and one.heap_pages_planned is not None    # counted, not off: left alone


@pytest.mark.needs_hypopg
def test_the_sample_of_a_parameterized_target_carries_pgtunes_mark(conn: psycopg.Connection[Any],
                                                                      tmp_path: Path) -> None:
    """Its values are put in by pglast's printer, which drops comments: without the mark put back,
    pg_stat_statements would offer the sample to the next suggest as one of the application's statements."""
    members(conn)
    conn.execute("SELECT pg_stat_statements_reset()")
    emitted(conn, tmp_path / "m", "SELECT id FROM members WHERE email = $1;", measure=True)
    [t] = plan.load(tmp_path / "m").targets
    assert t.values and t.heap_pages_sampled == 1
    samples = [q for (q,) in conn.execute("SELECT query FROM pg_stat_statements WHERE query LIKE '%TABLESAMPLE%'")]
    assert samples and all("/* pgtune */" in q for q in samples)


def test_the_pages_the_planner_missed_are_timed_at_the_page_pace() -> None:
    """Added to the predicted time: the missed pages at the time per page unit (per_unit), not the line's."""
    one = Probe(0.008, 0.46, 0.44)
    many = Probe(one.ms + 0.0005 * (16.0 - one.pages) + 0.006 * (15.0 - one.cpu), 31.0, 15.0)
    pages = Probe(one.ms + 0.0005 * (200 - one.pages) + 0.006 * (2.5 - one.cpu), 202.5, 2.5)
    pace = Pace(one.ms, one.cost, many.ms, many.cost, probes=(one, many, pages))
    assert math.isclose(pace.pages_ms(184.0), 0.0005 * 184) and pace.pages_ms(0.0) == 0.0
    assert Pace(one.ms, one.cost, many.ms, many.cost).pages_ms(184.0) == 0.0      # no page pace: no guess


def test_a_disagreement_names_the_page_count() -> None:
    base: dict[str, Any] = dict(queryid=1, name="select t #000000", query="SELECT 1", expected=["i"], used=["i"],
                                plan_indexes=["i"], baseline_cost=1000.0, predicted_cost=10.0, cost=10.0,
                                baseline_ms=10.0, ms=1.0, baseline_read_blocks=0, read_blocks=0)
    off = diagnose(TargetResult(**base, heap_pages_planned=16.0, heap_pages_sampled=200.0))
    assert "page count: the planner counts 16 heap pages for the rows the index scan visits, a sample at emit " \
           "found 200" in off
    assert "page count" not in diagnose(TargetResult(**base, heap_pages_planned=100.0, heap_pages_sampled=200.0))


def test_a_table_never_analyzed_is_sampled_by_its_size_on_disk(conn: psycopg.Connection[Any]) -> None:
    """r9: relpages is 0 before the first VACUUM or ANALYZE, and "0 pages" made the sample read the whole table."""
    from pgtune import catalog_sql

    conn.execute("CREATE TABLE fresh (id bigint, pad text) WITH (autovacuum_enabled = off)")
    conn.execute("INSERT INTO fresh SELECT g, repeat('x', 100) FROM generate_series(1, 50000) g")
    assert conn.execute("SELECT relpages FROM pg_class WHERE relname = 'fresh'").fetchone() == (0,)
    row = conn.execute(catalog_sql.load("table_pages"), {"schema": "public", "table": "fresh"}).fetchone()
    size = conn.execute("SELECT pg_relation_size('fresh') / 8192").fetchone()
    assert row is not None and size is not None and row[0] == size[0] > baseline_pages.SAMPLE_PAGES // 10, (row, size)
