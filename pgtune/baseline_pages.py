"""The heap pages an index scan visits, counted on the data where the planner's count is far off (issue 28).

For an index scan the planner counts heap pages between two figures, weighed by the square of the leading
key column's correlation: a column in physical order reads its matching rows from few pages. The
correlation is the column's, not the value's: on benchmarks/prisma_style.py's "User", ``role`` has 0.96
(99% of the rows are 'USER', in order), so the planner counts 16 heap pages for the 200 'ADMIN' rows,
one every 500, which sit on 200 different pages; the built index scan reads 200, and no time per cost
unit (baseline_pace) fixes a page count: the time predicted for it was 5-10x too fast.

So at emit, for a target whose predicted plan reads one table through one index (an Index Scan, or a
Bitmap Heap Scan over one Bitmap Index Scan) with no LIMIT (a LIMIT stops the scan early), the rows the
scan visits are counted on a sample of the table's pages (sql/heap_pages_sample.sql: TABLESAMPLE SYSTEM of
at most SAMPLE_PAGES pages, REPEATABLE, so the targets on one table read the same pages, from the cache
after the first; under a statement_timeout, within BUDGET_S for the migration, READ ONLY and rolled back, only
a statement readonly passes): those matching the target's conditions that read only the index's key columns, and the
partial index's predicate, with the target's main value scenario. Their distinct pages, scaled to the
table, are the pages it visits. The conditions counted may be stricter than the scan's index conditions
(a condition on a key column the scan only filters with), never looser, so the count is a lower bound:
it only ever raises the page count. When it is more than baseline.PAGE_COUNT_OFF times the page part of
the warm predicted cost (in pages at seq_page_cost each), baseline_pace adds the pages the planner missed at
its time per page unit (a bare page read, the Tid Scan probe's: each is one more buffer an index scan pins);
not at the line's blended time per unit, which is mostly a row's CPU and put the 'ADMIN' list at 0.17 ms
where it ran in 0.05-0.08. verify names the page count as a cause when the prediction still disagrees.
The planner's own cost, and so the selection, is unchanged: this is the prediction verify compares with.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import pglast
import psycopg
from pglast import ast
from pglast.enums import BoolExprType, SetOperation
from psycopg import sql

from . import catalog_sql
from .baseline import PAGE_COUNT_OFF
from .connect import lost
from .explain import covers, inlined, prepare_text
from .plan import PlannedIndex, Target
from .readonly import why_not_read_only
from .sqltext import printed, seq, walk

SAMPLE_PAGES = 5_000     # the sample reads at most this many of the table's pages (40 MB at 8 kB)…
MIN_FOUND = 20           # …and, when it is not the whole table, is scaled up only from this many pages found
TIMEOUT_MS = 2_000       # each sample…
BUDGET_S = 10.0          # …and all of a migration's: none starts after this long (paced)


@dataclass(frozen=True)
class HeapPages:
    """The heap pages of an index scan: the planner's (its warm page part, at seq_page_cost a page) and the
    sample's count."""

    planned: float
    sampled: float

    @property
    def off(self) -> bool:
        """The planner counts far fewer pages than the rows the scan visits sit on."""
        return self.sampled > PAGE_COUNT_OFF * self.planned


def with_heap_pages(conn: psycopg.Connection[Any], t: Target, indexes: list[PlannedIndex],
                    seq_page_cost: float, deadline: float) -> tuple[Target, float]:
    """``t`` with its heap pages, planned and sampled, where they can be counted (a sample starts only before
    ``deadline``, time.monotonic()), and the page units the planner missed (0: none, or not off by PAGE_COUNT_OFF):
    baseline_pace times them at its time per page unit."""
    ix = planned_index(conn, t, indexes, t.expected_indexes[0]) if len(t.expected_indexes) == 1 else None
    left_ms = int((deadline - time.monotonic()) * 1000)
    pages = heap_pages(conn, t, ix, seq_page_cost, min(TIMEOUT_MS, left_ms)) if ix is not None and left_ms > 0 \
        else None
    if pages is None:
        return t, 0.0
    t = replace(t, heap_pages_planned=pages.planned, heap_pages_sampled=pages.sampled)
    return t, (pages.sampled - pages.planned) * seq_page_cost if pages.off else 0.0


def planned_index(conn: psycopg.Connection[Any], t: Target, indexes: list[PlannedIndex],
                  name: str) -> PlannedIndex | None:
    """The index of ``indexes`` named ``name`` that ``t`` reads: targets name their indexes without a schema, and a
    schema per tenant gets the same name in each. Of several, the one on a table the statement reads, its names
    resolved as the server does in ``t``'s session (a qualified name as written, else through its search_path);
    None when that is not exactly one (taken by name, another tenant's table was timed and sized)."""
    same = [ix for ix in indexes if ix.name == name]
    if len(same) <= 1:
        return same[0] if same else None
    read = relations_read(conn, t)
    found = [ix for ix in same if (ix.schema, ix.table) in read]
    return found[0] if len(found) == 1 else None


def relations_read(conn: psycopg.Connection[Any], t: Target) -> set[tuple[str, str]]:
    """(schema, name) of each relation ``t``'s statement names, unqualified names resolved in its session
    (sql/relations_resolved.sql); {} when it does not parse or cannot be resolved."""
    try:
        tree = pglast.parse_sql(t.query)
    except pglast.parser.ParseError:
        return set()
    named = [(str(n.schemaname) if n.schemaname else None, str(n.relname)) for n in walk(tree)
             if isinstance(n, ast.RangeVar) and n.relname and not n.catalogname]
    del tree
    found = {(s, r) for s, r in named if s is not None}
    bare = sorted({r for s, r in named if s is None})
    if not bare:
        return found
    try:
        with conn.transaction(force_rollback=True):
            for step in t.context.set_configs(conn):
                conn.execute(f"SELECT /* pgtune */ {step}")
            rows = conn.execute(catalog_sql.load("relations_resolved"), {"names": bare}).fetchall()
    except psycopg.Error:
        if lost(conn):
            raise
        return found
    return found | {(str(s), str(r)) for s, r in rows}


