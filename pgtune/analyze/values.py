"""Representative values for the ``$n`` of a normalized statement, so it is costed the way it runs.

pg_stat_statements keeps ``amount > $1``, not the constant. A generic plan
gives such a predicate a default selectivity, so a range over "the last day"
never looks selective and its index is never chosen. pgtune plans the
statement with values chosen per parameter and says, per parameter, where
each came from (``params``: a ValueSource), so a DBA can check the assumption:

* pg_qualstats' constants for the statement come first (``qualstats``): up to
  three scenarios weighted by how often they occurred, the heaviest constant
  (the most rows filtered out) always among them. Where they stand for under half
  the occurrences pg_qualstats counted of their quals (a prepared statement's
  generic plan keeps none), the statement valued without them stands for the rest,
  by their share, as the main scenario (analyze.coverage); where pg_qualstats kept the
  qual but not its constant (``col = CAST($1::text AS "Enum")``, a generic
  plan), the column's common value whose frequency matches the share of rows
  the qual kept (``qualstats-share``);
* else the planner's statistics (``stats``): ``col = $n`` (and ``<>``, ``IN``,
  ``= ANY`` as an array of three) a value of typical frequency, but an ``IN``
  list of a status its common values in frequency order, each ``$n`` its own
  (lists.py), and a boolean the value most rows hold; an array
  column's ``@>``/``&&`` (Prisma's ``hasEvery``/``hasSome``, cast to an enum
  array) an array of one element of typical share, ``<@`` of every element
  seen; ``jsonb @> $n`` one top-level pair of one sampled row's document
  (``sample``), and a JSON path filter's keys and value one sampled
  document's path (analyze.json_values); ``>``/``>=``
  the 99th-percentile histogram bound, ``<``/``<=`` the 1st,
  ``now() - $n::interval`` 1% of the column's span; ``LIKE``/``ILIKE $n`` the
  pattern ``%<typical value>%`` (the value alone when the statement adds the
  wildcards itself); two or more equalities on one table take one sampled
  row's values (``sample``: they may be correlated);
* ``LIMIT $n`` 20 and ``OFFSET $n`` 0 (``default``); ``$4 = $5`` (Prisma's
  ``1=1``) one value on both sides (``tautology``); a ``$n`` in no predicate
  (select list, SET, RETURNING) NULL (``outside``): it cannot change the plan.

A ``$n`` none of these covers (``none``) stays a parameter: the statement is
planned with the values it has and that one generic (explain.explain), and
is listed apart (``generic_params``). The generic plan is always one more
scenario (10%), and analyze.scenarios.weighted_cost turns the plans into
the statement's cost.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from ..capture import Catalog, ColumnStats, TableKey
from ..snapshot import QualConstant, QualShare
from ..sqltext import constant_value
from . import json_values, lists, ranges
from .arrays import array_elements, array_literal, cut_array, whole_array_cut_cast
from .bind import ARRAY_OPS, Shape
from .params import JOIN_ON, OBJECT_KEY, ParamKind, ParamUse
from .scenarios import Coverage, ParamValue, Scenario, ValueSource

LIMIT = "20"               # a page, when pg_stat_statements does not say how many rows a call returns
CAP = "1000"               # a LIMIT inside a subquery: a count's cap (select count(*) from (… limit $n))
WINDOW_SHARE = 0.01        # a time window covers this share of the column's span
MIN_WINDOW_SECONDS = 60
ARRAY_VALUES = 3           # an array for = ANY($n) holds this many typical values
WHOLE_SCAN = 0.9           # a filter evaluated on this share of the rows read the whole table
COVERED = 0.95             # a share names a value only when the common values hold this much of the column
SCENARIOS = 3             # at most this many value scenarios from pg_qualstats' constants


@dataclass
class Valued:
    """What a statement is planned with: its scenarios (empty: the generic plan only) and, per $n, the source."""

    scenarios: list[Scenario] = field(default_factory=list)
    params: list[ParamValue] = field(default_factory=list)
    coverage: Coverage | None = None    # the occurrences of its quals pg_qualstats' constants stand for (coverage)

    @property
    def generic_params(self) -> list[str]:
        return [p.param for p in self.params if p.source == ValueSource.NONE]


Sampler = Callable[[TableKey, list[str]], "dict[str, str] | None"]


def scenarios(shape: Shape, catalog: Catalog, nparams: int, constants: list[QualConstant] | None = None,
              sample: Sampler | None = None, shares: list[QualShare] | None = None,
              rows_per_call: float | None = None) -> list[Scenario]:
    """The value scenarios a parameterized statement is costed over (see ``valued``)."""
    return valued(shape, catalog, nparams, constants, sample, shares, rows_per_call).scenarios


def valued(shape: Shape, catalog: Catalog, nparams: int, constants: list[QualConstant] | None = None,
           sample: Sampler | None = None, shares: list[QualShare] | None = None,
           rows_per_call: float | None = None, written: dict[str, str] | None = None,
           sent: dict[str, str] | None = None) -> Valued:
    """The scenarios a parameterized statement is costed over, weights summing to 1, and each $n's source.

    Up to SCENARIOS scenarios from pg_qualstats (see ``_ranked``), else one from the
    statistics. None when no $n has a value: the generic plan is then all there is.
    ``rows_per_call``: pg_stat_statements' rows / calls, the page a statement's LIMIT $n returns.
    ``written``: $n -> the constant the application wrote in a key expression (analyze.written).
    ``sent``: $n -> the constant pg_qualstats' example of the statement holds there (analyze.written): the
    value of a $n the statistics alone would guess (``is_deleted = $5`` is ``false`` in the application's text).
    """
    if not nparams:
        return Valued()
    unbound = _limit_cut_nothing(shape, catalog, constants, rows_per_call)
    listed = lists.sizes(shape)
    params = [_param_value(n, shape.params.get(n), catalog, constants, shares, rows_per_call, unbound,
                           listed.get(n, 1))
              if f"${n}" not in (written or {}) else
              ParamValue(f"${n}", (written or {})[f"${n}"], ValueSource.EXAMPLE, "a key expression's constant")
              for n in range(1, nparams + 1)]
    params = [ParamValue(p.param, (sent or {})[p.param], ValueSource.EXAMPLE, f"{p.use} (as the application wrote it)")
              if p.param in (sent or {}) and p.source in (ValueSource.STATS, ValueSource.NONE) else p for p in params]
    if sample is not None:
        params = _correlated(shape, params, sample)
        params = json_values.contained(shape.params, params, catalog, sample)
        params = json_values.pathed(shape.params, params, sample)
    params = lists.spread(lists.groups(shape), params, {n: _stats(use, catalog) for n, use in shape.params.items()})
    found = ranges.pairs(shape, catalog)
    params = ranges.together(found, params, catalog)
    first = {p.param: p.value for p in params if p.source != ValueSource.NONE}
    if not first:
        return Valued(params=params)
    source = _summary(params)
    ranked: list[tuple[dict[str, str | None], float]] = [(first, 1.0)]
    if any(p.source == ValueSource.QUALSTATS for p in params):
        options = {n: _ranked(shape.params.get(n), constants, catalog) for n in range(1, nparams + 1)}
        # A window's upper end: the one observed nearest above its lower end, as the same call sent it (g10)
        uppers = {r.upper: [v for c in _seen(use, constants or []) if (v := _constant(use, c)) is not None]
                  for r in found if options.get(int(r.lower[1:])) and (use := shape.params.get(int(r.upper[1:])))}
        ranked = []
        for k in range(SCENARIOS):
            if k and not any(len(opts) > k for opts in options.values()):
                break
            values, weights = dict(first), []
            for n, opts in options.items():
                if len(opts) > k:
                    values[f"${n}"], w = opts[k]
                    weights.append(w)
            values = ranges.matched(values, found, uppers)
            ranked.append((ranges.ordered(values, found), min(weights) if weights else 1.0))
    total = sum(w for _, w in ranked) or 1.0
    out = [Scenario(vals, source, w / total) for vals, w in ranked]
    main = out[0].values
    params = [replace(p, value=main[p.param]) if p.source == ValueSource.QUALSTATS else p for p in params]
    return Valued(out, params)


def _summary(params: list[ParamValue]) -> ValueSource:
    """One word for the main scenario: the most informed source any of its values has."""
    for source in (ValueSource.QUALSTATS, ValueSource.QUALSTATS_SHARE, ValueSource.SAMPLE, ValueSource.EXAMPLE):
        if any(p.source == source for p in params):
            return ValueSource.QUALSTATS if source == ValueSource.QUALSTATS_SHARE else source
    return ValueSource.STATS


def _param_value(n: int, use: ParamUse | None, catalog: Catalog, constants: list[QualConstant] | None,
                 shares: list[QualShare] | None, rows_per_call: float | None = None,
                 unbound: str | None = None, size: int = 1) -> ParamValue:
    name = f"${n}"
    if use is None:
        return ParamValue(name, None, ValueSource.NONE, "no rule")
    if use.kind == ParamKind.LIMIT and use.nested:
        return ParamValue(name, CAP, ValueSource.DEFAULT, "LIMIT of a subquery (a cap)")
    if use.kind == ParamKind.LIMIT and unbound:
        return ParamValue(name, None, ValueSource.ROWS, f"LIMIT (NULL: it cut nothing, {unbound})")
    if use.kind == ParamKind.LIMIT and rows_per_call:
        return ParamValue(name, str(max(1, math.ceil(rows_per_call))), ValueSource.ROWS, "LIMIT")
    if use.kind == ParamKind.LIMIT:
        return ParamValue(name, LIMIT, ValueSource.DEFAULT, "LIMIT")
    if use.kind == ParamKind.OFFSET:
        return ParamValue(name, "0", ValueSource.DEFAULT, "OFFSET")
    if use.kind == ParamKind.TAUTOLOGY and use.op == JOIN_ON:
        return ParamValue(name, "true", ValueSource.TAUTOLOGY, "JOIN … ON $n (an ORM's ON true)")
    if use.kind == ParamKind.TAUTOLOGY:
        return ParamValue(name, "1", ValueSource.TAUTOLOGY, f"$a {use.op} $b")
    if use.kind == ParamKind.CONTRADICTION:      # a value of its own on each side: $4 = $5 is false
        return ParamValue(name, str(n), ValueSource.TAUTOLOGY, f"$a {use.op} $b in an OR")
    if use.kind == ParamKind.OUTSIDE and use.op == OBJECT_KEY:     # NULL: "key must not be null" when run
        return ParamValue(name, f"k{n}", ValueSource.OUTSIDE, "a JSON object's key")
    if use.kind == ParamKind.OUTSIDE:
        return ParamValue(name, None, ValueSource.OUTSIDE, "in no predicate")
    if use.kind in (ParamKind.JSON_KEY, ParamKind.JSON_VALUE):     # from a sampled document (json_values)
        return ParamValue(name, None, ValueSource.NONE, f"{use.column} {use.extract} (a {use.kind.value})")
    what = f"{use.column} {'= ANY' if use.array and use.op == '=' else use.op}"
    seen = observed(use, constants)
    if seen is not None:
        return ParamValue(name, seen, ValueSource.QUALSTATS, what)
    inferred = _from_share(use, catalog, shares, size)
    if inferred is not None:
        return ParamValue(name, inferred, ValueSource.QUALSTATS_SHARE, what)
    value = _value(use, catalog, size)
    if value is None:
        return ParamValue(name, None, ValueSource.NONE, what)
    return ParamValue(name, value, ValueSource.STATS, what)


def _limit_cut_nothing(shape: Shape, catalog: Catalog, constants: list[QualConstant] | None,
                       rows_per_call: float | None) -> str | None:
    """Did the statement's ``LIMIT $n`` stop no call early (u's F1: ``jsonb @> $1 ORDER BY … LIMIT 50``)?

    pg_stat_statements keeps the rows a call returned, not the LIMIT it ran with: 1 row per call reads as
    ``LIMIT 1``, and the planner then has a backward scan stop at the first match. pg_qualstats says what
    the scan did: per sampled execution, the rows its filter was evaluated on and the rows that passed.
    When the filter read (nearly) every row of the table, and the calls returned (nearly) every row that
    passed, the LIMIT cut nothing: the statement is costed with none. A scan a LIMIT stopped evaluates
    far fewer rows; one feeding a sort returns fewer rows than passed: both keep the rows-per-call LIMIT. So
    does no call returning a row (p12 F4: each walked all its filters could keep). Says how it is known, or None.
    """
    if rows_per_call == 0:
        return "no call returned a row"
    if not constants or not rows_per_call or len(shape.tables) != 1:
        return None
    [key] = shape.tables
    table = catalog.tables.get(key)
    # Per filter, summed over its constants: one constant's whole-table read beside another's few passed rows
    # is no call's (p15: Rallly's listPolls, a space with 40% of rows read by a scan its LIMIT 21 stopped).
    nodes: dict[tuple[str, str], tuple[int, int, int]] = {}
    for c in constants:
        if c.table == key and c.occurrences > 0 and c.executions > 0:
            seen, read_rows, dropped = nodes.get((c.column, c.op), (0, 0, 0))
            nodes[(c.column, c.op)] = (seen + c.occurrences, read_rows + c.executions, dropped + c.filtered)
    read = max((e / o for o, e, _ in nodes.values()), default=0.0)
    passed = min(((e - f) / o for o, e, f in nodes.values()), default=0.0)
    if table is not None and 0 < WHOLE_SCAN * table.reltuples <= read and rows_per_call >= WHOLE_SCAN * passed:
        return "every call read the whole table and returned every row that matched"
    return None


def _correlated(shape: Shape, params: list[ParamValue], sample: Sampler) -> list[ParamValue]:
    """Two or more equalities on one table take their values from one sampled row (they may be correlated)."""
    by_table: dict[TableKey, list[tuple[int, str]]] = {}
    for n, use in sorted(shape.params.items()):
        p = params[n - 1] if n <= len(params) else None
        if (p is not None and p.source == ValueSource.STATS and use.kind == ParamKind.COLUMN and use.op == "="
                and not use.array and use.interval is None and use.table is not None):
            by_table.setdefault(use.table, []).append((n, use.column))
    out = list(params)
    for table, found in sorted(by_table.items()):
        columns = sorted({c for _, c in found})
        if len(columns) < 2:
            continue
        row = sample(table, columns)
        if row:
            for n, column in found:
                out[n - 1] = ParamValue(out[n - 1].param, row[column], ValueSource.SAMPLE, out[n - 1].use)
    return out


def _seen(use: ParamUse, constants: list[QualConstant]) -> list[QualConstant]:
    """The constants pg_qualstats saw compared with this parameter's column, by the same operator."""
    return [c for c in constants if c.table == use.table and c.column == use.column and c.op == use.op]


