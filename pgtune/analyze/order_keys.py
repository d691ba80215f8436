"""Sort keys a chosen index lacks to give a LIMITed statement its whole ORDER BY.

``WHERE project_id = $1 AND dataset_id = $2 ORDER BY created_at DESC, id
LIMIT 50`` (Langfuse's latest dataset items, through Prisma): the index
``(project_id, dataset_id, created_at DESC)`` gives the rows in
``created_at`` order, and the server still sorts each run of equal
``created_at`` by ``id`` (an incremental sort). The planner prices that sort
from ``created_at``'s distinct values over the whole table, as if the matching
rows spread evenly over them; items a dataset gets in one upload share one
``created_at``, so the first run holds all of them and the statement reads
and sorts every matching row before its first is returned (measured: 123 ms,
against 0.24 ms with ``id`` as the last key). The what-if cost, which cannot
see the ties, hardly tells the two indexes apart, and selection kept the
smaller (or, where the planner takes the two equality columns as
independent and expects few rows, the index on those two alone). An index
already sorted by the first ORDER BY columns, or one on exactly the columns a
LIMITed statement pins by equality, is completed here with the rest of its
ORDER BY, so that the scan stops after the LIMIT's rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from ..capture import Catalog
from ..ddl import IndexKey
from .candidates import Candidate
from .selection import ident
from .shape import EQ, GROUP, ORDER, ColumnUse, Shape

SORTED_ROWS = 1000     # rows an equality may find from which the sort a LIMIT stops early is worth keys


def complete(chosen: list[Candidate], shapes: Sequence[Shape], catalog: Catalog,
             fits: Callable[[list[Candidate]], bool] = lambda _: True) -> list[Candidate]:
    """``chosen`` with each index that gives a LIMITed statement part of its ORDER BY given the rest.

    ``shapes`` are the analyzed statements by position (``Candidate.statements``);
    a completion is kept only while ``fits`` accepts the set with it (the budget).
    """
    out = list(chosen)
    for i, cand in enumerate(out):
        wider = _completed(cand, shapes, catalog)
        if wider is None or any(ident(o) == ident(wider) for o in out):
            continue
        trial = [*out[:i], wider, *out[i + 1:]]
        if fits(trial):
            out = trial
    return out


def _completed(cand: Candidate, shapes: Sequence[Shape], catalog: Catalog) -> Candidate | None:
    for pos in sorted(cand.statements):
        if pos >= len(shapes):
            continue
        keys = _order_tail(cand.keys, shapes[pos], cand, catalog)
        if keys:
            full = (*cand.keys, *keys)
            names = {k.column for k in full if k.expression is None}
            return replace(cand, keys=full, include=tuple(c for c in cand.include if c not in names),
                           statements=set(cand.statements))
    return None


def _order_tail(keys: tuple[IndexKey, ...], shape: Shape, cand: Candidate, catalog: Catalog) -> list[IndexKey]:
    """The keys ``keys`` lacks to give ``shape``'s LIMITed ORDER BY whole; empty when none or it cannot."""
    for block in sorted(shape.limited_blocks):
        uses = [u for u in shape.uses if u.block == block]
        order = [u for u in uses if u.role == ORDER]
        if not order or len({(u.alias, u.table) for u in order}) != 1 or order[0].table != cand.table \
                or any(u.role == GROUP for u in uses):
            continue        # sorted by several tables, or grouped first: no one index gives the order
        alias = order[0].alias
        pinned = {u.column for u in uses if u.alias == alias and u.role == EQ and u.expression is None}
        tail = _distinct([u for u in order if u.column not in pinned])
        if any(u.nulls_first is not None or u.expression is not None for u in tail):
            continue        # NULLS FIRST/LAST as written: a default-ordered key may not give it
        lead = 0
        while lead < len(keys) and keys[lead].expression is None and keys[lead].column in pinned:
            lead += 1
        sorted_by = keys[lead:]
        if len(sorted_by) >= len(tail) or (not sorted_by and not _many_pinned(keys, pinned, cand, catalog)):
            continue        # it has them all, or the sort it would spare is small (or rows to skip: a filter)
        if [k.column for k in sorted_by] != [u.column for u in tail[:len(sorted_by)]] \
                or any(k.expression is not None for k in sorted_by):
            continue
        # read backward: every direction flipped
        flip = bool(sorted_by) and sorted_by[0].descending != tail[0].descending
        if any(k.descending != (u.descending != flip) for k, u in zip(sorted_by, tail, strict=False)):
            continue
        return [IndexKey(u.column, u.descending != flip) for u in tail[len(sorted_by):]]
    return []


def _many_pinned(keys: tuple[IndexKey, ...], pinned: set[str], cand: Candidate, catalog: Catalog) -> bool:
    """Are ``keys`` every column the statement pins by equality (but those a partial index's predicate
    pins), and could the rows they find be many (SORTED_ROWS)?

    The planner multiplies the columns' shares as if independent; a dataset
    decides its project, so it expects a tenth of the rows there are. The
    most distinct column alone bounds them whatever the others: a user's
    dozen orders are sorted in no time, a dataset's 10,000 items are not.
    """
    needed = {c for c in pinned if cand.where is None or not re.search(rf"\b{re.escape(c)}\b", cand.where)}
    if not keys or any(k.expression is not None for k in keys) or {k.column for k in keys} != needed:
        return False
    table = catalog.tables.get(cand.table)
    distinct = max(catalog.distinct_values(cand.table, c) for c in needed)
    rows = (table.reltuples if table is not None else 0.0) * (cand.where_fraction or 1.0)
    return distinct > 0 and rows / distinct >= SORTED_ROWS


def _distinct(uses: list[ColumnUse]) -> list[ColumnUse]:
    seen: set[str] = set()
    out = []
    for u in uses:
        if u.column not in seen:
            seen.add(u.column)
            out.append(u)
    return out