def heap_pages(conn: psycopg.Connection[Any], t: Target, ix: PlannedIndex, seq_page_cost: float,
               timeout_ms: int = TIMEOUT_MS) -> HeapPages | None:
    """The planner's and the sampled heap pages of ``t``'s predicted index scan through ``ix``; None when its plan
    is not one such scan, the statement not a plain read of that one table, or the sample cannot tell."""
    if t.warm_predicted_cost is None or t.warm_predicted_cpu is None or seq_page_cost <= 0 \
            or not one_index_scan(t.predicted_scans, ix.table):
        return None
    planned = (t.warm_predicted_cost - t.warm_predicted_cpu) / seq_page_cost
    row = conn.execute(catalog_sql.load("table_pages"), {"schema": ix.schema, "table": ix.table}).fetchone()
    pages = int(row[0]) if row else 0
    percent = 100.0 if pages <= SAMPLE_PAGES else 100.0 * SAMPLE_PAGES / pages
    text = sample_statement(conn, t, ix, percent)
    if text is None or why_not_read_only(conn, text, search_path=t.context.search_path) is not None:
        return None
    found = _count(conn, t, text, timeout_ms)
    if found is None or (percent < 100.0 and found < MIN_FOUND):
        return None
    return HeapPages(planned, found * 100.0 / percent)


def one_index_scan(found: list[str], table: str) -> bool:
    """Does a plan (explain.scans) read only ``table``, through one Index Scan or one bitmap of one index?"""
    if len(found) == 1:
        return found[0].startswith("Index Scan ") and found[0].endswith(f" on {table}")
    return len(found) == 2 and found[0] == f"Bitmap Heap Scan on {table}" \
        and found[1].startswith("Bitmap Index Scan ")


def sample_statement(conn: psycopg.Connection[Any], t: Target, ix: PlannedIndex, percent: float) -> str | None:
    """sql/heap_pages_sample.sql for ``t``'s table and the conditions its scan through ``ix`` visits rows by,
    ``t``'s values in place of its ``$n``; None when it is not a plain read of that table (no LIMIT)."""
    text, nparams = prepare_text(t.query)
    if nparams and not covers(t.values, nparams):
        return None
    root = pglast.parse_sql(text)[0].stmt         # a fresh tree: its nodes are moved into another
    index = pglast.parse_sql(ix.ddl)[0].stmt
    if not isinstance(root, ast.SelectStmt) or not isinstance(index, ast.IndexStmt) \
            or root.op not in (None, SetOperation.SETOP_NONE) or root.limitCount is not None \
            or root.limitOffset is not None or root.withClause is not None or root.whereClause is None:
        return None
    tables = seq(root.fromClause)
    if len(tables) != 1 or not isinstance(tables[0], ast.RangeVar) or tables[0].relname != ix.table:
        return None
    keys = set().union(*(_columns(e.expr) if e.expr is not None else {e.name} for e in seq(index.indexParams)))
    where = root.whereClause
    conjuncts = seq(where.args) if isinstance(where, ast.BoolExpr) and where.boolop == BoolExprType.AND_EXPR \
        else (where,)
    conditions = [c for c in conjuncts if _columns(c) and _columns(c) <= keys]
    if index.whereClause is not None:
        conditions.append(index.whereClause)
    if not conditions:
        return None
    condition = conditions[0] if len(conditions) == 1 else ast.BoolExpr(boolop=BoolExprType.AND_EXPR,
                                                                         args=tuple(conditions))
    statement = catalog_sql.compose("heap_pages_sample", relation=sql.SQL(printed(tables[0])),
                                    percent=sql.Literal(round(percent, 4)),
                                    condition=sql.SQL(printed(condition))).as_string(conn)
    if not nparams:
        return statement
    statement, left = inlined(conn, statement, t.values)
    if left or not statement.startswith("SELECT "):
        return None
    # pglast's printing drops comments: pgtune's mark goes back, so pg_stat_statements never offers the sample to
    # the next suggest as the application's statement (the workload queries leave out what carries it).
    return "SELECT /* pgtune */ " + statement.removeprefix("SELECT ")


def _columns(node: Any) -> set[str]:
    """The columns an expression reads by name; {} when it reads a whole row, a subquery or nothing."""
    found: set[str] = set()
    for n in walk(node):
        if isinstance(n, (ast.SubLink, ast.A_Star)):
            return set()
        if isinstance(n, ast.ColumnRef):
            last = seq(n.fields)[-1] if n.fields else None
            if not isinstance(last, ast.String):
                return set()
            found.add(str(last.sval))
    return found


def _count(conn: psycopg.Connection[Any], t: Target, text: str, timeout_ms: int) -> int | None:
    """The distinct pages the sample statement finds, in ``t``'s session, read only and rolled back."""
    try:
        with conn.transaction(force_rollback=True):
            conn.execute("SET /* pgtune */ TRANSACTION READ ONLY")
            conn.execute(f"SET /* pgtune */ LOCAL statement_timeout = {int(timeout_ms)}")
            for step in t.context.steps(conn):
                conn.execute(step)
            row = conn.execute(text).fetchone()
    except psycopg.Error:
        if lost(conn):
            raise
        return None
    return int(row[0]) if row else None
