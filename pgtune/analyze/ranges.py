"""Both ends of one range (``col BETWEEN $2 AND $3``, ``col >= $2 AND col < $3``) valued as a range, never empty.

values.py gives each ``$n`` its own value: a lower end (``>=``) the
99th-percentile histogram bound, an upper end (``<=``) the 1st. Apart, each
stands for a narrow filter; together, on one column, they make a range whose
lower end is above its upper end, which no row satisfies. The planner then
costs a call that reads nothing, and an index "cuts" it 91x that verify
measures as nil (u2's F5: umami's per-website last-7-days queries).

So the two ends of one column's range are valued together: from the
statistics, the top WINDOW_SHARE of the histogram (the recent rows, as a
lone ``>=`` stands for); with one end observed (pg_qualstats) and the other
not, the other is the histogram bound WINDOW_SHARE beyond it; and any pair
still inverted (two observed constants from different calls) is swapped.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, replace
from datetime import datetime

from ..capture import Catalog, TableKey
from .bind import Shape
from .params import ParamKind
from .scenarios import ParamValue, ValueSource

WINDOW_SHARE = 0.01        # a range from the statistics covers this share of the histogram
_LOWER = (">", ">=")
_UPPER = ("<", "<=")


@dataclass(frozen=True)
class RangePair:
    """The ``$n`` of a range's lower end and of its upper end, on one column."""

    lower: str               # "$2"
    upper: str               # "$3"
    table: TableKey
    column: str


def pairs(shape: Shape) -> list[RangePair]:
    """Each column's lower-end $n paired with its upper-end $n, in the order they appear."""
    ends: dict[tuple[TableKey, str], tuple[list[int], list[int]]] = {}
    for n, use in sorted(shape.params.items()):
        if use.kind != ParamKind.COLUMN or use.table is None or use.array or use.interval is not None:
            continue
        lows, highs = ends.setdefault((use.table, use.column), ([], []))
        if use.op in _LOWER:
            lows.append(n)
        elif use.op in _UPPER:
            highs.append(n)
    return [RangePair(f"${lo}", f"${hi}", table, column)
            for (table, column), (lows, highs) in sorted(ends.items())
            for lo, hi in zip(lows, highs, strict=False)]


def together(found: list[RangePair], params: list[ParamValue], catalog: Catalog) -> list[ParamValue]:
    """Both ends of one column's range valued together: a range, never an empty one."""
    out = list(params)
    for p in found:
        lo, hi = int(p.lower[1:]) - 1, int(p.upper[1:]) - 1
        if max(lo, hi) >= len(out):
            continue
        a, b = out[lo], out[hi]
        if a.source == ValueSource.STATS and b.source == ValueSource.STATS:
            both = from_stats(p, catalog)
            if both is not None:
                a, b = replace(a, value=both[0]), replace(b, value=both[1])
        elif a.source == ValueSource.STATS and b.value is not None:
            a = replace(a, value=beside(p, catalog, b.value, upper=False) or a.value)
        elif b.source == ValueSource.STATS and a.value is not None:
            b = replace(b, value=beside(p, catalog, a.value, upper=True) or b.value)
        if a.value is not None and b.value is not None and inverted(a.value, b.value):
            a, b = replace(a, value=b.value), replace(b, value=a.value)
        out[lo], out[hi] = a, b
    return out


def from_stats(pair: RangePair, catalog: Catalog) -> tuple[str, str] | None:
    """(lower, upper): the top WINDOW_SHARE of the column's histogram; None without one."""
    bounds = _bounds(pair, catalog)
    if len(bounds) < 2:
        return None
    return bounds[min(int((1.0 - WINDOW_SHARE) * (len(bounds) - 1)), len(bounds) - 2)], bounds[-1]


def beside(pair: RangePair, catalog: Catalog, known: str, *, upper: bool) -> str | None:
    """The histogram bound WINDOW_SHARE above ``known`` (``upper``) or below it; None when none is."""
    bounds = _bounds(pair, catalog)
    keys = [_key(b) for b in bounds]
    k = _key(known)
    if len(bounds) < 2 or not _comparable([k, *keys]):
        return None
    step = max(1, math.ceil(WINDOW_SHARE * (len(bounds) - 1)))
    if upper:
        i = bisect.bisect_right(keys, k)
        return bounds[min(i + step - 1, len(bounds) - 1)] if i < len(bounds) else None
    i = bisect.bisect_left(keys, k)
    return bounds[max(i - step, 0)] if i > 0 else None


def ordered(values: dict[str, str | None], found: list[RangePair]) -> dict[str, str | None]:
    """``values`` with each pair's ends swapped where the lower is above the upper (an empty range)."""
    out = dict(values)
    for p in found:
        lo, hi = out.get(p.lower), out.get(p.upper)
        if lo is not None and hi is not None and inverted(lo, hi):
            out[p.lower], out[p.upper] = hi, lo
    return out


def inverted(lower: str, upper: str) -> bool:
    """Is ``lower`` above ``upper``, compared as numbers, else timestamps, else text?"""
    a, b = _key(lower), _key(upper)
    return _comparable([a, b]) and a > b      # type: ignore[operator]


def _bounds(pair: RangePair, catalog: Catalog) -> tuple[str, ...]:
    st = catalog.column_stats.get((pair.table[0], pair.table[1], pair.column))
    return st.histogram_bounds if st is not None else ()


def _key(text: str) -> float | datetime | str:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return text


def _comparable(keys: list[float | datetime | str]) -> bool:
    """One kind of key throughout (a timestamp with a zone and one without do not compare)."""
    if len({type(k) for k in keys}) != 1:
        return False
    if isinstance(keys[0], datetime):
        return len({k.tzinfo is None for k in keys if isinstance(k, datetime)}) == 1
    return True
