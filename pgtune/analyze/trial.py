"""The planner's cost of an index HypoPG cannot make: a real build on a clone, always rolled back.

HypoPG makes hypothetical b-tree and BRIN indexes, not GIN ones (it cannot
size them: HypoPG issue 97). So a GIN candidate is built for real, on the
database the DBA names with ``--trial-dsn`` (a staging copy, a database
branch, a restored backup: never the production server, whose writes a
non-concurrent build would block). In one transaction that is always rolled
back, pgtune plans each statement the candidate serves, builds the index (and
pg_trgm when the clone lacks it), reads its real size, and plans them again.
Nothing of it stays on the clone.

Each statement is planned as its role sees the table: under row security a
qual that is not leakproof (``ILIKE``, ``@>``) runs after the policy's and can
never be an index condition, so a plan made as the clone's owner (who
bypasses the policy) would use an index the application's plans never do.
Where the role exists on the clone (and pgtune's role there may take it), the
statement is planned under SET LOCAL ROLE with its settings, as suggest plans
it; else through a security_barrier view of the policy's quals on the table
(the same treatment, as on a sample: analyze.sample_cost).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import pglast
import psycopg
from pglast import ast
from pglast.enums import BoolExprType
from psycopg import sql

from .. import catalog_sql, ddl
from .._text import error_text
from ..capture import Catalog, TableKey
from ..connect import lost
from ..ddl import IndexKey, IndexMethod
from ..explain import PlanContext, index_names, inlined, prepare_text
from ..sqltext import expression, printed, walk
from .extended_stats import Planned

VIEWS = "pgtune_trial"         # the security_barrier views' name prefix (temporary, rolled back)
TRIAL_TIMEOUT_MS = 600_000     # one trial build (a GIN on millions of rows takes a minute or more)


class CostMethod(StrEnum):
    """Which method produced a proposal's cost figure (docs/indexes/)."""

    HYPOPG = "hypopg"                # a hypothetical index (b-tree, BRIN)
    TRIAL_CLONE = "trial-clone"      # a real index built on the clone the DBA named (--trial-dsn), rolled back
    SAMPLE = "sample"                # a real index built on a sample in a temporary table, scaled (sample_cost)
    NONE = "none"                    # nothing costed it: heuristic mode's b-trees (no HypoPG)


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
             extension: str | None, statements: list[Planned], catalog: Catalog | None = None) -> TrialCost:
    """Build ``key`` on the clone in a rolled-back transaction and plan ``statements`` without and with it.

    ``catalog``: the analyzed database's, to read a statement's tables through
    a security_barrier view when its role is not on the clone.
    """
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
            plain = sql.Identifier(*table)
            statements = [_as_role(trial, st, catalog, table) for st in statements]
            security_views(trial, plain, table, VIEWS, [st for st in statements if st.row_filter])
            before = [_cost(trial, st, None) for st in statements]
            index = ddl.identifier(["pgtune_trial", name, key.label])
            trial.execute(ddl.create_index(schema, name, index, (key,), concurrently=False, method=method))
            # On a partitioned table the plans name the partitions' indexes, and the size is theirs.
            tree = trial.execute(catalog_sql.load("index_tree"), {"index": ddl.qualified(schema, index)}).fetchall()
            names = frozenset(str(r[0]) for r in tree)
            after = [_cost(trial, st, names) for st in statements]
    except psycopg.Error as exc:
        if lost(trial):
            raise TrialFailed(f"the trial database went away: {error_text(exc)}") from None
        raise TrialFailed(error_text(exc)) from None
    return TrialCost([b[0] if b else None for b in before], [a[0] if a else None for a in after],
                     [bool(a and a[1]) for a in after], sum(int(r[1] or 0) for r in tree), rows)


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


