"""The widenings of a chosen index that selection offers: one more key column its statements use (after Extend).

As in Extend, a column only read counts too, when it is the last one an
index-only scan needs: ``(orderId)`` widened by ``qty`` lets ``GROUP BY
"orderId" HAVING sum(qty) > …`` read the index alone (TPC-H Q18). The step is
taken only when that pays for the bytes (analyze.selection).
"""

from __future__ import annotations

from dataclasses import replace

from ..capture import TableKey
from ..ddl import IndexKey
from .candidates import Candidate
from .selection_model import Workload


def wider(chosen: Candidate, served: list[Workload], columns: dict[TableKey, list[IndexKey]]) -> list[Candidate]:
    """``chosen`` with one more key of ``columns`` (its table's), per column the statements it can serve
    (``served``) filter, join, sort, group on, or read as the one column it lacks to cover them."""
    have = {k.ident for k in chosen.keys} | set(chosen.include)
    used: set[str] = set()
    for w in served:
        used |= w.keyable.get(chosen.table, frozenset())
        # A column only read is offered when it is the one the index lacks to cover the statement: any other
        # would not change its plan, and would cost what-if plans.
        missing = w.touched.get(chosen.table, frozenset()) - have
        if len(missing) == 1:
            used |= missing
    # Its statements are the very set of the index it widens: nothing changes a candidate's statements once the
    # selection runs, and a set each (216 bytes for one or two positions) was a third of a widening's memory.
    return [replace(chosen, keys=(*chosen.keys, key), include=(), equality=chosen.equality)
            for key in columns.get(chosen.table, []) if key.ident not in have and key.ident in used]