def _ranked(use: ParamUse | None, constants: list[QualConstant] | None,
            catalog: Catalog | None = None) -> list[tuple[str, float]]:
    """(value, share of executions) of the constants to cost this parameter with, the main one first.

    A statement's cost over the workload is the mean over its executions, and
    one execution's cost follows how many rows it reads: its *heaviness*, the
    rows pg_qualstats saw the qual evaluated on per occurrence
    (execution_count) where it counted any, else the rows the planner expects
    for the value (pg_stats: a tenant among the most common values weighs its
    frequency, any other the average of the rest). A count capped by LIMIT stops early for a big tenant and
    scans the whole table for a small one; an inbox is a few rows for most
    people and hundreds for a few. Three constants stand for the others: the
    typical execution's (the median by executions: the main scenario), the
    one where the rows concentrate (the median by heaviness), and the
    heaviest. Every constant counts for the one nearest in heaviness, so each
    scenario weighs the executions it stands for; a value that stands for all
    (a queue's 'pending') is one scenario.
    """
    if use is None or not constants or use.table is None or use.kind != ParamKind.COLUMN:
        return []
    found = [(c, v) for c in _seen(use, constants) if (v := _constant(use, c)) is not None and c.occurrences > 0]
    if not found:
        return []
    observed = any(c.executions or c.filtered for c, _ in found)
    heavy = {v: (max(c.executions, c.filtered) / c.occurrences if observed else _planner_rows(catalog, use, v))
             for c, v in found}
    found.sort(key=lambda cv: (heavy[cv[1]], cv[1]))
    picks = [_median(found, lambda c, v: c.occurrences), _median(found, lambda c, v: c.occurrences * heavy[v]),
             len(found) - 1]
    reps = list(dict.fromkeys(picks))
    weights = dict.fromkeys(reps, 0)
    for c, v in found:
        nearest = min(reps, key=lambda r: (abs(math.log1p(heavy[found[r][1]]) - math.log1p(heavy[v])), r))
        weights[nearest] += c.occurrences
    total = sum(weights.values())
    return [(found[r][1], weights[r] / total) for r in reps if weights[r]]


