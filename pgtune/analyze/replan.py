"""The statements a withdrawn proposal served beside others, planned again with the proposals left.

The generic-plan review and the HOT charge withdraw an index after the
selection settled each statement's cost with the whole set. A statement that
used the withdrawn index and another one kept the cost both gave it, so the
headline and the migration's predicted cost (what ``verify --measure``
compares) still counted the withdrawn index (r8's H1: 40 where the rest gives
783.75). Each such statement is planned again here, as settle credits a
plan: the proposals its plan uses, when they cut its cost at all. Each
plan is priced as the selection priced it (analyze.calibration, with the
advisor's Pricing where the advice has it): the planner's EXPLAIN cost alone
credited an index-only scan the selection had refused, as its heap fetches on
pages writes cleared since the last VACUUM were left out (r11 F9: 11,627 ->
4,715 for a count the built index does not serve).
"""

from __future__ import annotations

from typing import Any

import psycopg

from .. import catalog_sql
from ..capture import Catalog
from ..connect import lost
from ..ddl import IndexKey
from ..explain import Plan, explain_scenarios
from . import calibration
from .candidates import Candidate
from .generic_plans import Made, hypopg_call, hypothetical_proposals
from .model import Advice, AnalyzedStatement, IndexSuggestion, Method
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
            priced = _calibration(conn, catalog, advice, made, schema)
            for st in todo:
                _plan(conn, st, made, priced)
    finally:
        if not lost(conn):
            conn.execute(hypopg_call(schema, "hypopg_reset"))


def _calibration(conn: psycopg.Connection[Any], catalog: Catalog, advice: Advice, made: dict[str, Made],
                 schema: str | None) -> calibration.Calibration:
    """The descents of the hypothetical proposals ``made``, by HypoPG's name, priced as the selection priced them:
    with the advisor's Pricing and candidates where the advice has them (else the catalog's statistics alone)."""
    pricing = advice.pricing if advice.pricing is not None else calibration.Pricing(catalog)
    found = conn.execute(catalog_sql.compose(
        "hypothetical_sizes", sizes=catalog_sql.function(schema, "hypopg_relation_size"),
        hypothetical=catalog_sql.function(schema, "hypopg"))).fetchall()
    sizes = {str(name): int(size or 0) for name, size in found}
    proposals = {(ix.schema, ix.name): ix for ix in advice.indexes}
    descents = {}
    for hypo, made_ix in made.items():
        # Keyed by the proposal's schema too: a schema per tenant has the same proposal name in each (p15).
        key = (made_ix.schema, made_ix.name)
        ix = proposals[key]
        if key not in advice.sources:     # narrowed since the selection: HypoPG's size of it as it is now
            ix.estimated_bytes = sizes.get(hypo) or ix.estimated_bytes
        cand = advice.sources.get(key) or _candidate(ix)
        descents[hypo] = pricing.descent(cand).sized(sizes.get(hypo, 0))
    row = conn.execute("SELECT /* pgtune */ current_setting('cpu_operator_cost')::float8, "
                       "current_setting('random_page_cost')::float8").fetchone()
    assert row is not None
    return calibration.Calibration(descents, float(row[0]), pricing.distinct, float(row[1]))


def _candidate(ix: IndexSuggestion) -> Candidate:
    """A proposal the advisor did not make as it is now (a key taken out since): its candidate, from its keys."""
    expressions = ix.expressions or [None] * len(ix.columns)
    keys = tuple(IndexKey(c, d, e) for c, d, e in zip(ix.columns, ix.descending, expressions, strict=True))
    return Candidate((ix.schema, ix.table), keys, 0, where=ix.where, include=tuple(ix.include))


def _plan(conn: psycopg.Connection[Any], st: AnalyzedStatement, made: dict[str, Made],
          priced: calibration.Calibration) -> None:
    custom = [s for s in st.scenarios if s.get("values")]
    try:
        plans = explain_scenarios(conn, st.query, [s["values"] for s in custom] or [None], context=st.context)
    except (psycopg.Error, ValueError):
        if lost(conn):
            raise
        _uncredited(st)
        return
    def price(p: Plan) -> float:
        return priced.corrected(p.plan) if p.plan else p.cost

    if custom:
        weight = sum(float(s.get("weight", 1.0)) for s in custom) or 1.0
        cost = sum(float(s.get("weight", 1.0)) * price(p) for s, p in zip(custom, plans, strict=True)) / weight
    else:
        cost = price(plans[0])
    used = sorted({made[n][0] for p in plans for n in p.indexes if n in made})
    if used and st.cost_before is not None and cost < st.cost_before:      # as settle: any cut, its indexes named
        st.cost_after, st.indexes = cost, used
    else:
        _uncredited(st)


def _uncredited(st: AnalyzedStatement) -> None:
    st.cost_after, st.indexes = st.cost_before, []
