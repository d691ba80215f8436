"""Heuristic mode (no HypoPG): a candidate whose statements the indexes there already serve is not proposed.

Without HypoPG no plan says which candidate pays, but a plan of each statement as
things are still says whether it needs one: PostgreSQL 18's skip scan serves
``"createdAt" >= $1 AND "createdAt" < $2`` through the application's
``("executionStatus", "createdAt")`` over its 5 status values (p17, Inbox-Zero-shaped:
a 15.7 MB ("createdAt") was proposed, planner 0.9x, 0.71 -> 0.47 ms once built).
A statement is served on a table when every scan of that table in its plan is an
index scan with no Filter left, and nothing in the plan sorts: a candidate on that
table is then dropped when it serves no other statement, with a hint naming the
index in use. Only from PostgreSQL 18 on: before skip scan, an index condition on a column after the first
reads the whole range of the leading one, which a plan without HypoPG cannot weigh against the candidate.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg

from ..connect import lost
from ..explain import explain_scenarios
from .analysis import Analysis
from .candidates import Candidate

INDEX_SCANS = ("Index Scan", "Index Only Scan", "Bitmap Heap Scan")
SORTS = ("Sort", "Incremental Sort")


def review(conn: psycopg.Connection[Any], cands: list[Candidate], analyses: list[Analysis],
           hints: list[str]) -> list[Candidate]:
    """``cands`` less those whose every statement an index already serves on the candidate's table."""
    if conn.info.server_version < 180000:
        return cands
    plans: dict[int, dict[str, Any] | None] = {}
    kept = []
    for cand in cands:
        using: set[str] = set()
        served = bool(cand.statements)
        for pos in sorted(cand.statements):
            if pos not in plans:
                plans[pos] = _plan(conn, analyses[pos])
            found = _served_by(plans[pos], cand.table[1])
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


def _plan(conn: psycopg.Connection[Any], a: Analysis) -> dict[str, Any] | None:
    """The statement's plan as things are: with its first value scenario, else the generic plan."""
    values = next((s["values"] for s in a.row.scenarios if s.get("values")), None)
    try:
        [plan] = explain_scenarios(conn, a.row.query, [values], context=a.row.context)
    except (psycopg.Error, ValueError):
        if lost(conn):
            raise
        return None
    return plan.plan.get("Plan", plan.plan) if plan.plan else None


def _served_by(plan: dict[str, Any] | None, table: str) -> set[str] | None:
    """The indexes every scan of ``table`` reads when each is an index scan with no Filter and nothing sorts;
    else None."""
    if plan is None:
        return None
    names: set[str] = set()
    scans = 0
    for node in _nodes(plan):
        if node.get("Node Type") in SORTS:
            return None
        if node.get("Relation Name") != table:
            continue
        scans += 1
        if node.get("Node Type") not in INDEX_SCANS or "Filter" in node:
            return None
        names |= {str(n["Index Name"]) for n in _nodes(node) if "Index Name" in n}
    return names if scans and names else None


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    stack = [plan]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.get("Plans", ()))
