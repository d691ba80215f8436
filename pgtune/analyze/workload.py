"""What selection needs to know of the workload's shapes.

The single-column seeds Extend starts from, each statement's weight and the
columns an index could use for it, and the columns an index may be widened by.
"""

from __future__ import annotations

from typing import Any, TypeVar

from ..capture import Catalog, Statement, TableKey
from ..ddl import IndexKey
from . import null_keys
from .bind import EQ, FUNC, GROUP, JOIN, ORDER, OUTPUT, RANGE, STAR, Role, Shape
from .candidates import Candidate
from .selection import Workload

_KEYABLE = (EQ, RANGE, JOIN, ORDER, GROUP)
_STRICT = {EQ, RANGE}       # never true on a NULL key: the planner proves key IS NOT NULL from them
T = TypeVar("T")


def single_columns(analyzed: list[tuple[Statement, Shape]], catalog: Catalog | None = None) -> list[Candidate]:
    """One single-column candidate per column (or expression) a statement filters, joins, sorts or groups on.

    With ``catalog``, a mostly-NULL column only ever compared by ``=`` or a
    range (strict: the NULL rows never match) is seeded WHERE it IS NOT NULL,
    as the statements' own candidates are (null_keys.narrowed): the full seed
    kept the NULL half and won over the narrowed longer one (u15 L2). A column
    joined on, sorted or grouped by keeps the full seed (HypoPG does not plan a
    partial index for a join clause; a sort reads the NULLs too).
    """
    out: dict[tuple[TableKey, str], Candidate] = {}
    roles: dict[tuple[TableKey, str], set[Role]] = {}
    for pos, (_st, shape) in enumerate(analyzed):
        for u in shape.uses:
            if u.role in _KEYABLE:
                key = IndexKey(u.column)
            elif u.role == FUNC and u.expression:
                key = IndexKey(u.column, expression=u.expression)
            else:
                continue
            cand = out.setdefault((u.table, key.ident), Candidate(u.table, (key,), 1))
            cand.statements.add(pos)
            roles.setdefault((u.table, key.ident), set()).add(u.role)
    if catalog is None:
        return list(out.values())
    return [null_keys.narrowed([cand], catalog)[0] if roles[k] <= _STRICT else cand for k, cand in out.items()]


def workload_of(shape: Shape, calls: int, base_cost: float) -> Workload:
    """What selection needs of one statement: weight, cost now, the columns it could use."""
    keyable: dict[TableKey, set[str]] = {}
    touched: dict[TableKey, set[str]] = {}
    star: set[TableKey] = set()
    for u in shape.uses:
        if u.role in _KEYABLE:
            keyable.setdefault(u.table, set()).add(u.column)
        elif u.role == FUNC and u.expression:
            keyable.setdefault(u.table, set()).add(u.expression)
        if u.role == STAR:
            star.add(u.table)
        elif u.expression is None:
            touched.setdefault(u.table, set()).add(u.column)
    return Workload(calls=calls, base_cost=base_cost, tables=_shared(frozenset(shape.tables)),
                    keyable={t: _shared(frozenset(c)) for t, c in keyable.items()},
                    # SELECT * reads every column: no index covers it.
                    touched={t: _shared(frozenset(c)) for t, c in touched.items() if t not in star})


_SHARED: dict[frozenset[Any], frozenset[Any]] = {}
SHARED_MAX = 50_000


def _shared(found: frozenset[T]) -> frozenset[T]:
    """One frozenset for every statement's equal one: each statement's own three (its tables, the columns it
    could lead with, those it reads) were 0.6 kB a statement for the whole of selection, 12 MB at 20,000
    statements (issue 28), where most statements on one table, or of one shape, use the same ones."""
    kept = _SHARED.get(found)
    if kept is None:
        if len(_SHARED) >= SHARED_MAX:
            _SHARED.clear()
        kept = _SHARED[found] = found
    return kept


def widen_columns(analyzed: list[tuple[Statement, Shape]]) -> dict[TableKey, list[IndexKey]]:
    """Per table, the keys an index may be widened by: the columns the workload filters, sorts or reads.

    A column the workload sorts DESC (more calls than ASC) is added DESC.
    """
    weight: dict[TableKey, dict[str, int]] = {}
    down: dict[tuple[TableKey, str], int] = {}
    for st, shape in analyzed:
        for u in shape.uses:
            if u.expression is None and u.role in (*_KEYABLE, OUTPUT):
                cols = weight.setdefault(u.table, {})
                cols[u.column] = cols.get(u.column, 0) + st.calls
            if u.role == ORDER:
                down[(u.table, u.column)] = down.get((u.table, u.column), 0) + (st.calls if u.descending
                                                                              else -st.calls)
    return {t: [IndexKey(c, down.get((t, c), 0) > 0) for c in sorted(cols, key=lambda c: -cols[c])]
            for t, cols in weight.items()}