def _planner_rows(catalog: Catalog | None, use: ParamUse, value: str) -> float:
    """The rows the planner expects ``col = value`` to find (an array: the sum over its elements)."""
    if catalog is None or use.table is None:
        return 0.0
    st = catalog.column_stats.get((use.table[0], use.table[1], use.column))
    table = catalog.tables.get(use.table)
    if st is None or table is None:
        return 0.0
    values = [e for e in array_elements(value) or [] if e is not None] if use.array else [value]
    common = dict(zip(st.most_common_vals, st.most_common_freqs, strict=False))
    rest = max(catalog.distinct_values(use.table, use.column) - len(common), 1.0)
    other = max(1.0 - st.null_frac - sum(common.values()), 0.0) / rest
    return sum(common.get(v, other) for v in values) * max(table.reltuples, 0.0)


def _median(found: list[tuple[QualConstant, str]], mass: Callable[[QualConstant, str], float]) -> int:
    """The position in ``found`` (ordered by heaviness) where half of ``mass`` is reached."""
    total, seen = sum(mass(c, v) for c, v in found), 0.0
    for i, (c, v) in enumerate(found):
        seen += mass(c, v)
        if seen * 2 >= total and total:
            return i
    return 0


def _constant(use: ParamUse, c: QualConstant) -> str | None:
    """The value ``c`` gives this parameter: the array for ``= ANY($1)``; for ``IN ($4, $5)``, whose constants a
    custom plan folds into one array, the element at its place (of a cut array, its whole ones: arrays.cut_array)."""
    value = constant_value(c.value)
    if value is None:
        kept = cut_array(c.value) if use.op not in ARRAY_OPS else None
        if not kept:
            return None
        return array_literal(kept) if use.array else kept[use.position % len(kept)]
    if use.op in ARRAY_OPS:     # the array or document compared with; for element, the element (of a folded ARRAY[$1])
        held = array_elements(value) if use.element and c.value.rstrip().endswith("[]") else [value]
        return held[0] if held else None
    is_array = c.value.rstrip().endswith("[]") or whole_array_cut_cast(c.value)
    if use.array or not is_array:
        return value if use.array == is_array else None
    elements = array_elements(value)
    return elements[use.position] if elements is not None and use.position < len(elements) else None


