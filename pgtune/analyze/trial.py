"""The planner's cost of an index HypoPG cannot make: a real build on a clone, always rolled back.

HypoPG makes hypothetical b-tree and BRIN indexes, not GIN ones (it cannot
size them: HypoPG issue 97). So a GIN candidate is built for real, on the
database the DBA names with ``--trial-dsn`` (a staging copy, a database
branch, a restored backup: never the production server, whose writes a
non-concurrent build would block). In one transaction that is always rolled
back, pgtune plans each statement the candidate serves, builds the index (and
pg_trgm when the clone lacks it), reads its real size, and plans them again.
Nothing of it stays on the clone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import psycopg
from psycopg import sql

from .. import ddl
from .._text import error_text
from ..capture import TableKey
from ..connect import lost
from ..ddl import IndexKey, IndexMethod
from ..explain import PlanContext, index_names, inlined, prepare_text
from .extended_stats import Planned

TRIAL_TIMEOUT_MS = 600_000     # one trial build (a GIN on millions of rows takes a minute or more)


class CostMethod(StrEnum):
    """Which method produced a proposal's cost figure (docs/indexes/)."""

    HYPOPG = "hypopg"                # a hypothetical index (b-tree, BRIN)
    TRIAL_CLONE = "trial-clone"      # a real index built on the clone the DBA named (--trial-dsn), rolled back
    SAMPLE = "sample"                # a real index built on a sample in a temporary table, scaled (sample_cost)


@dataclass(frozen=True)
class TrialCost:
    """Each statement's plan cost without and with the index, on the clone, and the index's real size."""

    before: list[float | None]
    after: list[float | None]
    used: list[bool]                 # the statement's plan uses the index
    size_bytes: int
    rows: float                      # the clone's reltuples for the table: how alike it is


class TrialFailed(Exception):
    """The clone could not build or plan the candidate: one line, no traceback."""


def on_clone(trial: psycopg.Connection[Any], table: TableKey, key: IndexKey, method: IndexMethod,
             extension: str | None, statements: list[Planned]) -> TrialCost:
    """Build ``key`` on the clone in a rolled-back transaction and plan ``statements`` without and with it."""
    schema, name = table
    try:
        with trial.transaction(force_rollback=True):
            trial.execute(sql.SQL("SET /* pgtune */ LOCAL statement_timeout = {}").format(
                sql.Literal(TRIAL_TIMEOUT_MS)))
            trial.execute("SET /* pgtune */ LOCAL lock_timeout = '5s'")
            trial.execute("SET /* pgtune */ LOCAL standard_conforming_strings = on")
            rows = _rows(trial, table)
            if extension is not None:
                key = opclass_with_extension(trial, key, extension)
            before = [_cost(trial, st, None) for st in statements]
            index = ddl.identifier(["pgtune_trial", name, key.label])
            trial.execute(ddl.create_index(schema, name, index, (key,), concurrently=False, method=method))
            size_row = trial.execute("SELECT /* pgtune */ pg_catalog.pg_relation_size(%s::regclass)",
                                     (ddl.qualified(schema, index),)).fetchone()
            after = [_cost(trial, st, index) for st in statements]
    except psycopg.Error as exc:
        if lost(trial):
            raise TrialFailed(f"the trial database went away: {error_text(exc)}") from None
        raise TrialFailed(error_text(exc)) from None
    return TrialCost([b[0] if b else None for b in before], [a[0] if a else None for a in after],
                     [bool(a and a[1]) for a in after], int(size_row[0]) if size_row else 0, rows)


def _rows(trial: psycopg.Connection[Any], table: TableKey) -> float:
    row = trial.execute("SELECT /* pgtune */ c.reltuples FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
                        "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s", table).fetchone()
    if row is None:
        raise TrialFailed(f"the trial database has no table {ddl.qualified(*table)}")
    return float(row[0])


def opclass_with_extension(trial: psycopg.Connection[Any], key: IndexKey, extension: str) -> IndexKey:
    """The operator class as the server has it: pg_trgm created in the (rolled-back) transaction if missing."""
    trial.execute(ddl.create_extension(extension))
    row = trial.execute("SELECT /* pgtune */ n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n "
                        "ON n.oid = e.extnamespace WHERE e.extname = %s", (extension,)).fetchone()
    assert row is not None and key.opclass_name is not None
    return IndexKey(key.column, key.descending, key.expression, f"{row[0]}.{key.opclass_name}")


def _cost(trial: psycopg.Connection[Any], st: Planned, index: str | None) -> tuple[float, bool] | None:
    """The statement's plan cost on the clone with its values, and whether it uses ``index``.

    Planned inside the trial transaction (analyze.explain opens its own): the
    values inlined through sql.Literal; a $n without one planned generic
    (PREPARE, then EXECUTE with NULLs under force_generic_plan).
    """
    try:
        text, left = inlined(trial, prepare_text(st.query)[0], st.values)
    except ValueError:
        return None
    try:
        with trial.transaction():
            for step in PlanContext(search_path=st.context.search_path).steps(trial):   # the role may be missing
                trial.execute(step)
            plan = explain_json(trial, text, len(left))
    except psycopg.Error:
        if lost(trial):
            raise
        return None
    return float(plan["Total Cost"]), index is not None and index in index_names(plan)


def explain_json(trial: psycopg.Connection[Any], text: str, nparams: int) -> dict[str, Any]:
    """EXPLAIN (FORMAT JSON), each statement alone in its query string (pipeline: extended protocol)."""
    with trial.pipeline(), trial.cursor() as cur:
        if not nparams:
            cur.execute(f"EXPLAIN /* pgtune */ (FORMAT JSON) {text}", prepare=False)
            doc = cur.fetchone()
        else:
            cur.execute(f"PREPARE /* pgtune */ {_TRIAL_STMT} AS {text}", prepare=False)
            cur.execute("SET /* pgtune */ LOCAL plan_cache_mode = force_generic_plan", prepare=False)
            cur.execute(f"EXPLAIN /* pgtune */ (FORMAT JSON) EXECUTE {_TRIAL_STMT}({', '.join(['NULL'] * nparams)})",
                        prepare=False)
            doc = cur.fetchone()
            cur.execute(f"DEALLOCATE /* pgtune */ {_TRIAL_STMT}", prepare=False)
    assert doc is not None
    plan: dict[str, Any] = doc[0][0]["Plan"]
    return plan


_TRIAL_STMT = "pgtune_trial_stmt"
