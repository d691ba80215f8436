"""The widenings of a chosen index that selection offers: one more key column its statements use (after Extend).

As in Extend, a column only read counts too, when it is the last one an
index-only scan needs: ``(orderId)`` widened by ``qty`` lets ``GROUP BY
"orderId" HAVING sum(qty) > …`` read the index alone (TPC-H Q18). The step is
taken only when that pays for the bytes (analyze.selection).

A column a statement compares by equality goes before the keys that
statement ranges or sorts on, as a DBA orders them: ``("updatedAt")``
widened by ``"surveyId"`` for ``WHERE "surveyId" = $1 AND "updatedAt" > $2
ORDER BY "updatedAt"`` is ``("surveyId", "updatedAt")``, which descends to the
survey's run, not ``("updatedAt", "surveyId")``, which reads every survey's
rows of the range and tests "surveyId" in each (w38, Formbricks-shaped: the
greedy took the latter, cheap per byte, and an add of the former beside
``("updatedAt")`` costs all its bytes). The appended order is offered too
only where a statement the index serves does not pin the new column, or
pins every key before it: the planner's costs decide between the two.
"""

from __future__ import annotations

from dataclasses import replace

from ..capture import TableKey
from ..ddl import IndexKey
from .candidates import Candidate
from .selection_model import Workload


def wider(chosen: Candidate, served: list[Workload], columns: dict[TableKey, list[IndexKey]]) -> list[Candidate]:
    """``chosen`` with one more key of ``columns`` (its table's), per column the statements it can serve
    (``served``) filter, join, sort, group on, or read as the one column it lacks to cover them; the column
    ahead of the keys a statement does not pin where that statement pins it by equality (``first``)."""
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
    return [replace(chosen, keys=keys, include=(), equality=equality)
            for key in columns.get(chosen.table, []) if key.ident not in have and key.ident in used
            for keys, equality in first(chosen, key, served)]


def first(chosen: Candidate, key: IndexKey, served: list[Workload]) -> list[tuple[tuple[IndexKey, ...], int]]:
    """The key orders (and equality prefix lengths) of ``chosen`` widened by ``key``: per statement of ``served``
    that compares ``key`` by equality and not every key of ``chosen``, its equality columns first (in
    ``chosen``'s order, ``key`` last of them), then the rest; the appended order where another statement uses
    ``key`` (a statement that does not gains nothing by it: one order a column, as before, on speed.py's
    tables, where both orders were +8% plans)."""
    table, appended = chosen.table, (*chosen.keys, key)
    out: list[tuple[tuple[IndexKey, ...], int]] = []
    plain = False
    for w in served:
        pinned = [k for k in appended if k.expression is None and (table, k.column) in w.equal]
        if key not in pinned or len(pinned) == len(appended):
            plain = plain or key.ident in w.keyable.get(table, ()) or key.column in w.touched.get(table, ())
            continue
        keys = (*pinned, *(k for k in chosen.keys if k not in pinned))
        if all(keys != o for o, _ in out):
            out.append((keys, len(pinned)))
    return [(appended, chosen.equality), *out] if plain or not out else out
