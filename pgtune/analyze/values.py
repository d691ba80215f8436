"""Representative values for the ``$n`` of a normalized statement, so it is costed the way it runs.

pg_stat_statements keeps ``amount > $1``, not the constant. A generic plan
gives such a predicate a default selectivity, so a range over "the last day"
never looks selective and its index is never chosen. pgtune plans the
statement with values chosen from the planner's own statistics (pg_stats) and
says which values it used (``values``, ``values_source``), so a DBA can check
the assumption:

* ``col = $n``: a value of typical frequency, the middle histogram bound (or
  the middle most-common value of a column that has no histogram);
* ``col > $n`` / ``>=``: the 99th-percentile histogram bound (about the top 1%
  of rows); ``<`` / ``<=``: the 1st percentile;
* ``col >= now() - $n::interval``: 1% of the column's span in the
  statistics (the histogram's first to last bound), at least one minute;
  ``now() + $n`` likewise;
* ``LIMIT $n``: 20; ``OFFSET $n``: 0.

With pg_qualstats installed, the constant a statement ran with most often
comes first (``values_source: qualstats``). A statement with a ``$n`` none of
these rules covers keeps its generic plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..capture import Catalog
from ..snapshot import QualConstant
from ..sqltext import constant_value
from .bind import ParamUse, Shape

LIMIT = "20"
WINDOW_SHARE = 0.01        # a time window covers this share of the column's span
MIN_WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Scenario:
    values: dict[str, str]          # "$1" -> the value's text (quoted by psycopg when used)
    source: str                     # "stats": chosen from pg_stats


def choose(shape: Shape, catalog: Catalog, nparams: int,
           constants: list[QualConstant] | None = None) -> Scenario | None:
    """Values for ``$1..$nparams``, or None when one of them has no rule (the generic plan stays).

    pg_qualstats' constants for the statement come first (the value it ran with most often);
    the statistics fill in the rest.
    """
    if not nparams:
        return None
    out: dict[str, str] = {}
    seen = False
    for n in range(1, nparams + 1):
        use = shape.params.get(n)
        value = observed(use, constants) if use is not None else None
        seen = seen or value is not None
        if value is None and use is not None:
            value = _value(use, catalog)
        if value is None:
            return None
        out[f"${n}"] = value
    return Scenario(out, "qualstats" if seen else "stats")


def observed(use: ParamUse, constants: list[QualConstant] | None, *, dominant: float = 0.0) -> str | None:
    """The constant the workload compared this column with most often (and at least ``dominant`` of the time)."""
    if not constants or use.table is None:
        return None
    same = [c for c in constants if c.table == use.table and c.column == use.column and c.op == use.op]
    total = sum(c.occurrences for c in same)
    for c in sorted(same, key=lambda c: -c.occurrences):
        if total and c.occurrences >= dominant * total:
            return constant_value(c.value)
        break
    return None


def _value(use: ParamUse, catalog: Catalog) -> str | None:
    if use.op == "limit":
        return LIMIT
    if use.op == "offset":
        return "0"
    if use.table is None:
        return None
    st = catalog.column_stats.get((use.table[0], use.table[1], use.column))
    if st is None:
        return None
    bounds = st.histogram_bounds
    if use.interval is not None:
        return _window(bounds)
    if use.op == "=":
        if bounds:
            return bounds[len(bounds) // 2]
        return st.most_common_vals[len(st.most_common_vals) // 2] if st.most_common_vals else None
    if not bounds:
        return None
    if use.op in (">", ">="):
        return bounds[int(0.99 * (len(bounds) - 1))]
    if use.op in ("<", "<="):
        return bounds[int(0.01 * (len(bounds) - 1))]
    return None


def _window(bounds: tuple[str, ...]) -> str | None:
    """An interval covering WINDOW_SHARE of a timestamp column's span, e.g. ``'86400 seconds'``."""
    if len(bounds) < 2:
        return "1 day"
    try:
        first, last = datetime.fromisoformat(bounds[0]), datetime.fromisoformat(bounds[-1])
    except ValueError:
        return None
    span = abs((last - first).total_seconds())
    return f"{max(int(span * WINDOW_SHARE), MIN_WINDOW_SECONDS)} seconds"
