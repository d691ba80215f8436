"""The predicted gain re-priced for a warm cache, so verify can compare it with a time cut measured warm.

suggest predicts a cost cut with the server's page costs, which price a page an index reads at
``random_page_cost`` (4 by default): a read from disk. verify times a statement best of three to seven runs,
and on a server whose data fits in shared_buffers every run finds every page there; the time cut it
measures is then the cut in CPU and buffer hits, not in disk reads. PostgreSQL's documentation says
as much for a cached database: random reads cost about what sequential ones do. So at emit, for each
target suggest costed, its cost before and with the migration's indexes (hypothetical, HypoPG) are
planned again with ``random_page_cost = seq_page_cost``, with the ways of reading a table the server's
own plan does not use turned off, so the warm cost is of the scans the server runs. When the plan still
reads its tables otherwise, the warm figures are not of the plans the server runs, and none are kept.
The warm predicted cost also gets its CPU part (the same plan priced with page costs 0): baseline_pace
times a buffered page and a row's CPU each at its own pace.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import psycopg
from pglast import ast, parse_sql
from pglast.stream import RawStream
from psycopg import sql

from . import analyze, catalog_sql, ddl
from .baseline import Planned, plan_target
from .capabilities import probe
from .connect import lost
from .explain import PlanContext, scans
from .plan import PlannedIndex, Target

TRIAL_TIMEOUT_MS = 10_000     # each step of the expression-statistics trial (ANALYZE reads a bounded sample)

SCAN_SETTINGS = {"Seq Scan": "enable_seqscan", "Index Scan": "enable_indexscan",
                 "Index Only Scan": "enable_indexonlyscan", "Bitmap Heap Scan": "enable_bitmapscan"}
DISABLED = 1e9    # a cost this high carries the planner's disable_cost (1e10): a turned-off path was needed


def warm_predictions(conn: psycopg.Connection[Any], targets: list[Target],
                     indexes: list[PlannedIndex]) -> list[Target]:
    """``targets`` with ``warm_baseline_cost``/``warm_predicted_cost`` where HypoPG can predict them."""
    if not any(t.predicted_cost is not None and t.baseline_cost is not None for t in targets):
        return targets          # nothing predicted (heuristic advice, health): nothing to re-price
    # By schema and name: a schema per tenant gets the same name in each (p15: keyed by name, only the last
    # tenant's was made, and the first's statements were predicted warm with no index, 1.0x).
    made = {(ix.schema, ix.name): d for ix in indexes if not ix.partitioned
            for d in [hypothetical_ddl(ix)] if d is not None}
    plain = list(made.values())
    # Only targets whose every foreseen index HypoPG can make: another's warm cut would lack its index.
    predicted = [t for t in targets if t.predicted_cost is not None and t.baseline_cost is not None
                 and t.expected_indexes and set(t.expected_indexes) <= {name for _, name in made}]
    if not predicted or not plain or not probe(conn).hypopg_installed:
        return targets
    row = conn.execute("SHOW /* pgtune */ seq_page_cost").fetchone()
    assert row is not None
    warm_settings = {"random_page_cost": str(row[0])}
    before = {t.key: _both(conn, t, warm_settings) for t in predicted}
    expressions = [ix for ix in indexes if (ix.schema, ix.name) in made and expression_keys(ix)]
    on_expressions = {t.key for t in predicted if set(t.expected_indexes) & {ix.name for ix in expressions}}
    # HypoPG's indexes live in this backend only; reset before (made_hypothetically) and after, so nothing else
    # is seen or left. suggest's own routine (k37: this was a third copy of its loop).
    hypopg = catalog_sql.extension_schema(conn, "hypopg")     # named: pgtune's search_path may leave it out
    reset = sql.SQL("SELECT /* pgtune */ {}()").format(catalog_sql.function(hypopg, "hypopg_reset"))
    try:
        if len(analyze.made_hypothetically(conn, hypopg, plain)) < len(plain):
            return targets      # an index HypoPG refuses: no warm prediction rather than a partial one
        after = {t.key: _both(conn, t, warm_settings, cpu=True) for t in predicted if t.key not in on_expressions}
        cold = _with_expression_statistics(conn, [t for t in predicted if t.key in on_expressions],
                                           expressions, warm_settings, after)
    except psycopg.Error:
        if lost(conn):
            raise
        return targets          # an index HypoPG refuses: no warm prediction rather than a partial one
    finally:
        if not lost(conn):
            conn.execute(reset)
    out = []
    for t in targets:
        b, a = before.get(t.key), after.get(t.key)
        if t.key in cold:
            t = replace(t, predicted_cost=cold[t.key], predicted_with_statistics=True)
        if b is not None and a is not None:
            t = replace(t, warm_baseline_cost=b[0], warm_predicted_cost=a[0], predicted_scans=list(a[1]),
                        warm_predicted_cpu=a[2])
        out.append(t)
    return out


def _with_expression_statistics(conn: psycopg.Connection[Any], targets: list[Target],
                                indexes: list[PlannedIndex], warm: dict[str, str],
                                after: dict[TargetKey, Priced | None]) -> dict[TargetKey, float]:
    """Plan ``targets`` (served by an expression index) as the built index will be planned: with statistics.

    A hypothetical index on ``lower(email)`` has no statistics, so the planner takes the default
    selectivity (0.5% of the rows for ``=``) where ANALYZE of the built index gives it the
    expression's own: a login by email was predicted 6x where the built index gave 300x. Here each
    expression gets ``CREATE STATISTICS`` (PostgreSQL 14+: statistics on an expression, which the
    planner reads as it would the index's) and an ANALYZE of the columns it reads, in a transaction
    that is always rolled back, under a short lock_timeout (both take SHARE UPDATE EXCLUSIVE, which
    no read or write of the application waits for). Fills ``after`` with the warm costs and returns
    the predicted (server-priced) costs; when the trial cannot run (an older server, a lock held, not
    the table's owner) the targets are planned without the statistics, as before.
    """
    try:
        with conn.transaction(force_rollback=True):
            conn.execute("SET /* pgtune */ LOCAL lock_timeout = '1s'")
            conn.execute(f"SET /* pgtune */ LOCAL statement_timeout = {TRIAL_TIMEOUT_MS}")
            for ix in indexes:
                for statement in trial_statistics(ix):
                    conn.execute(statement)
            cold = {}
            for t in targets:
                after[t.key] = _both(conn, t, warm, cpu=True)
                cold[t.key] = plan_target(conn, t).cost
            return cold
    except psycopg.Error:
        if lost(conn):
            raise
    for t in targets:
        after[t.key] = _both(conn, t, warm, cpu=True)
    return {}


TargetKey = tuple[int | None, str, PlanContext]     # Target.key: a schema per tenant's roles run the same text

# A warm-priced cost, how that plan reads its tables (explain.scans), and its CPU part (None: not asked, or
# with page costs 0 the planner reads the tables another way).
Priced = tuple[float, tuple[str, ...], float | None]
CPU_ONLY = {"seq_page_cost": "0", "random_page_cost": "0"}   # what is left of a plan's cost is its CPU part


def _both(conn: psycopg.Connection[Any], t: Target, warm: dict[str, str], *, cpu: bool = False) -> Priced | None:
    """``t``'s warm-priced cost and scans, when its plan reads its tables as the server's pricing has it read them.

    Warm pricing can make another way of reading a table the cheaper one (an Index Scan where the server
    runs a Bitmap Heap Scan): the ways the server's plan does not use are then turned off (enable_* =
    off, which only adds a penalty, so the server's own plan stays possible), and the warm cost is of the
    same scans. A statement planned over several value scenarios keeps on the ways any of their plans
    reads a table, so each scenario's own plan stays possible (unpinned, a user's history planned for two
    users was read warm by an Index Scan where the server runs a Bitmap Heap Scan: no warm price, so no
    predicted time; p37, prisma_style). With ``cpu``, the same plan priced with page costs 0 gives the
    CPU part of its cost (the rest is its page part): a buffered page and a row's CPU do not take the
    same time per cost unit (baseline_pace times each).
    """
    try:
        usual = plan_target(conn, t)
    except (psycopg.Error, ValueError):
        if lost(conn):
            raise
        return None
    pins = _pins(*(p.plan for p in usual.plans))
    priced = _same_scans(conn, t, {**warm, **pins}, usual)
    if priced is None:
        return None
    return priced.cost, tuple(scans(priced.main.plan)), _cpu_part(conn, t, {**warm, **pins}, priced) if cpu else None


def _cpu_part(conn: psycopg.Connection[Any], t: Target, settings: dict[str, str], priced: Planned) -> float | None:
    """The CPU part of ``priced`` (``t`` planned with ``settings``): its cost with page costs 0, when that plan
    reads the tables the same way (else the parts would be of two plans)."""
    free = _same_scans(conn, t, {**settings, **CPU_ONLY}, priced)
    return free.cost if free is not None and 0 <= free.cost <= priced.cost else None


def _same_scans(conn: psycopg.Connection[Any], t: Target, settings: dict[str, str], like: Planned) -> Planned | None:
    """``t`` planned again with ``settings``, kept only when it reads the tables as ``like`` does, runs the
    same (generic or custom) plan and needed no turned-off path: else two plans' costs would be compared."""
    try:
        again = plan_target(conn, replace(t, settings={**t.settings, **settings}))
    except (psycopg.Error, ValueError):
        if lost(conn):
            raise
        return None
    if scans(again.main.plan) != scans(like.main.plan) or again.runs_generic != like.runs_generic \
            or _disabled(again.main.plan):
        return None
    return again


def _pins(*plans: dict[str, Any]) -> dict[str, str]:
    """enable_* = off for each way of reading a table that none of ``plans`` uses."""
    used = set()
    stack = [p.get("Plan", p) for p in plans]
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


def expression_keys(ix: PlannedIndex) -> list[ast.Node]:
    """The expressions among ``ix``'s keys (``lower(email)``), as pglast parsed them."""
    stmt = _index_stmt(ix)
    return [e.expr for e in stmt.indexParams or () if e.expr is not None] if stmt is not None else []


def trial_statistics(ix: PlannedIndex) -> list[sql.SQL | sql.Composed]:
    """CREATE STATISTICS on each of ``ix``'s key expressions, then ANALYZE of the columns they read."""
    out: list[sql.SQL | sql.Composed] = []
    columns: set[str] = set()
    for k, expr in enumerate(expression_keys(ix)):
        columns |= {str(c.fields[-1].sval) for c in _walk(expr) if isinstance(c, ast.ColumnRef)
                    and c.fields and isinstance(c.fields[-1], ast.String)}
        name = ddl.identifier(["pgtune_trial", ix.name, str(k)])
        stmt = ast.CreateStatsStmt(defnames=(ast.String(sval=ix.schema), ast.String(sval=name)),
                                   exprs=(ast.StatsElem(expr=expr),),
                                   relations=(ast.RangeVar(schemaname=ix.schema, relname=ix.table, inh=True),))
        out.append(sql.SQL(str(RawStream()(stmt))))   # printed by pglast: names quoted, constants literal
    if not columns:
        return []
    return [*out, sql.SQL("ANALYZE /* pgtune */ {} ({})").format(
        sql.Identifier(ix.schema, ix.table), sql.SQL(", ").join(sql.Identifier(c) for c in sorted(columns)))]


def _walk(node: Any) -> list[Any]:
    found = [node]
    if isinstance(node, ast.Node):
        for attr in node:
            found.extend(_walk(getattr(node, attr)))
    elif isinstance(node, tuple):
        for item in node:
            found.extend(_walk(item))
    return found


def _index_stmt(ix: PlannedIndex) -> ast.IndexStmt | None:
    parsed = parse_sql(ix.ddl)
    stmt = parsed[0].stmt if len(parsed) == 1 else None
    return stmt if isinstance(stmt, ast.IndexStmt) else None


def hypothetical_ddl(ix: PlannedIndex) -> str | None:
    """``ix``'s CREATE INDEX as HypoPG takes it; None for what is not a b-tree index (suggest costs GIN by a
    trial build, not with HypoPG)."""
    return ddl.hypothetical(ix.ddl)
