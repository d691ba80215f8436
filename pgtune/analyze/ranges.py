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
still inverted (two observed constants from different calls) is swapped;
with both ends observed, each scenario's upper end is the observed one
nearest above its lower end (matched), not the heaviest of its own.

A window over two columns of one row is a range too: Cal.com's busy times
read ``"startTime" >= $2 AND "endTime" <= $3`` (bookings inside a week),
and valued apart its ends were the 99th-percentile start and the
1st-percentile end, years before it: every plan made with them read nothing
and looked free (g10). A lower end on one date or timestamp column and an
upper end on another of the same table, each without a partner on its own
column, are paired and valued as one window: the lower end from the lower
column's 99th-percentile bound, the upper end the upper column's last.
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
_TIMES = ("timestamp", "date")


@dataclass(frozen=True)
class RangePair:
    """The ``$n`` of a range's lower end and of its upper end, on one column."""

    lower: str               # "$2"
    upper: str               # "$3"
    table: TableKey
    column: str
    upper_column: str = ""   # a window over two columns ("startTime" >= $2 AND "endTime" <= $3): the upper end's

    @property
    def high(self) -> str:
        """The column of the upper end."""
        return self.upper_column or self.column


def pairs(shape: Shape, catalog: Catalog | None = None) -> list[RangePair]:
    """Each column's lower-end $n paired with its upper-end $n, in the order they appear; then, with
    ``catalog``, a lower end left alone on one time column with an upper end left alone on another."""
    ends: dict[tuple[TableKey, str], tuple[list[int], list[int]]] = {}
    for n, use in sorted(shape.params.items()):
        if use.kind != ParamKind.COLUMN or use.table is None or use.array or use.interval is not None:
            continue
        lows, highs = ends.setdefault((use.table, use.column), ([], []))
        if use.op in _LOWER:
            lows.append(n)
        elif use.op in _UPPER:
            highs.append(n)
    out = [RangePair(f"${lo}", f"${hi}", table, column)
           for (table, column), (lows, highs) in sorted(ends.items())
           for lo, hi in zip(lows, highs, strict=False)]
    if catalog is not None:
        out += _across(ends, catalog)
    return out


def _across(ends: dict[tuple[TableKey, str], tuple[list[int], list[int]]], catalog: Catalog) -> list[RangePair]:
    """Lower ends and upper ends without a partner on their own column, on two time columns of one table,
    paired in the order they appear: one window over a row's start and end."""
    def timely(table: TableKey, column: str) -> bool:
        found = catalog.tables.get(table)
        return found is not None and found.column_type(column).startswith(_TIMES)

    lone: dict[TableKey, tuple[list[tuple[int, str]], list[tuple[int, str]]]] = {}
    for (table, column), (lows, highs) in ends.items():
        if timely(table, column):
            alone_lows, alone_highs = lone.setdefault(table, ([], []))
            alone_lows.extend((n, column) for n in lows[len(highs):])
            alone_highs.extend((n, column) for n in highs[len(lows):])
    out: list[RangePair] = []
    for table, (lows_, highs_) in sorted(lone.items()):
        for (lo, a), (hi, b) in zip(sorted(lows_), sorted(highs_), strict=False):
            if a != b:
                out.append(RangePair(f"${lo}", f"${hi}", table, a, b))
    return out


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
    """(lower, upper): the top WINDOW_SHARE of the column's histogram (of a window over two columns: the
    lower column's bound there to the upper column's last); None without one, or when that is no window."""
    bounds, highs = _bounds(pair, catalog), _bounds(pair, catalog, upper=True)
    if len(bounds) < 2 or len(highs) < 2:
        return None
    lower = bounds[min(int((1.0 - WINDOW_SHARE) * (len(bounds) - 1)), len(bounds) - 2)]
    return None if inverted(lower, highs[-1]) else (lower, highs[-1])


def beside(pair: RangePair, catalog: Catalog, known: str, *, upper: bool) -> str | None:
    """The histogram bound WINDOW_SHARE above ``known`` (``upper``) or below it; None when none is."""
    bounds = _bounds(pair, catalog, upper=upper)
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


def matched(values: dict[str, str | None], found: list[RangePair],
            uppers: dict[str, list[str]]) -> dict[str, str | None]:
    """``values`` with each pair's upper end the observed one (``uppers``: $n -> pg_qualstats' constants) nearest
    above its lower end. Ranked alone, a lower end's heaviest constant is the earliest and an upper end's the
    latest: a window no call sent, years wide where every call asks for a week (g10)."""
    out = dict(values)
    for p in found:
        low, seen = out.get(p.lower), uppers.get(p.upper)
        if low is None or not seen:
            continue
        k, keys = _key(low), [(_key(v), v) for v in seen]
        if _comparable([k, *(key for key, _ in keys)]):
            above = [(key, v) for key, v in keys if key > k]     # type: ignore[operator]
            if above:
                out[p.upper] = min(above)[1]
    return out


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


def _bounds(pair: RangePair, catalog: Catalog, *, upper: bool = False) -> tuple[str, ...]:
    st = catalog.column_stats.get((pair.table[0], pair.table[1], pair.high if upper else pair.column))
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
