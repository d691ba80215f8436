"""A predicted time for a target, from the time per planner cost unit of an index scan measured at emit.

The planner's cost is not a time: on this project's 2-core machine a sequential scan ran at 4-9 µs per
warm cost unit and the index scans that replace it at 1.5-4, so a cost cut understated the time cut
2-5x, more under load (a long scan is stretched by other processes, a 20 µs probe is not). verify's
baseline time is measured, so what is left to predict is the time with the new index: at emit, on each
table a migration's index is for, an index scan of an existing b-tree index (the primary key's first
column, ``ORDER BY … LIMIT``) is timed reading 1 row and REFERENCE_ROWS rows and planned with the warm
pricing (baseline_warm); the line through those two points turns the target's warm predicted cost into
milliseconds. None when the target's predicted plan also scans a table whole (a sequential scan runs at
another time per cost unit), the table has no such index, the scan is not an index scan, or it read from disk.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import psycopg
from psycopg import sql

from . import catalog_sql
from .connect import lost
from .explain import PlanContext, explain, scans
from .plan import PlannedIndex, Target
from .readonly import measure

REFERENCE_ROWS = 1000
INDEX_SCANS = ("Index Scan ", "Index Only Scan ", "Bitmap Heap Scan ", "Bitmap Index Scan ")
TIMEOUT_MS = 2_000      # each timed run (1,000 rows through an index: a few milliseconds)


@dataclass(frozen=True)
class Pace:
    """An index scan on one table, timed best of 3-7 runs: 1 row and REFERENCE_ROWS rows, warm-priced costs."""

    one_ms: float
    one_cost: float
    many_ms: float
    many_cost: float

    def ms(self, cost: float) -> float:
        """The time predicted for a plan of warm-priced ``cost``: the line through the two timed scans."""
        slope = max(self.many_ms - self.one_ms, 0.0) / max(self.many_cost - self.one_cost, 1e-9)
        return self.one_ms + slope * max(cost - self.one_cost, 0.0)


def paced(conn: psycopg.Connection[Any], targets: list[Target], indexes: list[PlannedIndex]) -> list[Target]:
    """``targets`` with ``predicted_ms`` where a warm predicted cost and its table's pace are known."""
    row = conn.execute("SHOW /* pgtune */ seq_page_cost").fetchone()
    assert row is not None
    warm = {"random_page_cost": str(row[0])}
    table_of = {ix.name: (ix.schema, ix.table) for ix in indexes}
    wanted = {t.query: table_of[t.expected_indexes[0]] for t in targets
              if t.warm_predicted_cost is not None and t.expected_indexes and t.expected_indexes[0] in table_of
              and through_indexes(t.predicted_scans)}
    found = paces(conn, sorted(set(wanted.values())), warm)
    out = []
    for t in targets:
        pace = found.get(wanted[t.query]) if t.query in wanted else None
        if pace is not None and t.warm_predicted_cost is not None:
            t = replace(t, predicted_ms=pace.ms(t.warm_predicted_cost))
        out.append(t)
    return out


def through_indexes(found: list[str]) -> bool:
    """Does a plan read every table through an index (explain.scans)? A plan that also scans a table whole runs
    at a sequential scan's time per cost unit, not an index scan's: its time is not predicted."""
    return bool(found) and all(s.startswith(INDEX_SCANS) for s in found)


def paces(conn: psycopg.Connection[Any], tables: list[tuple[str, str]],
          warm: dict[str, str]) -> dict[tuple[str, str], Pace]:
    """Per table (schema, name): its index scan's pace, where one can be timed."""
    if not tables:
        return {}
    rows = conn.execute(catalog_sql.load("pace_reference_indexes"),
                        {"schemas": [s for s, _ in tables], "tables": [t for _, t in tables]}).fetchall()
    out = {}
    for schema, table, column in rows:
        try:
            pace = _pace(conn, schema, table, column, warm)
        except (psycopg.Error, ValueError):     # a statement_timeout, a refused privilege: no pace, no guess
            if lost(conn):
                raise
            pace = None
        if pace is not None:
            out[(schema, table)] = pace
    return out


def _pace(conn: psycopg.Connection[Any], schema: str, table: str, column: str,
          warm: dict[str, str]) -> Pace | None:
    timed = []
    for rows in (1, REFERENCE_ROWS):
        query = sql.SQL("SELECT /* pgtune */ * FROM {} ORDER BY {} LIMIT {}").format(
            sql.Identifier(schema, table), sql.Identifier(column), sql.Literal(rows)).as_string(conn)
        usual = explain(conn, query)
        priced = explain(conn, query, context=PlanContext(settings=tuple(warm.items())))
        if not through_indexes(scans(usual.plan)) or scans(usual.plan) != scans(priced.plan):
            return None
        timing, _ = measure(conn, query, timeout_ms=TIMEOUT_MS)
        if timing is None or timing.read_blocks:
            return None
        timed.append((timing.ms, priced.cost))
    (one_ms, one_cost), (many_ms, many_cost) = timed
    return Pace(one_ms, one_cost, many_ms, many_cost)
