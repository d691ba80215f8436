"""The predicted gain re-priced for a warm cache, so verify can compare it with a time cut measured warm.

suggest predicts a cost cut with the server's page costs, which price a page an index reads at
``random_page_cost`` (4 by default): a read from disk. verify times a statement best of three runs,
and on a server whose data fits in shared_buffers every run finds every page there; the time cut it
measures is then the cut in CPU and buffer hits, not in disk reads. PostgreSQL's documentation says
as much for a cached database: random reads cost about what sequential ones do. So at emit, for each
target suggest costed, its cost before and with the migration's indexes (hypothetical, HypoPG) are
planned again with ``random_page_cost = seq_page_cost``, with the ways of reading a table the server's
own plan does not use turned off, so the warm cost is of the scans the server runs. When the plan still
reads its tables otherwise, the warm figures are not of the plans the server runs, and none are kept.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import psycopg
from pglast import ast, parse_sql
from pglast.stream import RawStream

from .baseline import plan_target, scenarios_of
from .capabilities import probe
from .connect import lost
from .explain import scans
from .plan import PlannedIndex, Target

SCAN_SETTINGS = {"Seq Scan": "enable_seqscan", "Index Scan": "enable_indexscan",
                 "Index Only Scan": "enable_indexonlyscan", "Bitmap Heap Scan": "enable_bitmapscan"}
DISABLED = 1e9    # a cost this high carries the planner's disable_cost (1e10): a turned-off path was needed


def warm_predictions(conn: psycopg.Connection[Any], targets: list[Target],
                     indexes: list[PlannedIndex]) -> list[Target]:
    """``targets`` with ``warm_baseline_cost``/``warm_predicted_cost`` where HypoPG can predict them."""
    if not any(t.predicted_cost is not None and t.baseline_cost is not None for t in targets):
        return targets          # nothing predicted (heuristic advice, health): nothing to re-price
    made = {ix.name: d for ix in indexes if not ix.partitioned for d in [hypothetical_ddl(ix)] if d is not None}
    plain = list(made.values())
    # Only targets whose every foreseen index HypoPG can make: another's warm cut would lack its index.
    predicted = [t for t in targets if t.predicted_cost is not None and t.baseline_cost is not None
                 and t.expected_indexes and set(t.expected_indexes) <= set(made)]
    if not predicted or not plain or not probe(conn).hypopg_installed:
        return targets
    row = conn.execute("SHOW /* pgtune */ seq_page_cost").fetchone()
    assert row is not None
    warm_settings = {"random_page_cost": str(row[0])}
    before = {t.query: _both(conn, t, warm_settings) for t in predicted}
    # HypoPG's indexes live in this backend only; reset before and after, so nothing else is seen or left.
    conn.execute("SELECT /* pgtune */ hypopg_reset()")
    try:
        for statement in plain:
            conn.execute("SELECT /* pgtune */ * FROM hypopg_create_index(%s)", (statement,))
        after = {t.query: _both(conn, t, warm_settings) for t in predicted}
    except psycopg.Error:
        if lost(conn):
            raise
        return targets          # an index HypoPG refuses: no warm prediction rather than a partial one
    finally:
        if not lost(conn):
            conn.execute("SELECT /* pgtune */ hypopg_reset()")
    out = []
    for t in targets:
        b, a = before.get(t.query), after.get(t.query)
        if b is not None and a is not None:
            t = replace(t, warm_baseline_cost=b, warm_predicted_cost=a)
        out.append(t)
    return out


def _both(conn: psycopg.Connection[Any], t: Target, warm: dict[str, str]) -> float | None:
    """``t``'s warm-priced cost, when its plan reads its tables as the server's pricing has it read them.

    Warm pricing can make another way of reading a table the cheaper one (an Index Scan where the server
    runs a Bitmap Heap Scan): the ways the server's plan does not use are then turned off (enable_* =
    off, which only adds a penalty, so the server's own plan stays possible), and the warm cost is of the
    same scans. A statement planned over several value scenarios is not pinned: another scenario's plan
    may use what its main one does not.
    """
    try:
        usual = plan_target(conn, t)
        pins = _pins(usual.main.plan) if len(scenarios_of(t)) == 1 else {}
        priced = plan_target(conn, replace(t, settings={**t.settings, **warm, **pins}))
    except (psycopg.Error, ValueError):
        if lost(conn):
            raise
        return None
    if scans(usual.main.plan) != scans(priced.main.plan) or usual.runs_generic != priced.runs_generic \
            or _disabled(priced.main.plan):
        return None
    return priced.cost


def _pins(plan: dict[str, Any]) -> dict[str, str]:
    """enable_* = off for each way of reading a table that ``plan`` does not use."""
    used = set()
    stack = [plan.get("Plan", plan)]
    while stack:
        node = stack.pop()
        used.add(node.get("Node Type"))
        stack.extend(node.get("Plans", ()))
    if "Index Only Scan" in used:
        used.add("Index Scan")      # enable_indexscan = off also penalizes index-only scans (cost_index)
    return {setting: "off" for node, setting in SCAN_SETTINGS.items() if node not in used}


def _disabled(plan: dict[str, Any]) -> bool:
    """Did the plan need a turned-off path: a cost carrying disable_cost, or (PostgreSQL 18) a node marked so."""
    stack = [plan.get("Plan", plan)]
    while stack:
        node = stack.pop()
        if node.get("Disabled") or float(node.get("Total Cost", 0.0)) >= DISABLED:
            return True
        stack.extend(node.get("Plans", ()))
    return False


def hypothetical_ddl(ix: PlannedIndex) -> str | None:
    """``ix``'s CREATE INDEX as HypoPG takes it: not CONCURRENTLY, no IF NOT EXISTS (pglast prints it);
    None for what is not a b-tree index (suggest costs GIN by a trial build, not with HypoPG)."""
    parsed = parse_sql(ix.ddl)
    stmt = parsed[0].stmt if len(parsed) == 1 else None
    if not isinstance(stmt, ast.IndexStmt) or stmt.accessMethod not in (None, "btree"):
        return None
    stmt.concurrent = False
    stmt.if_not_exists = False
    return str(RawStream()(stmt))
