"""A predicted time for a target, from the time per planner cost unit of reads timed at emit.

The planner's cost is not a time: on this project's 2-core machine a sequential scan ran at 4-9 µs per
warm cost unit and the index scans that replace it at 1.5-4, so a cost cut understated the time cut
2-5x, more under load (a long scan is stretched by other processes, a 20 µs probe is not). verify's
baseline time is measured, so what is left to predict is the time with the new index. At emit, on each
table a migration's index is for, three reads are timed (best of 3-7 runs) and planned with the warm
pricing (baseline_warm), each cost split into its page part and its CPU part (the cost with page costs 0):
an index scan of an existing b-tree index (the primary key's first column, ``ORDER BY … LIMIT``) reading
1 row and REFERENCE_ROWS rows, and a Tid Scan reading one row on each of PAGE_PROBE_PAGES pages spread over
the table (almost all page part). The times per page unit and per CPU unit through those three points turn
the target's warm predicted cost, split the same way, into milliseconds (the split): a buffered page took
0.1-0.8 µs per cost unit where a row's CPU took 5-13, so one time per unit (the line through the two index
scans, 3.1 µs) predicts a 10-row probe by an index about 2x too slow; the split, pricing each page fetched
through an index as a bare page read, about as much too fast. The prediction is their geometric mean; the
line alone where the target's cost has no split, the table is small or the three points give no positive
pair. None when the target's predicted plan also scans a table whole (a sequential scan runs at another time
per cost unit), the table has no such index, the scan is not an index scan, or it read from disk.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import psycopg
from psycopg import sql

from . import catalog_sql
from .baseline_pages import BUDGET_S as PAGES_BUDGET_S
from .baseline_pages import planned_index, with_heap_pages
from .baseline_warm import CPU_ONLY
from .connect import lost
from .explain import PlanContext, explain, scans
from .plan import PlannedIndex, Target
from .readonly import measure

REFERENCE_ROWS = 1000
PAGE_PROBE_PAGES = 200   # the page-heavy probe reads one row on each of this many pages…
MIN_PAGES = 20           # …and is not run on a table of fewer (its time would be its fixed part)
INDEX_SCANS = ("Index Scan ", "Index Only Scan ", "Bitmap Heap Scan ", "Bitmap Index Scan ")
TIMEOUT_MS = 2_000      # each timed run (1,000 rows through an index: a few milliseconds)


@dataclass(frozen=True)
class Probe:
    """A read timed at emit: its best time, its warm-priced cost and that cost's CPU part."""

    ms: float
    cost: float
    cpu: float

    @property
    def pages(self) -> float:
        return self.cost - self.cpu


@dataclass(frozen=True)
class Pace:
    """An index scan on one table, timed best of 3-7 runs: 1 row and REFERENCE_ROWS rows, warm-priced costs;
    with ``probes`` (the same two and the page-heavy Tid Scan, CPU parts known) a time per part."""

    one_ms: float
    one_cost: float
    many_ms: float
    many_cost: float
    probes: tuple[Probe, Probe, Probe] | None = None
    many_query: str = ""        # the REFERENCE_ROWS rows scan: verify times it again (pace_now)

    def ms(self, cost: float, cpu: float | None = None) -> float:
        """The time predicted for a plan of warm-priced ``cost`` (``cpu`` of it its CPU part).

        The line through the two index scans prices a page at their blended time per unit, too dear for a
        plan that is mostly pages; the split prices it at a bare page read's (the Tid Scan), too cheap for
        one an index drives (each fetch also walks the index). With both, their geometric mean."""
        slope = max(self.many_ms - self.one_ms, 0.0) / max(self.many_cost - self.one_cost, 1e-9)
        line = self.one_ms + slope * max(cost - self.one_cost, 0.0)
        split = self.split_ms(cost, cpu)
        return line if split is None else math.sqrt(line * split)

    def split_ms(self, cost: float, cpu: float | None) -> float | None:
        """From the 1-row scan's time, the page part and the CPU part each at its time per unit (per_unit);
        None when ``cpu`` is unknown or the probes give no pair."""
        parts = self.per_unit() if cpu is not None and 0 <= cpu <= cost else None
        if parts is None or cpu is None or self.probes is None:
            return None
        one = self.probes[0]
        page_ms, cpu_ms = parts
        return max(self.one_ms, one.ms + page_ms * (cost - cpu - one.pages) + cpu_ms * (cpu - one.cpu))

    def pages_ms(self, units: float) -> float:
        """The time of ``units`` more page units at the time per page unit (per_unit; 0 without one): heap pages
        the planner did not count (baseline_pages)."""
        parts = self.per_unit() if units > 0 else None
        return parts[0] * units if parts is not None else 0.0

    def per_unit(self) -> tuple[float, float] | None:
        """(ms per page unit, ms per CPU unit): the pair that puts the 1,000-row scan and the page-heavy probe
        on their times from the 1-row scan's; None when the probes do not tell the parts apart or a pace is
        negative (a run slowed by another process: the line through the two scans rather than a guess)."""
        if self.probes is None:
            return None
        one, many, pages = self.probes
        a, b, t = many.pages - one.pages, many.cpu - one.cpu, many.ms - one.ms
        c, d, u = pages.pages - one.pages, pages.cpu - one.cpu, pages.ms - one.ms
        det = a * d - b * c
        if abs(det) < 1e-9 * max(abs(a * d), abs(b * c), 1e-9):
            return None
        page_ms, cpu_ms = (t * d - b * u) / det, (a * u - t * c) / det
        return (page_ms, cpu_ms) if page_ms > 0 and cpu_ms > 0 else None