def observed(use: ParamUse, constants: list[QualConstant] | None, *, dominant: float = 0.0,
             least: int = 0) -> str | None:
    """The constant the workload compared this column with most often (and at least ``dominant`` of the time),
    of at least ``least`` executions pg_qualstats saw."""
    if not constants or use.table is None or use.kind != ParamKind.COLUMN:
        return None
    same = _seen(use, constants)
    total = sum(c.occurrences for c in same)
    if total < least:
        return None
    for c in sorted(same, key=lambda c: (-c.occurrences, c.value)):
        if total and c.occurrences >= dominant * total:
            return _constant(use, c)
        break
    return None


def _from_share(use: ParamUse, catalog: Catalog, shares: list[QualShare] | None, size: int = 1) -> str | None:
    """The common value of a status-like column whose frequency is nearest the share of rows the qual kept.

    pg_qualstats keeps no constant for ``status = CAST($1::text AS "Status")`` (nor for a
    generic plan's ``$1``), but it counts the rows the qual read and threw away: the
    share it kept is the value's frequency (``<>``: one minus it). Only where the
    statistics list nearly every value of the column, so the match is among all of them.
    A list of ``size`` (``IN ($4, $5, $6)``) kept the sum of its values' frequencies: its
    ``$n`` take the set of distinct common values that sums nearest, one each (lists.by_share).
    """
    if not shares or use.table is None or use.op not in ("=", "<>") or use.array:
        return None
    share = next((s for s in shares if s.table == use.table and s.column == use.column and s.op == use.op), None)
    st = catalog.column_stats.get((use.table[0], use.table[1], use.column))
    if share is None or st is None or not st.most_common_vals or sum(st.most_common_freqs) < COVERED:
        return None
    wanted = share.kept if use.op == "=" else 1.0 - share.kept
    if size > 1:
        chosen = lists.by_share(st, wanted, size)
        return chosen[use.position] if use.position < len(chosen) else None
    target = math.log(max(wanted, 1e-6))
    best = min(zip(st.most_common_vals, st.most_common_freqs, strict=False),
               key=lambda vf: (abs(math.log(max(vf[1], 1e-6)) - target), vf[0]))
    return best[0]


