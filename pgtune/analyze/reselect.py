"""A withdrawal is followed by a new selection for the statements the withdrawn index served.

The generic-plan review and the HOT charge withdraw an index for a reason
about the index (a statement's generic plan alone would take it; it holds a
column the UPDATEs set), not because its statements need none. On an
OpenPanel-shaped database (p35) the review withdrew ``notifications
("projectId", "sendToApp")`` and nothing replaced it: the small projects'
notifications list (40% of its calls) kept reading the table, 300-345 ms a
call, where ``("projectId", "createdAt" DESC)`` serves big and small projects
alike, in custom and generic plans (0.06-0.12 ms). So the statements a
withdrawal left (those it served, and those whose generic plan took it) get
their candidates on its table again, every candidate withdrawn in this run
left out, each costed with HypoPG beside the proposals left and taken, best
first, while it cuts what it serves by MIN_CUT net of its writes; what is
taken goes through the same reviews, ROUNDS times at most. The withdrawal's
hint stays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import psycopg
from psycopg import sql

from .. import catalog_sql, ddl
from .._text import one_line
from ..capture import Catalog, Statement, TableKey
from ..connect import lost
from ..ddl import IndexKey
from ..explain import explain_scenarios
from ..explain_names import plan_name, raw_cursor
from ..snapshot import Snapshot
from ..sqltext import ParseFailed
from . import generic_plans, hot_charge, reasons
from .bind import bind
from .candidates import Candidate, from_shape, made_redundant, serves_index
from .footprint import Footprint
from .generic_plans import hypopg_call, hypothetical_proposals
from .hot import HotWrites, candidate_columns
from .kind_budget import Budget
from .model import Advice, AnalyzedStatement, IndexSuggestion, Method
from .selection_model import Ident, ident
from .whatif import lenient

ROUNDS = 3          # new selections after the first review at most: each one's additions are reviewed again
MIN_CUT = 0.10      # the statements a candidate serves must cost at least this share less, net of its writes


@dataclass
class _Costed:
    cand: Candidate
    served: list[tuple[AnalyzedStatement, float, float]]    # statement, cost now, cost with the candidate
    size: int
    generic: set[int]       # id() of the served statements costed by the generic plan the server would run

    @property
    def saved(self) -> float:
        return sum(st.calls * (now - then) for st, now, then in self.served)


def review(conn: psycopg.Connection[Any], snap: Snapshot, advice: Advice, writes: HotWrites | None = None,
           budget: Budget | None = None) -> None:
    """The generic-plan review and the HOT charge (with ``writes``), each withdrawing for a reason about the index,
    not its statements; after each withdrawal a new selection for the statements it left, within what ``budget``
    (--max-index-mb, --max-indexes) leaves."""
    gone: set[Ident] = set()
    only: set[tuple[str, str]] | None = None
    for _ in range(ROUNDS + 1):
        before = list(advice.indexes)
        served: dict[str, list[AnalyzedStatement]] = {}    # by index name, as statements name them; once a round:
        for st in advice.statements:        # per index over every statement was 22.5M tests at speed.py's 5k (1.5 s)
            for name in st.indexes:
                served.setdefault(name, []).append(st)
        risks = generic_plans.review(conn, snap.catalog, advice, only)
        if writes is not None:
            hot_charge.review(advice, writes, only)
        kept = {(ix.schema, ix.name) for ix in advice.indexes}
        withdrawn = [ix for ix in before if (ix.schema, ix.name) not in kept]
        if not withdrawn or advice.method != Method.HYPOPG:
            return
        gone |= {ident(_source(advice, ix)) for ix in withdrawn}
        # The statements it served, and those whose generic plan took it: that plan prices the typical value
        # (a small project), which the plans with values (a big one) may not stand for.
        left = list({id(st): st for st in [*(st for ix in withdrawn for st in served.get(ix.name, [])),
                                           *(r.statement for r in risks)]}.values())
        added = select(conn, snap, advice, left, gone, withdrawn, writes, {id(r.statement) for r in risks}, budget)
        if not added:
            return
        only = {(ix.schema, ix.name) for ix in added}


def select(conn: psycopg.Connection[Any], snap: Snapshot, advice: Advice, left: list[AnalyzedStatement],
           gone: set[Ident], withdrawn: list[IndexSuggestion], writes: HotWrites | None = None,
           prepared: set[int] | None = None, budget: Budget | None = None) -> list[IndexSuggestion]:
    """Add the best of ``left``'s candidates on the tables of ``withdrawn`` (none of ``gone``) while one cuts
    MIN_CUT of what it serves, net of its writes and of the HOT updates it would stop (``writes``). A statement of
    ``prepared`` (by id(): one whose generic plan the server runs, as the review found) is costed by the plan the
    server would run, generic or custom: its calls run that one."""
    added: list[IndexSuggestion] = []
    schema = catalog_sql.extension_schema(conn, "hypopg")
    footprint = Footprint(conn, snap.catalog, snap.write_scale)
    row = conn.execute("SELECT /* pgtune */ pg_catalog.current_setting('cpu_operator_cost')::float8").fetchone()
    cost = _Pricer(conn, prepared or set(), float(row[0]) if row else 0.0025)

    def charge(c: Candidate) -> float:
        hot = writes.breaks(c.table, candidate_columns(c.keys, c.include, c.where)).charge if writes else 0.0
        return footprint.upkeep(c) + hot
    tables = {(ix.schema, ix.table) for ix in withdrawn}
    while left and (cands := _candidates(snap, advice, left, gone, tables)):
        with lenient(conn):
            best = _best(cost, snap.catalog, advice, schema, cands, left, charge)
        if best is None:
            break
        suggestion = _suggestion(snap.catalog, advice, best, footprint, [ix.name for ix in withdrawn])
        refused = budget.refusal(advice, suggestion) if budget is not None else None
        if refused is not None:     # the withdrawn index's bytes were the selection's: a bigger one may not fit
            advice.hints.append(refused)
            break
        _take(advice, best, suggestion)
        added.append(suggestion)
        served = {id(st) for st, _, _ in best.served}
        left = [st for st in left if id(st) not in served]
    return added


def _source(advice: Advice, ix: IndexSuggestion) -> Candidate:
    """The proposal's candidate: the advisor's, else from its keys (one narrowed since the selection)."""
    found = advice.sources.get((ix.schema, ix.name))
    if found is not None:
        return found
    expressions = ix.expressions or [None] * len(ix.columns)
    keys = tuple(IndexKey(c, d, e) for c, d, e in zip(ix.columns, ix.descending, expressions, strict=True))
    return Candidate((ix.schema, ix.table), keys, 0, where=ix.where, include=tuple(ix.include))


def _candidates(snap: Snapshot, advice: Advice, left: list[AnalyzedStatement], gone: set[Ident],
                tables: set[TableKey]) -> list[Candidate]:
    """The b-tree candidates of ``left``'s shapes on ``tables`` (plain ones: the review plans no partitioned one),
    none withdrawn in this run, proposed already or served by an existing index; ``statements``: positions in
    ``left``."""
    catalog = snap.catalog
    tables = {t for t in tables if t in catalog.tables and not catalog.tables[t].partitioned}
    proposed = {ident(_source(advice, ix)) for ix in advice.indexes}
    found: dict[Ident, Candidate] = {}
    for pos, st in enumerate(left):
        try:
            shape = bind(st.query, catalog, snap.roles.view(st.userid, st.queryid))
        except ParseFailed:
            continue
        for c in from_shape(shape, pos, catalog):
            key = ident(c)
            if c.table not in tables or key in gone or key in proposed or any(
                    serves_index(i, c) for i in catalog.indexes_on(c.table)):
                continue
            if key in found:
                found[key].statements.add(pos)
            else:
                found[key] = replace(c, statements={pos})
    return list(found.values())


def _best(cost: _Pricer, catalog: Catalog, advice: Advice, schema: str | None, cands: list[Candidate],
          left: list[AnalyzedStatement], charge: Callable[[Candidate], float]) -> _Costed | None:
    """The candidate saving ``left`` the most, net of its writes, beside the proposals; None under MIN_CUT."""
    conn = cost.conn
    try:
        hypothetical_proposals(conn, catalog, advice.indexes, schema, plain_only=True)
        now = [cost(st, set()) for st in left]
        best: _Costed | None = None
        for cand in cands:
            costed = _with(cost, schema, cand, left, now)
            if costed is None or not costed.served:
                continue
            before = sum(st.calls * cost for st, cost, _ in costed.served)
            net = costed.saved - charge(cand)
            if net >= MIN_CUT * before and (best is None or net > best.saved - charge(best.cand)):
                best = costed
        return best
    finally:
        if not lost(conn):
            conn.execute(hypopg_call(schema, "hypopg_reset"))


def _with(cost: _Pricer, schema: str | None, cand: Candidate, left: list[AnalyzedStatement],
          now: list[Priced | None]) -> _Costed | None:
    """``cand`` made hypothetically beside the proposals: the statements whose plans take it, and their costs."""
    conn = cost.conn
    text = ddl.hypothetical(ddl.create_index(cand.table[0], cand.table[1], "pgtune_hypo", cand.keys,
                                             concurrently=False, where=cand.where, include=cand.include))
    if text is None:
        return None
    try:
        with raw_cursor(conn) as cur:      # its name as bytes: HypoPG cuts a long one inside a character maybe
            row = cur.execute(sql.SQL("SELECT /* pgtune */ indexrelid, indexname, {}(indexrelid) FROM {}(%s)").format(
                catalog_sql.function(schema, "hypopg_relation_size"),
                catalog_sql.function(schema, "hypopg_create_index")), (text,)).fetchone()
    except psycopg.Error:
        if lost(conn):
            raise
        return None         # refused (a key the server will not index): not a candidate
    if row is None:
        return None
    served, generic = [], set()
    try:
        for pos in sorted(cand.statements):
            st, base = left[pos], now[pos]
            got = cost(st, {plan_name(conn, row[1])})
            if base is not None and got is not None and got.used and got.cost < base.cost:
                served.append((st, base.cost, got.cost))
                if got.generic:
                    generic.add(id(st))
    finally:
        conn.execute(sql.SQL("SELECT /* pgtune */ {}(%s)").format(
            catalog_sql.function(schema, "hypopg_drop_index")), (row[0],))
    return _Costed(cand, served, int(row[2] or 0), generic)


class Priced(NamedTuple):
    cost: float
    used: set[str]      # the names asked for that the plan (or plans) costed take
    generic: bool       # costed by the generic plan


@dataclass
class _Pricer:
    """A statement's cost: the weighted mean of its plans with values, or for one of ``prepared`` the plan the
    server would run (analyze.generic_plans.runs_generic)."""

    conn: psycopg.Connection[Any]
    prepared: set[int]
    operator: float

    def __call__(self, st: AnalyzedStatement, names: set[str]) -> Priced | None:
        custom = [s for s in st.scenarios if s.get("values")]
        generic = bool(custom) and id(st) in self.prepared
        try:
            plans = explain_scenarios(self.conn, st.query, ([dict(st.literals) or None] if generic else [])
                                      + [s["values"] for s in custom] or [None], context=st.context)
        except (psycopg.Error, ValueError):
            if lost(self.conn):
                raise
            return None
        if generic:
            first, plans = plans[0], plans[1:]
        weights = [float(s.get("weight", 1.0)) for s in custom] or [1.0]
        mean = sum(w * p.cost for w, p in zip(weights, plans, strict=True)) / (sum(weights) or 1.0)
        if generic and generic_plans.runs_generic(first, plans, mean, self.operator):
            return Priced(first.cost, set(first.indexes) & names, True)
        return Priced(mean, {n for p in plans for n in p.indexes if n in names}, False)


def _suggestion(catalog: Catalog, advice: Advice, best: _Costed, footprint: Footprint,
                withdrawn: list[str]) -> IndexSuggestion:
    """``best`` as a proposal (not taken yet: _take)."""
    cand = best.cand
    schema, table = cand.table

    def make(n: int) -> str:
        return ddl.index_name(table, cand.keys, catalog.index_suffix if n == 1 else f"{catalog.index_suffix}{n}",
                              where_label=cand.where_label, include=cand.include)
    taken = {(ix.schema, ix.name) for ix in advice.indexes}
    name, n = catalog.free_name(schema, make(1), make), 1
    while (schema, name) in taken:
        n += 1
        name = catalog.free_name(schema, make(n), make)
    before = sum(st.calls * b for st, b, _ in best.served)
    after = sum(st.calls * a for st, _, a in best.served)
    upkeep = footprint.upkeep(cand)
    redundant = made_redundant(cand, catalog)
    reason = reasons.index_reason(cand, catalog, before=before, after=after, served=len(best.served), upkeep=upkeep,
                                  kept=footprint.share_kept(cand), generic=0, redundant=redundant)
    reason += (f"; proposed once {', '.join(withdrawn)} was withdrawn, for the statements it left: "
               f"{', '.join(one_line(st.query, 40) for st, _, _ in best.served[:2])}")
    if best.generic:
        reason += (f"; {len(best.generic)} of them costed by the generic plan the server runs (a prepared "
                   "statement whose generic plan took the withdrawn index), not counted in the headline")
    suggestion = IndexSuggestion(
        schema=schema, table=table, name=name, columns=list(cand.columns),
        descending=[k.descending for k in cand.keys], expressions=[k.expression for k in cand.keys],
        where=cand.where, include=list(cand.include), origin=cand.origin,
        ddl=ddl.create_index(schema, table, name, cand.keys, where=cand.where, include=cand.include),
        rollback=ddl.drop_index(schema, name), analyze=ddl.analyze(schema, table), reason=reason,
        queries=[_ref(st) for st, _, _ in best.served], redundant=redundant,
        values=[st.values for st, _, _ in best.served], values_source=[st.values_source for st, _, _ in best.served],
        cost_before=before, cost_after=after, maintenance_cost=upkeep, estimated_bytes=best.size,
        forecast_bytes=footprint.forecast(cand))
    return suggestion


def _take(advice: Advice, best: _Costed, suggestion: IndexSuggestion) -> None:
    """``suggestion`` proposed, its statements credited with it (and planned again with the set: advice.replan)."""
    schema, name, cand = suggestion.schema, suggestion.name, best.cand
    advice.indexes.append(suggestion)
    advice.sources[(schema, name)] = cand
    for st, _, cost in best.served:
        st.indexes.append(name)
        if id(st) not in best.generic:      # the headline is the plans with values' (docs/values.md)
            st.cost_after = min(cost, st.cost_after if st.cost_after is not None else cost)
        if all(st is not other for other in advice.replan):
            advice.replan.append(st)        # its cost with the whole set, priced as the selection prices it


def _ref(st: AnalyzedStatement) -> Statement:
    return Statement(st.query, queryid=st.queryid, calls=st.calls, userid=st.userid)