def paced(conn: psycopg.Connection[Any], targets: list[Target], indexes: list[PlannedIndex]) -> list[Target]:
    """``targets`` with ``predicted_ms`` where a warm predicted cost and its table's pace are known."""
    row = conn.execute("SHOW /* pgtune */ seq_page_cost").fetchone()
    assert row is not None
    warm = {"random_page_cost": str(row[0])}
    # By the index the target reads, not its bare name: a schema per tenant gets the same name in each.
    wanted = {t.key: (ix.schema, ix.table) for t in targets
              if t.warm_predicted_cost is not None and t.expected_indexes and through_indexes(t.predicted_scans)
              for ix in [planned_index(conn, t, indexes, t.expected_indexes[0])] if ix is not None}
    found = paces(conn, sorted(set(wanted.values())), warm)
    deadline = time.monotonic() + PAGES_BUDGET_S
    out = []
    for t in targets:
        pace = found.get(wanted[t.key]) if t.key in wanted else None
        if pace is not None and t.warm_predicted_cost is not None:
            ms = pace.ms(t.warm_predicted_cost, t.warm_predicted_cpu)
            # Where the planner counts far too few heap pages, the pages it missed at the time per page unit.
            t, missed = with_heap_pages(conn, t, indexes, float(row[0]), deadline)
            t = replace(t, predicted_ms=ms + pace.pages_ms(missed), pace_query=pace.many_query, pace_ms=pace.many_ms)
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
    for schema, table, column, pages in rows:
        try:
            pace = _pace(conn, schema, table, column, int(pages), warm)
        except (psycopg.Error, ValueError):     # a statement_timeout, a refused privilege: no pace, no guess
            if lost(conn):
                raise
            pace = None
        if pace is not None:
            out[(schema, table)] = pace
    return out


def _pace(conn: psycopg.Connection[Any], schema: str, table: str, column: str, pages: int,
          warm: dict[str, str]) -> Pace | None:
    """The two index scans' line, and with the page-heavy probe (a table of MIN_PAGES or more) the three probes."""
    timed = []
    for rows in (1, REFERENCE_ROWS):
        query = sql.SQL("SELECT /* pgtune */ * FROM {} ORDER BY {} LIMIT {}").format(
            sql.Identifier(schema, table), sql.Identifier(column), sql.Literal(rows)).as_string(conn)
        probe = _probe(conn, query, warm, through_indexes)
        if probe is None:
            return None
        timed.append((probe, query))
    (one, _), (many, many_query) = timed
    page_heavy = _page_probe(conn, schema, table, pages, warm) if pages >= MIN_PAGES else None
    return Pace(one.ms, one.cost, many.ms, many.cost,
                probes=(one, many, page_heavy) if page_heavy is not None else None, many_query=many_query)


def _page_probe(conn: psycopg.Connection[Any], schema: str, table: str, pages: int,
                warm: dict[str, str]) -> Probe | None:
    """A Tid Scan of one row on each of PAGE_PROBE_PAGES pages spread over the table (``pages``:
    pg_class.relpages; a page past the table's end is skipped by the scan, an empty one still read)."""
    n = min(PAGE_PROBE_PAGES, pages)
    tids = [f"({k * (pages // n)},1)" for k in range(n)]
    query = sql.SQL("SELECT /* pgtune */ * FROM {} WHERE ctid = ANY({}::pg_catalog.tid[])").format(
        sql.Identifier(schema, table), sql.Literal(tids)).as_string(conn)
    return _probe(conn, query, warm, lambda found: found == [f"Tid Scan on {table}"])


def _probe(conn: psycopg.Connection[Any], query: str, warm: dict[str, str],
           how: Callable[[list[str]], bool]) -> Probe | None:
    """``query`` timed and priced warm, when it reads its table as ``how`` accepts (the same way warm and with
    page costs 0) and nothing from disk."""
    usual = explain(conn, query)
    priced = explain(conn, query, context=PlanContext(settings=tuple(warm.items())))
    free = explain(conn, query, context=PlanContext(settings=(*warm.items(), *CPU_ONLY.items())))
    if not how(scans(usual.plan)) or not scans(usual.plan) == scans(priced.plan) == scans(free.plan):
        return None
    timing, _ = measure(conn, query, timeout_ms=TIMEOUT_MS)
    if timing is None or timing.read_blocks:
        return None
    return Probe(timing.ms, priced.cost, min(free.cost, priced.cost))
