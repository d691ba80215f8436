"""The ``$n`` of one ``IN`` list valued as a list: a value each, never one value repeated.

Prisma sends an enum list as ``"status" IN (CAST($4::text AS
"public"."BookingStatus"), CAST($5::text AS …), …)``. pg_qualstats keeps no
constant for it (the cast is not folded) and each ``$n`` was valued alone:
by the share of rows the whole list kept, by one sampled row, by the
statistics. Each got the same value, and the statement was planned as
``IN ('accepted', 'accepted', 'accepted')``: one status where the
application reads three (g10, Cal.com's busy times; the plans "with values"
were then no call's plans, and the generic-plan review judged an index by
them). Here the positions of one list get distinct values: from the share
the list kept, the set of common values whose frequencies add up nearest to
it; from the statistics of a status-like column, its common values in
frequency order (what a list of statuses names: the common ones); and any
value repeated is replaced by the next common value not in the list yet.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

from ..capture import ColumnStats
from .bind import Shape
from .params import ParamKind
from .scenarios import ParamValue

COVERED = 0.95      # the common values list a column's values only when they hold this much of it
MOST_VALUES = 12    # common values searched for the set matching a share (C(12, 6) sets at most)


def groups(shape: Shape) -> list[list[int]]:
    """The ``$n`` of each list of two or more (``col IN ($4, $5)``, ``NOT IN``), in list order."""
    found: dict[tuple[object, str, str], list[list[int]]] = {}
    for n, use in sorted(shape.params.items()):
        if (use.kind != ParamKind.COLUMN or use.table is None or use.array or use.element or use.piece
                or use.interval is not None or use.op not in ("=", "<>")):
            continue
        lists = found.setdefault((use.table, use.column, use.op), [])
        if not lists or use.position == 0 or use.position != len(lists[-1]):
            lists.append([])        # a second list on the column starts again at position 0
        lists[-1].append(n)
    return [ns for lists in found.values() for ns in lists if len(ns) > 1]


def sizes(shape: Shape) -> dict[int, int]:
    """$n -> the length of the list it stands in (absent: it stands alone)."""
    return {n: len(ns) for ns in groups(shape) for n in ns}


def common(st: ColumnStats) -> list[str]:
    """A status-like column's common values, the most frequent first; none where they are not nearly all."""
    if not st.most_common_vals or sum(st.most_common_freqs) < COVERED:
        return []
    return list(st.most_common_vals)


def by_share(st: ColumnStats, kept: float, size: int) -> list[str]:
    """``size`` distinct common values whose frequencies add up nearest ``kept`` (the share of rows the list
    kept), in frequency order; none where the column's common values are not nearly all of it."""
    values = common(st)[:MOST_VALUES]
    if len(values) < size:
        return []
    freq = dict(zip(st.most_common_vals, st.most_common_freqs, strict=False))
    target = math.log(max(kept, 1e-6))
    best = min(itertools.combinations(values, size),
               key=lambda vs: abs(math.log(max(sum(freq[v] for v in vs), 1e-6)) - target))
    return list(best)


def spread(found: list[list[int]], params: list[ParamValue], stats: dict[int, ColumnStats | None]) -> list[ParamValue]:
    """Each list with its values distinct: a value repeated gives way to the next one of the column's common
    values (frequency order), else of its histogram from the middle, that the list does not hold yet."""
    out = list(params)
    for ns in found:
        if max(ns) > len(out):
            continue
        values = [out[n - 1].value for n in ns]
        if len(set(v for v in values if v is not None)) == len([v for v in values if v is not None]):
            continue
        st = stats.get(ns[0])
        pool = _pool(st) if st is not None else []
        used: set[str] = set()
        for n in ns:
            p = out[n - 1]
            if p.value is None:
                continue
            if p.value in used:
                spare = next((v for v in pool if v not in used), None)
                if spare is None:
                    continue
                out[n - 1] = replace(p, value=spare, use=f"{p.use} (a list's next value)")
            used.add(str(out[n - 1].value))
    return out


def _pool(st: ColumnStats) -> list[str]:
    bounds = list(st.histogram_bounds)
    mid = len(bounds) // 2
    middle_out = [bounds[i] for i in sorted(range(len(bounds)), key=lambda i: (abs(i - mid), i))]
    return list(dict.fromkeys([*st.most_common_vals, *middle_out]))
