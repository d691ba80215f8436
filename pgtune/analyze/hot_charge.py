"""The HOT charge on the b-tree proposals: an index on a column the UPDATEs set costs them their HOT updates.

The selection nets each index's gain against the writes that maintain it;
it does not know that an index on ``"updatedAt"`` turns the table's HOT
updates (no index written) into full ones (every index written). This pass
charges each workload proposal for the HOT updates it would stop
(analyze.hot): where the charge outweighs what the index saves net of its
upkeep, it is withdrawn and a hint says why; where it keeps HOT, or pays
its way, the reason says so. A withdrawn index's statements keep the cost
they have without it (their ``cost_after`` goes back to ``cost_before``
where it was their only index): the headline never counts it.
"""

from __future__ import annotations

from ..ddl import IndexKey
from .candidates import Origin
from .hot import HotWrites, candidate_columns
from .model import Advice, IndexSuggestion


def review(advice: Advice, writes: HotWrites, only: set[tuple[str, str]] | None = None) -> None:
    """Charge, keep or withdraw each b-tree workload proposal (of ``only``'s (schema, name), when given: those
    analyze.reselect added) for the HOT updates it would stop."""
    for s in list(advice.indexes):
        if s.origin != Origin.WORKLOAD or s.costed_by != "hypopg" or str(s.method) != "btree":
            continue
        if only is not None and (s.schema, s.name) not in only:
            continue
        table = (s.schema, s.table)
        columns = candidate_columns(_keys(s), s.include, s.where)
        found = writes.breaks(table, columns, s.method)
        note = writes.reason(table, columns, s.method)
        if not found.statements:
            if note:
                s.reason = f"{s.reason}; {note}"
            continue
        if s.cost_before is None or s.cost_after is None:
            s.reason = f"{s.reason}; {note}"        # heuristic mode: no saving to weigh it against, said only
            continue
        saved = s.cost_before - s.cost_after - (s.maintenance_cost or 0.0)
        if saved > found.charge:
            s.reason = f"{s.reason}; {note}, less than the {saved:,.0f} it saves"
            s.maintenance_cost = (s.maintenance_cost or 0.0) + found.charge
            continue
        advice.withdraw(s.name, f"{s.name} withdrawn: it saves {saved:,.0f} (calls x cost, net of upkeep) but {note}",
                       s.schema)


def _keys(s: IndexSuggestion) -> list[IndexKey]:
    exprs = s.expressions or [None] * len(s.columns)
    return [IndexKey(c, expression=e) for c, e in zip(s.columns, exprs, strict=False)]
