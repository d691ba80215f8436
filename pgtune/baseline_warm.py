"""The predicted gain re-priced for a warm cache, so verify can compare it with a time cut measured warm.

suggest predicts a cost cut with the server's page costs, which price a page an index reads at
``random_page_cost`` (4 by default): a read from disk. verify times a statement best of three runs,
and on a server whose data fits in shared_buffers every run finds every page there; the time cut it
measures is then the cut in CPU and buffer hits, not in disk reads. PostgreSQL's documentation says
as much for a cached database: random reads cost about what sequential ones do. So at emit, for each
target suggest costed, its cost before and with the migration's indexes (hypothetical, HypoPG) are
planned again with ``random_page_cost = seq_page_cost``. When that pricing changes how a plan reads
its tables, the warm figures are not of the plans the server runs, and none are kept.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import psycopg
from pglast import ast, parse_sql
from pglast.stream import RawStream

from .baseline import plan_target
from .capabilities import probe
from .connect import lost
from .explain import scans
from .plan import PlannedIndex, Target


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
    """``t``'s warm-priced cost, when its plan reads its tables as the server's pricing has it read them."""
    try:
        usual = plan_target(conn, t)
        priced = plan_target(conn, replace(t, settings={**t.settings, **warm}))
    except (psycopg.Error, ValueError):
        if lost(conn):
            raise
        return None
    if scans(usual.main.plan) != scans(priced.main.plan) or usual.runs_generic != priced.runs_generic:
        return None
    return priced.cost


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
