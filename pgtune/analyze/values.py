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
* ``LIMIT $n``: 20; ``OFFSET $n``: 0;
* two or more equalities on one table (``"orgId" = $1 AND "userId" = $2``):
  the values of one row from a 1% TABLESAMPLE, since such columns are often
  correlated (``values_source: sample``).

With pg_qualstats installed, the constants a statement ran with most often
come first (``values_source: qualstats``), up to three scenarios weighted by
how often they occurred; the heaviest constant (the most rows filtered out)
always gets a scenario of its own, even when it is rare. The generic plan is always one more scenario (10%).
A statement with a ``$n`` none of these rules covers keeps its generic plan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..capture import Catalog, TableKey
from ..snapshot import QualConstant
from ..sqltext import constant_value
from .bind import ParamUse, Shape

LIMIT = "20"
WINDOW_SHARE = 0.01        # a time window covers this share of the column's span
MIN_WINDOW_SECONDS = 60


GENERIC_WEIGHT = 0.1      # the generic plan is one more scenario (a prepared statement may get it)
SCENARIOS = 3             # at most this many value scenarios from pg_qualstats' most frequent constants


@dataclass(frozen=True)
class Scenario:
    values: dict[str, str]          # "$1" -> the value's text (quoted by psycopg when used); {}: generic plan
    source: str                     # qualstats, stats or generic
    weight: float = 1.0             # the share of executions it stands for


Sampler = Callable[[TableKey, list[str]], "dict[str, str] | None"]


def scenarios(shape: Shape, catalog: Catalog, nparams: int,
              constants: list[QualConstant] | None = None, sample: Sampler | None = None) -> list[Scenario]:
    """The value scenarios a parameterized statement is costed over, weights summing to 1.

    Up to SCENARIOS scenarios from pg_qualstats (the k-th most frequent constant of each
    parameter, weighted by how often it occurred), else one from the statistics; plus the
    generic plan with GENERIC_WEIGHT. Empty when a parameter has no rule: the generic plan only.
    """
    first = choose(shape, catalog, nparams, constants)
    if first is None:
        return []
    if first.source == "stats" and sample is not None:
        first = _correlated(shape, first, sample)
    ranked: list[tuple[dict[str, str], float]] = [(first.values, 1.0)]
    if first.source == "qualstats":
        options = {n: _ranked(shape.params.get(n), constants) for n in range(1, nparams + 1)}
        ranked = []
        for k in range(SCENARIOS):
            if k and not any(len(opts) > k for opts in options.values()):
                break
            values, weights = {}, []
            for n in range(1, nparams + 1):
                opts = options[n]
                if len(opts) > k:
                    values[f"${n}"], w = opts[k]
                    weights.append(w)
                else:
                    values[f"${n}"] = first.values[f"${n}"]
            ranked.append((values, min(weights) if weights else 1.0))
    total = sum(w for _, w in ranked) or 1.0
    out = [Scenario(vals, first.source, (1 - GENERIC_WEIGHT) * w / total) for vals, w in ranked]
    return [*out, Scenario({}, "generic", GENERIC_WEIGHT)]


def _correlated(shape: Shape, first: Scenario, sample: Sampler) -> Scenario:
    """Two or more equalities on one table take their values from one sampled row (they may be correlated)."""
    by_table: dict[TableKey, list[tuple[int, str]]] = {}
    for n, use in shape.params.items():
        if use.op == "=" and use.table is not None:
            by_table.setdefault(use.table, []).append((n, use.column))
    values = dict(first.values)
    sampled = False
    for table, params in by_table.items():
        columns = sorted({c for _, c in params})
        if len(columns) < 2:
            continue
        row = sample(table, columns)
        if row:
            for n, column in params:
                values[f"${n}"] = row[column]
            sampled = True
    return Scenario(values, "sample", first.weight) if sampled else first


def _seen(use: ParamUse, constants: list[QualConstant]) -> list[QualConstant]:
    """The constants pg_qualstats saw compared with this parameter's column, by the same operator."""
    return [c for c in constants if c.table == use.table and c.column == use.column and c.op == use.op]


def _ranked(use: ParamUse | None, constants: list[QualConstant] | None) -> list[tuple[str, float]]:
    """(value, share of occurrences) of the constants to cost this parameter with.

    The most frequent ones, and the heaviest (the most rows filtered out: where a missing
    index hurts most) even when it is rare; most frequent first.
    """
    if use is None or not constants or use.table is None:
        return []
    same = _seen(use, constants)
    total = sum(c.occurrences for c in same) or 1
    picked = sorted(same, key=lambda c: -c.occurrences)[:SCENARIOS]
    heaviest = max(same, key=lambda c: c.filtered, default=None)
    if heaviest is not None and heaviest not in picked and heaviest.filtered > 0:
        picked = [*picked[: SCENARIOS - 1], heaviest]
    out = []
    for c in picked:
        value = constant_value(c.value)
        if value is not None:
            out.append((value, c.occurrences / total))
    return out


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
    same = _seen(use, constants)
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
