"""Baselines for verify, captured when a migration is emitted.

Per targeted statement: the parameter types the server infers for ``$n``, the
plan and its cost (a generic plan for parameterized statements) and, when
asked and safe, the measured execution time.
"""

from __future__ import annotations

from typing import Any

import psycopg

from ._text import Progress, one_line
from .explain import explain, prepare_text
from .plan import Migration
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
            conn.execute("DEALLOCATE /* pgtune */ ALL")
    return list(row[0]) if row else []


def capture(conn: psycopg.Connection[Any], m: Migration, *, analyze: bool = False,
            say: Progress | None = None, trust_functions: bool = False) -> None:
    for t in m.targets:
        t.param_types = param_types(conn, t.query)
        plan = explain(conn, t.query)
        t.baseline_plan = plan.plan
        t.baseline_cost = plan.cost
        if analyze:
            t.baseline_ms, why = measure(conn, t.query, trust_functions=trust_functions)
            if why and say:
                say(f"not measured: {why}: {one_line(t.query, 60)}")
