"""Baselines for verify, captured when a migration is emitted.

Per targeted statement: the parameter types the server infers for ``$n``, the
plan and its cost (a generic plan for parameterized statements) and, when
asked and safe, the measured execution time.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import psycopg

from ._text import Progress, error_text, one_line
from .explain import deallocate, explain, prepare_text
from .plan import Target
from .readonly import measure


def param_types(conn: psycopg.Connection[Any], query: str) -> list[str]:
    """The types the server infers for ``$1..$n`` (pg_prepared_statements)."""
    text, n = prepare_text(query)
    if not n:
        return []
    try:
        # One statement per query string (pipeline: extended protocol), as in explain.
        with conn.transaction(force_rollback=True), conn.pipeline(), conn.cursor() as cur:
            cur.execute("SET /* pgtune */ LOCAL standard_conforming_strings = on")
            cur.execute(f"PREPARE /* pgtune */ pgtune_types AS {text}")
            cur.execute("SELECT /* pgtune */ parameter_types::text[] FROM pg_prepared_statements "
                        "WHERE name = 'pgtune_types'")
            row = cur.fetchone()
    except psycopg.Error:
        if conn.broken or conn.closed:
            raise
        return []
    finally:
        if not conn.closed and not conn.broken:
            deallocate(conn, "pgtune_types")
    return list(row[0]) if row else []


MEASURE_BUDGET_S = 60.0     # at emit, all targets are timed within this much wall time…
MEASURE_TIMEOUT_MS = 10_000  # …and each statement within this (a slower one is planned only)


def capture(conn: psycopg.Connection[Any], targets: list[Target], *, analyze: bool = False,
            say: Progress | None = None, trust_functions: bool = False,
            budget_s: float = MEASURE_BUDGET_S) -> list[Target]:
    """The targets with their baselines: parameter types, plan and cost now (and time, with ``analyze``).

    Timing runs each read-only target (with the values it was planned with) up to three times and
    keeps the best, within ``budget_s`` for them all; a target left untimed says why, so verify can
    say the baseline is the planner's cost only.
    """
    out = []
    deadline = time.monotonic() + budget_s
    for t in targets:
        plan = explain(conn, t.query, values=t.values)
        t = replace(t, param_types=param_types(conn, t.query), baseline_plan=plan.plan, baseline_cost=plan.cost)
        if analyze:
            t = _timed(conn, t, deadline, budget_s, trust_functions)
            if t.baseline_note and say:
                say(f"not timed: {t.baseline_note}: {one_line(t.query, 60)}")
        out.append(t)
    return out


def _timed(conn: psycopg.Connection[Any], t: Target, deadline: float, budget_s: float,
           trust_functions: bool) -> Target:
    """``t`` with its baseline time, or with the reason it has none."""
    left_ms = int((deadline - time.monotonic()) * 1000)
    if left_ms <= 0:
        return replace(t, baseline_note=f"the time budget for timing at emit ({budget_s:.0f} s) was spent")
    timeout_ms = min(MEASURE_TIMEOUT_MS, left_ms)
    try:
        timing, why = measure(conn, t.query, trust_functions=trust_functions, values=t.values,
                              timeout_ms=timeout_ms)
    except psycopg.errors.QueryCanceled:
        return replace(t, baseline_note=f"slower than {timeout_ms / 1000:g} s")
    except (psycopg.Error, ValueError) as exc:
        if conn.broken or conn.closed:
            raise
        return replace(t, baseline_note=f"failed: {error_text(exc)}")
    if timing is None:
        return replace(t, baseline_note=why or "not run")
    return replace(t, baseline_ms=timing.ms, baseline_runs=timing.runs, baseline_read_blocks=timing.read_blocks)