def _as_role(trial: psycopg.Connection[Any], st: Planned, catalog: Catalog | None, table: TableKey) -> Planned:
    """The statement as the clone plans it under its role: the role's own (row_filter cleared), or, the role
    missing there, the statement reading ``table`` through a security_barrier view (context cleared of it)."""
    role = st.context.role
    if role is not None and _may_take(trial, role):
        return replace(st, row_filter=())
    context = PlanContext(search_path=st.context.search_path, settings=st.context.settings)
    if not st.row_filter:
        return replace(st, context=context)
    text = _through_view(st, catalog, table) if catalog is not None else None
    if text is None:
        return replace(st, query="", context=context)       # cannot be planned as its role sees the table
    return replace(st, query=text, context=context)


def _may_take(trial: psycopg.Connection[Any], role: str) -> bool:
    """The role exists on the clone and pgtune's role there may SET ROLE to it."""
    row = trial.execute("SELECT /* pgtune */ pg_catalog.pg_has_role(r.oid, 'MEMBER') FROM pg_catalog.pg_roles AS r "
                        "WHERE r.rolname = %s", (role,)).fetchone()
    return bool(row and row[0])


def _through_view(st: Planned, catalog: Catalog, table: TableKey) -> str | None:
    """``st`` with each reference to ``table`` read through the security_barrier view of its role's quals."""
    try:
        text, _n = prepare_text(st.query)
        top: Any = pglast.parse_sql(text)[0].stmt            # a fresh tree, changed here
    except (ValueError, pglast.parser.ParseError):
        return None
    for node in walk(top):
        if isinstance(node, ast.RangeVar):
            found = catalog.lookup(node.schemaname, node.relname or "", st.search_path)
            if found is not None and found.key == table:
                if node.alias is None:
                    node.alias = ast.Alias(aliasname=node.relname)    # docs.title still names the view's column
                node.schemaname, node.relname = "pg_temp", view_name(VIEWS, st.row_filter)
    return printed(top)


def view_name(name: str, quals: tuple[str, ...]) -> str:
    return f"{name}_rls_{abs(hash(quals)) % 10**8}"


def security_views(conn: psycopg.Connection[Any], source: sql.Identifier, table: TableKey, name: str,
                   statements: list[Planned]) -> None:
    """The security-barrier views a role's statements read ``source`` through (this transaction only).

    Row security adds a policy's quals as security quals: the planner keeps a
    qual that is not leakproof (``ILIKE``, ``@>``) from running before them,
    so it cannot be an index condition. A security_barrier view of the same
    quals gets the same treatment, where plain AND-ed quals would not.
    """
    for quals in {st.row_filter for st in statements if st.row_filter}:
        top: Any = pglast.parse_sql(f"SELECT * FROM {source.as_string(conn)} AS "
                                    f"{sql.Identifier(table[1]).as_string(conn)}")[0].stmt   # quals say docs."x"
        parsed = [expression(q) for q in quals]
        top.whereClause = parsed[0] if len(parsed) == 1 else ast.BoolExpr(boolop=BoolExprType.AND_EXPR, args=parsed)
        conn.execute(sql.SQL("CREATE /* pgtune */ TEMPORARY VIEW {} WITH (security_barrier) AS ").format(
            sql.Identifier(view_name(name, quals))).as_string(conn) + printed(top))


def _cost(trial: psycopg.Connection[Any], st: Planned, index: frozenset[str] | None) -> tuple[float, bool] | None:
    """The statement's plan cost on the clone with its values, and whether it uses ``index`` (any of its names).

    Planned inside the trial transaction (analyze.explain opens its own): the
    values inlined through sql.Literal; a $n without one planned generic
    (PREPARE, then EXECUTE with NULLs under force_generic_plan). In a
    savepoint always rolled back: its SET LOCAL ROLE ends with it.
    """
    if not st.query:
        return None
    try:
        text, left = inlined(trial, prepare_text(st.query)[0], st.values)
    except ValueError:
        return None
    try:
        with trial.transaction(force_rollback=True):
            for step in st.context.steps(trial):
                trial.execute(step)
            plan = explain_json(trial, text, len(left))
    except psycopg.Error:
        if lost(trial):
            raise
        return None
    return float(plan["Total Cost"]), index is not None and bool(index & index_names(plan))


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
