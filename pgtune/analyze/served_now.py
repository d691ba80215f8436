"""Heuristic mode (no HypoPG): a candidate whose statements the indexes there already serve is not proposed.

Without HypoPG no plan says which candidate pays, but a plan of each statement as
things are still says whether it needs one: PostgreSQL 18's skip scan serves
``"createdAt" >= $1 AND "createdAt" < $2`` through the application's
``("executionStatus", "createdAt")`` over its 5 status values (p17, Inbox-Zero-shaped:
a 15.7 MB ("createdAt") was proposed, planner 0.9x, 0.71 -> 0.47 ms once built).
A statement is served on a table when every scan of that table in its plan is an
index scan with no Filter left, whose condition skips at most SKIP_LIMIT values of
the key columns before its last one, and nothing in the plan sorts: a candidate on
that table is then dropped when it serves no other statement, with a hint naming the
index in use. The skipped values bound the descents: a unique ("emailAccountId",
"threadId", "messageId") read for "messageId" skips 400,000 threads, one descent and
3,983 buffers a call (218 ms), where a ("messageId", ...) index reads one leaf
(p17). Only from PostgreSQL 18 on: before skip scan, an index condition on a column
after the first reads the whole range of the leading one.

On every version a statement the server refuses to plan because a column or table it
names is gone (a migration dropped it since pg_stat_statements counted the statement)
serves no candidate: nothing can run it, so no index is proposed for it, and a hint says
so (p24, trigger.dev-shaped: a migration's ``UPDATE "RuntimeEnvironment" SET "title" = $1
WHERE "slug" = $2``, "title" dropped by a later migration, got ("slug") proposed).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import psycopg
from pglast import ast

from .._text import error_text
from ..capture import Catalog, TableKey
from ..connect import lost
from ..explain import explain_scenarios
from ..sqltext import ParseFailed, expression, names, statement_label, walk
from .analysis import Analysis
from .candidates import Candidate

INDEX_SCANS = ("Index Scan", "Index Only Scan", "Bitmap Heap Scan")
SORTS = ("Sort", "Incremental Sort")
SKIP_LIMIT = 100        # distinct values of the key columns a skip scan passes over, at most
GONE = frozenset({"42703", "42P01"})    # undefined_column, undefined_table: the statement names what is not there


def review(conn: psycopg.Connection[Any], catalog: Catalog, cands: list[Candidate], analyses: list[Analysis],
           hints: list[str]) -> list[Candidate]:
    """``cands`` less those whose every statement an index already serves on the candidate's table (18+), and
    less the statements the server refuses to plan for a column or table that is gone (every version)."""
    plans: dict[int, dict[str, Any] | None] = {}
    refused: dict[int, str] = {}
    for pos in sorted(set().union(*(c.statements for c in cands))):
        plans[pos], why = _plan(conn, analyses[pos])
        if why is not None:
            refused[pos] = why
            hints.append(f"{statement_label(analyses[pos].query)}: the server refuses to plan it ({why}): it "
                         "names a column or table this schema no longer has (a migration since "
                         "pg_stat_statements counted it?), so no index is proposed for it")
    live = [replace(c, statements=c.statements - refused.keys()) if c.statements & refused.keys() else c
            for c in cands if not c.statements or c.statements - refused.keys()]
    if conn.info.server_version < 180000:
        return live
    kept = []
    for cand in live:
        using: set[str] = set()
        served = bool(cand.statements)
        for pos in sorted(cand.statements):
            found = _served_by(plans[pos], cand.table, catalog)
            if found is None:
                served = False
                break
            using |= found
        if not served:
            kept.append(cand)
            continue
        keys = ", ".join(k.expression or f'"{k.column}"' for k in cand.keys)
        hints.append(f"({keys}) on {cand.table[0]}.{cand.table[1]} not proposed: the plan of each statement it "
                     f"would serve reads the table through {', '.join(sorted(using))} already, with no filter "
                     "left and nothing sorted (without HypoPG no plan can show it would do better)")
    return kept


def _plan(conn: psycopg.Connection[Any], a: Analysis) -> tuple[dict[str, Any] | None, str | None]:
    """The statement's plan as things are: with its first value scenario, else the generic plan; and, when the
    server refuses it for a column or table that is not there (GONE), its error."""
    values = next((s["values"] for s in a.row.scenarios if s.get("values")), None)
    try:
        [plan] = explain_scenarios(conn, a.row.query, [values], context=a.row.context)
    except (psycopg.Error, ValueError) as exc:
        if lost(conn):
            raise
        if getattr(exc, "sqlstate", None) not in GONE:
            return None, None
        diag = getattr(exc, "diag", None)       # its first line: not the LINE 1 of pgtune's own PREPARE
        return None, (diag.message_primary if diag is not None and diag.message_primary else error_text(exc))
    return (plan.plan.get("Plan", plan.plan) if plan.plan else None), None


def _served_by(plan: dict[str, Any] | None, table: TableKey, catalog: Catalog) -> set[str] | None:
    """The indexes every scan of ``table`` reads when each is an index scan with no Filter that skips few values
    and nothing sorts; else None."""
    if plan is None:
        return None
    used: set[str] = set()
    scans = 0
    for node in _nodes(plan):
        if node.get("Node Type") in SORTS:
            return None
        if node.get("Relation Name") != table[1]:
            continue
        scans += 1
        if node.get("Node Type") not in INDEX_SCANS or "Filter" in node:
            return None
        for scan in (n for n in _nodes(node) if "Index Name" in n):
            if not _few_skipped(catalog, table, str(scan["Index Name"]), scan.get("Index Cond")):
                return None
            used.add(str(scan["Index Name"]))
    return used if scans and used else None


def _few_skipped(catalog: Catalog, table: TableKey, index: str, cond: str | None) -> bool:
    """Do the key columns before the condition's last one that it leaves free hold at most SKIP_LIMIT
    value combinations (what a skip scan descends for)? No condition: an ordered read, served."""
    if cond is None:
        return True
    found = next((i for i in catalog.indexes_on(table) if i.name == index), None)
    try:
        named = {names(n.fields)[-1] for n in walk(expression(cond)) if isinstance(n, ast.ColumnRef)}
    except ParseFailed:
        return False
    if found is None:
        return False
    held = [pos for pos, col in enumerate(found.columns) if col is not None and col in named]
    if not held:
        return False
    combos = 1.0
    for col in found.columns[:max(held)]:
        if col is None:
            return False
        if col not in named:
            combos *= catalog.distinct_values(table, col) or float("inf")
    return combos <= SKIP_LIMIT


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    stack = [plan]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.get("Plans", ()))
