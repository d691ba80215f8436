"""A schema per tenant gets the same index name in each: emit's time prediction (baseline_pace) and heap-page count
(baseline_pages) must read the index of the schema the target's statement reads, not another tenant's.

Targets name their foreseen indexes by name alone; baseline_pace took the table of the last planned index of that name
and baseline_pages the first, so a tenant's target was timed on, or sampled at the size of, another tenant's table.
The statement's tables are resolved as the server resolves them: a qualified name, or its session's search_path.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest

from pgtune import baseline_pages
from pgtune.baseline_pace import paced
from pgtune.plan import PlannedIndex, Target

ADMINS = "SELECT id, email FROM members WHERE role = 'admin'"
NAME = "members_role_idx"


def _members(conn: psycopg.Connection[Any], schema: str, rows: int, every: int, key: bool) -> None:
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    conn.execute(f"CREATE TABLE {schema}.members (id bigint {'PRIMARY KEY' if key else ''}, email text NOT NULL, "
                 "role text NOT NULL)")
    conn.execute(f"INSERT INTO {schema}.members SELECT g, 'm' || g || '@example.com', "
                 f"CASE WHEN g % {every} = 0 THEN 'admin' ELSE 'member' END FROM generate_series(1, {rows}) AS g")
    conn.execute(f"VACUUM ANALYZE {schema}.members")


def _index(schema: str) -> PlannedIndex:
    ddl = f"CREATE INDEX CONCURRENTLY {NAME} ON {schema}.members (role)"
    return PlannedIndex(schema, "members", NAME, ddl, f"DROP INDEX CONCURRENTLY {schema}.{NAME}", "")


def _target(query: str, search_path: list[str] | None) -> Target:
    return Target(queryid=None, query=query, calls=10, baseline_cost=100.0, expected_indexes=[NAME],
                  warm_baseline_cost=100.0, warm_predicted_cost=12.0, warm_predicted_cpu=4.0,
                  predicted_scans=[f"Index Scan using {NAME} on members"], search_path=search_path)


def test_the_pace_is_timed_on_the_targets_own_tenant(conn: psycopg.Connection[Any]) -> None:
    """t_a's table has a primary key to time an index scan on, t_b's none: t_a's target was paced on t_b's table
    (the last index of the name), found none, and got no predicted time."""
    _members(conn, "t_a", 100_000, 500, key=True)
    _members(conn, "t_b", 1_000, 500, key=False)
    for order in ([_index("t_a"), _index("t_b")], [_index("t_b"), _index("t_a")]):
        a, b, qualified = paced(conn, [_target(ADMINS, ["t_a"]), _target(ADMINS + " AND id > 0", ["t_b"]),
                                       _target(ADMINS.replace("members", "t_a.members"), ["t_b"])], order)
        assert a.predicted_ms is not None, [ix.schema for ix in order]
        assert qualified.predicted_ms is not None, [ix.schema for ix in order]   # t_a's, named in the statement
        assert b.predicted_ms is None          # t_b's table has no index to time a scan on: no guess


def test_the_heap_pages_are_sampled_at_the_targets_own_tables_size(conn: psycopg.Connection[Any],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """t_a's 40 admins on 40 pages of a small table, read whole; t_b's same-named table is 10x larger: sized by it,
    t_a's table was sampled at a tenth and too few pages were found to count (None)."""
    _members(conn, "t_a", 5_000, 125, key=True)
    _members(conn, "t_b", 60_000, 125, key=True)
    pages = {s: int(conn.execute(f"SELECT pg_relation_size('{s}.members') / 8192").fetchone()[0])  # type: ignore[index]
             for s in ("t_a", "t_b")}
    assert pages["t_b"] > 10 * pages["t_a"], pages
    monkeypatch.setattr(baseline_pages, "SAMPLE_PAGES", pages["t_a"] + 1)
    t = _target(ADMINS, ["t_a"])
    for order in ([_index("t_a"), _index("t_b")], [_index("t_b"), _index("t_a")]):
        counted, _ = baseline_pages.with_heap_pages(conn, t, order, 1.0, deadline=time.monotonic() + 60)
        assert counted.heap_pages_sampled == 40, [ix.schema for ix in order]
