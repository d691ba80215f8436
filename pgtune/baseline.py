"""Baselines for verify, captured when a migration is emitted.

Per targeted statement: the parameter types the server infers for ``$n``, the
plan and its cost (a generic plan for parameterized statements) and, when
asked and safe, the measured execution time.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import psycopg

from ._text import Progress, one_line
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


def capture(conn: psycopg.Connection[Any], targets: list[Target], *, analyze: bool = False,
            say: Progress | None = None, trust_functions: bool = False) -> list[Target]:
    """The targets with their baselines: parameter types, plan and cost now (and time, with ``analyze``)."""
    out = []
    for t in targets:
        plan = explain(conn, t.query, values=t.values)
        ms: float | None = None
        if analyze:
            ms, why = measure(conn, t.query, trust_functions=trust_functions, values=t.values)
            if why and say:
                say(f"not measured: {why}: {one_line(t.query, 60)}")
        out.append(replace(t, param_types=param_types(conn, t.query), baseline_plan=plan.plan,
                           baseline_cost=plan.cost, baseline_ms=ms))
    return out
