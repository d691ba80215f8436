"""The statements a withdrawn proposal served beside others, planned again with the proposals left.

The generic-plan review and the HOT charge withdraw an index after the
selection settled each statement's cost with the whole set. A statement that
used the withdrawn index and another one kept the cost both gave it, so the
headline and the migration's predicted cost (what ``verify --measure``
compares) still counted the withdrawn index (r8's H1: 40 where the rest gives
783.75). Each such statement is planned again here, as settle credits a
plan: the proposals its plan uses, when they cut its cost by MIN_GAIN. These
plans are the planner's own EXPLAIN costs, without the selection's correction
for the b-tree descent HypoPG leaves out (analyze.calibration): a few units a
probe, on the few statements a withdrawal touches.
"""

from __future__ import annotations

from typing import Any

import psycopg

from .. import catalog_sql
from ..capture import Catalog
from ..connect import lost
from ..explain import explain_scenarios
from .costing import MIN_GAIN
from .generic_plans import hypopg_call, hypothetical_proposals
from .model import Advice, AnalyzedStatement, Method
from .whatif import lenient


def again(conn: psycopg.Connection[Any], catalog: Catalog, advice: Advice) -> None:
    """Plan each statement of ``advice.replan`` with the proposals left: its ``cost_after`` and indexes; then the
    chosen curve point describes the set left (Advice.restate)."""
    _again(conn, catalog, advice)
    advice.restate()


def _again(conn: psycopg.Connection[Any], catalog: Catalog, advice: Advice) -> None:
    todo = [st for st in advice.replan if st.indexes]      # one a later withdrawal emptied was reset then
    advice.replan = []
    if not todo:
        return
    if advice.method != Method.HYPOPG:
        for st in todo:         # nothing to plan with: no gain is claimed that no plan showed
            _uncredited(st)
        return
    schema = catalog_sql.extension_schema(conn, "hypopg")
    try:
        with lenient(conn):     # HypoPG cuts a long name at NAMEDATALEN bytes, through a character maybe
            made = hypothetical_proposals(conn, catalog, advice.indexes, schema)
            for st in todo:
                _plan(conn, st, made)
    finally:
        if not lost(conn):
            conn.execute(hypopg_call(schema, "hypopg_reset"))


def _plan(conn: psycopg.Connection[Any], st: AnalyzedStatement, made: dict[str, tuple[str, str]]) -> None:
    custom = [s for s in st.scenarios if s.get("values")]
    try:
        plans = explain_scenarios(conn, st.query, [s["values"] for s in custom] or [None], context=st.context)
    except (psycopg.Error, ValueError):
        if lost(conn):
            raise
        _uncredited(st)
        return
    if custom:
        weight = sum(float(s.get("weight", 1.0)) for s in custom) or 1.0
        cost = sum(float(s.get("weight", 1.0)) * p.cost for s, p in zip(custom, plans, strict=True)) / weight
    else:
        cost = plans[0].cost
    used = sorted({made[n][0] for p in plans for n in p.indexes if n in made})
    if used and st.cost_before is not None and cost < st.cost_before * (1 - MIN_GAIN):
        st.cost_after, st.indexes = cost, used
    else:
        _uncredited(st)


def _uncredited(st: AnalyzedStatement) -> None:
    st.cost_after, st.indexes = st.cost_before, []
