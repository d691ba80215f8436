"""The calls pg_qualstats saw no constant for: how many, and the scenario that stands for them.

pg_qualstats records a qual's constant only while its plan is custom. A
server-side prepared statement (Prisma's, psycopg's ``prepare=True``) runs its
generic plan after five executions, and pg_qualstats then counts the qual's
occurrences without a constant. On an Umami-shaped database it saw constants
for 25 of 3,406 occurrences of a dashboard's quals, all for website 1 (a
third of the events): each pooled connection's first calls. Costed with that
value alone, ``website_id = $1`` looked unselective and event_data got
``(created_at, website_id)``, which serves no small site (q36).

The rule (docs/values.md): when the constants stand for less than half the
occurrences of the quals they fill (MINOR), the rest are costed with the
values pgtune gives the statement with no constant at all (analyze.values:
the ``stats`` scenario, a value of typical frequency), weighted by their
share, and the pg_qualstats scenarios by theirs; the statement's cost is the
weighted mean over both. That scenario stands for most calls: it is the main
one. Where the constants stand for half or more, the scenarios stay as they
were: the calls seen are most of them, and the best evidence of the rest.

An application that sends one value every time (a self-hosted Umami's one
website, its pageviews' ``event_type = 1``) leaves the same counts: five custom
plans per prepared statement with that constant, then the generic plan's
occurrences without one. What tells it from many values nobody saw is the rows:
the generic plan's executions of the same value read and let through as many
rows each as the custom ones did (pg_qualstats' execution_count, and it less
nbfiltered, per occurrence), a small tenant's far fewer (q36's shape: 6,020 a call against
website 1's 88,889). When every qual had one constant and the rows without it
match (``ALIKE``), the constants stand for every call (``Coverage.alike``):
the typical value would price calls the application never makes (q37). The
counters cannot tell that value from others of the same size (envelopes of
eight rows each), whose plans cost the same; a partial index for it still
waits for its calls to be seen (analysis.with_constants).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..capture import Catalog, TableKey
from ..snapshot import Qual, QualConstant, QualShare
from . import values
from .bind import Shape
from .scenarios import Coverage, ParamValue, Scenario, ValueSource

MINOR = 0.5     # constants standing for less than this share of their quals' occurrences do not stand for the rest
ALIKE = 2.0     # ... unless the rest read and kept, per occurrence, within this factor of the one constant's rows


def valued(shape: Shape, catalog: Catalog, nparams: int, constants: list[QualConstant] | None = None,
           sample: values.Sampler | None = None, shares: list[QualShare] | None = None,
           rows_per_call: float | None = None, written: dict[str, str] | None = None,
           sent: dict[str, str] | None = None, unseen: dict[Qual, int] | None = None,
           rows: dict[Qual, tuple[int, int]] | None = None) -> values.Valued:
    """``values.valued``, and how many occurrences its constants stand for; when few, the rest beside them.

    ``unseen``: (table, column, op) -> the occurrences pg_qualstats counted without a constant (snapshot);
    ``rows``: the same -> the rows those occurrences read and let through (``alike``).
    """
    sample = _once(sample)      # the valuation without constants samples the same rows: one TABLESAMPLE each
    found = values.valued(shape, catalog, nparams, constants, sample, shares, rows_per_call, written, sent)
    covered = seen(shape, found.params, constants, unseen, rows)
    if covered is None or not minor(covered):
        return replace(found, coverage=covered)
    rest = values.valued(shape, catalog, nparams, None, sample, shares, rows_per_call, written, sent)
    if not rest.scenarios:
        return replace(found, coverage=covered)
    # A $n no rule values without its constant (a column never analyzed) keeps the constant: the only evidence.
    others = Scenario({**found.scenarios[0].values, **rest.scenarios[0].values}, rest.scenarios[0].source)
    params = [f if r.source == ValueSource.NONE else r for f, r in zip(found.params, rest.params, strict=True)]
    return values.Valued(with_rest(found.scenarios, others, covered), params, covered)


def _once(sample: values.Sampler | None) -> values.Sampler | None:
    """``sample``, each (table, columns) read once: its rows are the same for both valuations (REPEATABLE)."""
    if sample is None:
        return None
    rows: dict[tuple[TableKey, tuple[str, ...]], dict[str, str] | None] = {}

    def once(table: TableKey, columns: list[str]) -> dict[str, str] | None:
        key = (table, tuple(columns))
        if key not in rows:
            rows[key] = sample(table, columns)
        row = rows[key]
        return dict(row) if row is not None else None
    return once


def seen(shape: Shape, params: Sequence[ParamValue], constants: Sequence[QualConstant] | None,
         unseen: dict[Qual, int] | None, rows: dict[Qual, tuple[int, int]] | None = None) -> Coverage | None:
    """Of the occurrences pg_qualstats counted of the quals whose ``$n`` took its constants, how many had one.

    None when no ``$n`` took a constant from pg_qualstats.
    """
    quals = {(use.table, use.column, use.op) for n, use in shape.params.items()
             if use.table is not None and n <= len(params) and params[n - 1].source == ValueSource.QUALSTATS}
    if not quals:
        return None
    with_constant = sum(c.occurrences for c in constants or () if (c.table, c.column, c.op) in quals)
    without = sum((unseen or {}).get(q, 0) for q in quals)
    return Coverage(with_constant, with_constant + without,
                    bool(without) and _alike(quals, constants or (), unseen or {}, rows or {}))


def _alike(quals: set[Qual], constants: Sequence[QualConstant], unseen: dict[Qual, int],
           rows: dict[Qual, tuple[int, int]]) -> bool:
    """Did each qual run with one constant, and did its occurrences without one read and let through as many
    rows each (within ALIKE) as those with it? Then the generic plan ran with that value, or with one as big:
    the constants price those calls too. Several constants, or the rows apart: the rest are unknown (q36).
    Both counts: under a LIMIT a small tenant lets through as many rows as a big one, but reads more."""
    for qual in quals:
        mine = [c for c in constants if (c.table, c.column, c.op) == qual]
        if len({c.value for c in mine}) != 1:
            return False
        if not unseen.get(qual):
            continue
        if qual not in rows:
            return False
        each = max(sum(c.occurrences for c in mine), 1)
        with_it = (sum(c.executions for c in mine) / each, sum(c.executions - c.filtered for c in mine) / each)
        without = (rows[qual][0] / unseen[qual], rows[qual][1] / unseen[qual])
        if any(max(a, b) > ALIKE * min(a, b) + 1 for a, b in zip(with_it, without, strict=True)):
            return False
    return True


def minor(coverage: Coverage | None) -> bool:
    """Do the constants stand for too few of the occurrences to stand for the rest too (and not one value sent
    every time)?"""
    return coverage is not None and coverage.of > 0 and coverage.share < MINOR and not coverage.alike


def with_rest(scenarios: list[Scenario], rest: Scenario, coverage: Coverage) -> list[Scenario]:
    """``rest`` (the statement valued without pg_qualstats' constants) first, weighted by the occurrences without
    a constant; the constants' scenarios after it, their weights scaled to their share. One with the same values
    as ``rest`` is folded into it."""
    share = coverage.share
    weight = 1.0 - share
    kept = []
    for s in scenarios:
        if s.values == rest.values:
            weight += s.weight * share
        else:
            kept.append(Scenario(s.values, s.source, s.weight * share))
    return [Scenario(rest.values, rest.source, weight), *kept]


def note(coverage: Coverage) -> str:
    """What the table output says of a statement whose constants stand for a minor share of its calls."""
    if coverage.alike:
        return (f"pg_qualstats saw constants in {coverage.seen:,} of the {coverage.of:,} occurrences of its quals "
                "(the others ran a generic plan, which keeps none), one value each, and the others let through as "
                "many rows each: costed with those values alone, as the calls seen and unseen read alike "
                "(docs/values.md)")
    return (f"pg_qualstats saw constants in {coverage.seen:,} of the {coverage.of:,} occurrences of its quals (the "
            f"others ran a generic plan, which keeps none): costed {coverage.share:.0%} with those constants and "
            f"{1 - coverage.share:.0%} with values of typical frequency (docs/values.md)")