def _stats(use: ParamUse, catalog: Catalog) -> ColumnStats | None:
    return catalog.column_stats.get((use.table[0], use.table[1], use.column)) if use.table is not None else None


def value_for(use: ParamUse, catalog: Catalog) -> str | None:
    """A representative value for what ``use`` compares with its column, from pg_stats (the rules above)."""
    return _value(use, catalog)


def _value(use: ParamUse, catalog: Catalog, size: int = 1) -> str | None:
    """A value from the column's statistics for the way the statement compares it (``size``: of its list)."""
    if use.table is None:
        return None
    st = catalog.column_stats.get((use.table[0], use.table[1], use.column))
    if st is None:
        return None
    bounds = st.histogram_bounds
    if use.interval is not None:
        return _window(bounds)
    if use.op in ARRAY_OPS:
        table = catalog.tables.get(use.table)
        if table is None or not table.column_type(use.column).endswith("[]"):
            return None
        held = _elements(st, use.op)
        if use.element:         # $1 = ANY(col): the typical element itself
            one = array_elements(held) if held is not None else None
            return one[0] if one else None
        return held
    if use.op in ("=", "<>"):
        if use.array:
            return array_literal(_typical(st, ARRAY_VALUES))
        table = catalog.tables.get(use.table)
        if table is not None and table.column_type(use.column) == "boolean" and st.most_common_vals:
            # A flag: the value most rows hold (the middle of two is the rare one), NOT: the other (g10)
            return st.most_common_vals[0 if use.op == "=" else -1]
        listed = lists.common(st) if size > 1 and use.op == "=" else []
        if use.position < len(listed):      # IN (CAST($4 …), CAST($5 …)) of a status: the common ones (g10)
            return listed[use.position]
        # The k-th $n of [NOT] IN ($a, $b): the k-th value from the middle; NOT IN (2, 5) is no NOT IN (2, 2) (u8)
        pool = st.histogram_bounds or st.most_common_vals
        return pool[(len(pool) // 2 + use.position) % len(pool)] if pool else None
    if use.op in ("~~", "~~*", "!~~", "!~~*"):
        typical = _typical(st, 1)
        if not typical:
            return None
        # Search boxes send a piece of a real value; the statement or the application adds the wildcards.
        return typical[0] if use.piece else "%" + _escape_like(typical[0]) + "%"
    if not bounds and st.most_common_vals and use.op in (">", ">=", "<", "<="):
        # Every value is a common one (a mostly-NULL "publishOn" with three dates): no histogram, so the
        # range's end is the common value at that end, as the percentile bound would be.
        ordered = _ordered(st.most_common_vals)
        return ordered[-1] if use.op in (">", ">=") else ordered[0]
    if not bounds:
        return None
    if use.op in (">", ">="):
        return bounds[int(0.99 * (len(bounds) - 1))]
    if use.op in ("<", "<="):
        return bounds[int(0.01 * (len(bounds) - 1))]
    return None


def _ordered(values: tuple[str, ...]) -> tuple[str, ...]:
    """pg_stats' values (text) in the column's order: numbers as numbers; dates and text as ISO text sorts."""
    try:
        return tuple(sorted(values, key=float))
    except ValueError:
        return tuple(sorted(values))


def _elements(st: ColumnStats, op: str) -> str | None:
    """An array for ``col @> $n`` / ``col && $n`` (one element of typical frequency) or ``col <@ $n`` (every
    element seen), from the arrays pg_stats lists (common values, histogram bounds) and the rows each stands for.

    Prisma's ``hasEvery``/``hasSome`` on an enum array send one or a few elements; an element's share is the
    rows whose array holds it, so the median one is what a typical call asks for.
    """
    rest = max(1.0 - st.null_frac - sum(st.most_common_freqs), 0.0) / max(len(st.histogram_bounds), 1)
    weighted = [*zip(st.most_common_vals, st.most_common_freqs, strict=False),
                *((b, rest) for b in st.histogram_bounds)]
    share: dict[str, float] = {}
    for text, freq in weighted:
        for element in dict.fromkeys(e for e in array_elements(text) or [] if e is not None):
            share[element] = share.get(element, 0.0) + freq
    if not share:
        return None
    ranked = sorted(share, key=lambda e: (share[e], e))
    return array_literal(ranked if op == "<@" else [ranked[len(ranked) // 2]])


def _typical(st: ColumnStats, n: int) -> list[str]:
    """``n`` values of typical frequency: around the middle histogram bound, else the middle common values."""
    pool = st.histogram_bounds or st.most_common_vals
    if not pool:
        return []
    mid = len(pool) // 2
    start = max(0, min(mid - n // 2, len(pool) - n))
    return list(dict.fromkeys(pool[start:start + n]))


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


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

