"""After a withdrawal, each proposal lists only the statements whose cut credits it as they are planned now.

The selection's final plans (costing.settle) credit every index a statement's
plan uses when the set cuts its cost by MIN_GAIN; a proposal lists those
statements ("stmts", its queries, its cost before and after). A review after
it can withdraw an index that made the cut: on a Cal.com-shaped database (n38)
the covering twin of Attendee's email index made a booking list of an OR
(``"userId" IN ($2) OR id IN (SELECT "bookingId" FROM "Attendee" WHERE email
IN ($3))``) 17% cheaper beside ``Booking ("eventTypeId", "userId", ...)``;
withdrawn (the migration keeps the old index), the list was planned again
(analyze.replan) at its cost before, with another Booking index, and the
proposal still counted it among its 3 statements, though the one it cuts is 1.
Here the list of each proposal is made again from the statements' plans; a
proposal left with no statement it cuts is withdrawn, and the statements that
named it are planned again.
"""

from __future__ import annotations

from typing import Any

import psycopg

from ..capture import Catalog
from . import reasons, replan
from .model import Advice, AnalyzedStatement, IndexSuggestion, Method, QueryRef


def again(conn: psycopg.Connection[Any], catalog: Catalog, advice: Advice) -> None:
    """analyze.replan's ``again``, then each proposal's statements as their plans credit it now, till none goes."""
    while True:
        replan.again(conn, catalog, advice)
        if not uncredit(advice):
            return


def uncredit(advice: Advice) -> bool:
    """Take out of each b-tree proposal's list the statements whose plan no longer credits it; True when one
    was left with none and withdrawn (its statements are to be planned again)."""
    if advice.method != Method.HYPOPG:
        return False
    by_key: dict[tuple[int | None, str, int | None], list[AnalyzedStatement]] = {}
    for st in advice.statements:
        by_key.setdefault(st.key, []).append(st)
    withdrew = False
    for s in list(advice.indexes):
        if str(s.method) != "btree" or not s.queries:
            continue
        # A schema per tenant runs one text (one key) in each schema: any of them crediting the name keeps it.
        keep = [i for i, q in enumerate(s.queries)
                if not (found := by_key.get(_key(q))) or any(st.credited and s.name in st.indexes for st in found)]
        if len(keep) == len(s.queries):
            continue
        if not keep:
            advice.withdraw(s.name, f"{s.name} withdrawn: planned again after a withdrawal, none of the "
                                    f"{len(s.queries)} statements it served is cut by it", s.schema)
            withdrew = True
            continue
        _keep(s, keep, by_key)
    return withdrew


def _key(q: QueryRef) -> tuple[int | None, str, int | None]:
    return q.queryid, q.query, q.userid


def _keep(s: IndexSuggestion, keep: list[int], by_key: dict[tuple[int | None, str, int | None],
                                                          list[AnalyzedStatement]]) -> None:
    """``s`` with only its statements at positions ``keep``: its list, values, costs and the parts of its
    reason they make (analyze.reasons' own phrases, written again)."""
    was = (reasons.served_phrase(len(s.queries), s.cost_before, s.cost_after),
           _upkeep(s.maintenance_cost, s.cost_before, s.cost_after))
    s.queries = [s.queries[i] for i in keep]
    s.values = [s.values[i] for i in keep if i < len(s.values)]
    s.values_source = [s.values_source[i] for i in keep if i < len(s.values_source)]
    served = [st for q in s.queries
              for st in [next((st for st in by_key.get(_key(q), []) if st.credited and s.name in st.indexes), None)]
              if st is not None]
    s.cost_before = sum(st.calls * (st.cost_before or 0.0) for st in served)
    s.cost_after = sum(st.calls * (st.cost_after or 0.0) for st in served)
    now = (reasons.served_phrase(len(served), s.cost_before, s.cost_after),
           _upkeep(s.maintenance_cost, s.cost_before, s.cost_after))
    for old, new in zip(was, now, strict=True):
        if old and new:
            s.reason = s.reason.replace(old, new, 1)
        elif old:       # the cut is gone from the costs: so is its upkeep's comparison
            s.reason = s.reason.replace(f"; {old}", "", 1)


def _upkeep(upkeep: float | None, before: float | None, after: float | None) -> str:
    return reasons.upkeep_phrase(upkeep, before, after) if upkeep and before and after else ""
