"""EXPLAIN a workload statement safely and read what its plan uses.

Normalized statements from pg_stat_statements carry ``$n`` parameters; they are planned as generic plans
(PREPARE + plan_cache_mode=force_generic_plan + EXPLAIN EXECUTE with NULLs, on every version: EXPLAIN
(GENERIC_PLAN) would need the simple protocol, which lets one string carry several statements). Every EXPLAIN
runs inside a READ ONLY transaction that is rolled back (a READ ONLY savepoint rolled back, inside a caller's
transaction), so a statement can be planned but never change data.

With values for every ``$n`` the plan is a custom plan (EXECUTE with the values, quoted by psycopg; None is
NULL). With values for only some of them, the statement is planned with those inlined as constants
(sql.Literal) and the others left parameters of a generic plan: it is costed from the parts that have a
value, never silently all generic. A scenario's other names are settings its plan alone is made under
(explain_settings: a row security policy's tenant).
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import pglast
import psycopg
from pglast import ast
from pglast.enums import CoercionForm
from psycopg import pq, sql

from .connect import lost
from .explain_names import lenient_cursor
from .explain_script import STMT_NAME, Answer, Kept, Run, Script, Shared, Wire, mode_call, renamed, script, select
from .explain_script import deallocate as deallocate  # re-exported: callers free a Round's names
from .explain_script import end_failed as end_failed
from .explain_settings import calls, overrides, params_of, resets, switch
from .param_types import forget, inferred_types, remember, retyped
from .sqltext import parse, printed, type_name, walk


@dataclass(frozen=True, slots=True)
class PlanContext:
    """The session a statement ran in, as far as its plan depends on it.

    ``search_path``: its role's (its unqualified names resolve there);
    ``role``: planned under ``SET LOCAL ROLE`` so that the row security
    policies that apply to that role filter its tables, with ``settings``
    (``app.tenant`` → a representative value) for what the policies read.
    None/empty: pgtune's own session.
    """

    search_path: tuple[str, ...] | None = None
    role: str | None = None
    settings: tuple[tuple[str, str], ...] = ()

    def steps(self, conn: psycopg.Connection[Any]) -> list[str]:
        """The statements that make a transaction plan as that session would (LOCAL: they end with it)."""
        out = [f"SELECT /* pgtune */ {call}" for call in self.set_configs(conn)]
        if self.role is not None:
            out.append(self.role_step(conn))
        return out

    def set_configs(self, conn: psycopg.Connection[Any]) -> list[str]:
        """``pg_catalog.set_config(…, true)`` calls for its search_path and settings, values quoted here."""
        out = []
        if self.search_path is not None:
            path = ", ".join(sql.Identifier(s).as_string(conn) for s in self.search_path)
            out.append(f"pg_catalog.set_config('search_path', {sql.Literal(path).as_string(conn)}, true)")
        for name, value in self.settings:
            out.append(f"pg_catalog.set_config({sql.Literal(name).as_string(conn)}, "
                       f"{sql.Literal(value).as_string(conn)}, true)")
        return out

    def role_step(self, conn: psycopg.Connection[Any]) -> str:
        assert self.role is not None
        return f"SET /* pgtune */ LOCAL ROLE {sql.Identifier(self.role).as_string(conn)}"


@dataclass(frozen=True)
class Plan:
    cost: float
    indexes: frozenset[str]          # index names any scan node uses
    plan: dict[str, Any] = field(default_factory=dict, compare=False)
    execution_ms: float | None = None


@lru_cache(maxsize=50_000)
def prepare_text(query: str) -> tuple[str, int]:
    """The text to plan and its highest ``$n``; refuses anything but exactly one statement.

    A statement with a ``$n`` cast is re-printed by pglast: pg_stat_statements
    normalizes ``interval '7 days'`` to ``interval $2``, which the server's own
    parser rejects, while the printed form ``$2::interval`` plans fine.
    """
    stmts = parse(query)
    if len(stmts) != 1:
        raise ValueError(f"expected one statement to explain, found {len(stmts)}")
    root: Any = stmts[0].stmt
    if isinstance(root, (ast.ExplainStmt, ast.PrepareStmt)):
        # Someone's EXPLAIN in pg_stat_statements stands for the statement it explains; a driver's
        # or pooler's SQL-level PREPARE (its executions are counted there) for its body.
        root = root.query
        query = printed(root)
    refs = [n for n in walk(root) if isinstance(n, (ast.ParamRef, ast.TypeCast))]
    numbers = [int(n.number or 0) for n in refs if isinstance(n, ast.ParamRef)]
    if not numbers:
        return query, 0
    if _unplannable(root):
        root = pglast.parse_sql(printed(root))[0].stmt        # a fresh tree: the parse cache's is shared
        _typed(root)
    elif not any(isinstance(n, ast.TypeCast) and isinstance(n.arg, ast.ParamRef) for n in refs):
        # The server parses the text as pglast did (printing it again: 0.6 s of speed.py's 5,000); only a $n in a
        # typed literal's place (``interval $2``) is pglast's to accept and the server's to refuse.
        return query, max(numbers)
    return printed(root), max(numbers)


_NUMERIC_AGGREGATES = ("sum", "avg")


def _unplannable(root: Any) -> bool:
    return any(_extract_field(n) is not None or _numeric_case(n) for n in walk(root) if isinstance(n, ast.FuncCall))


def _extract_field(node: ast.FuncCall) -> ast.ParamRef | None:
    """The $n pg_stat_statements put in EXTRACT's field (``extract($9 from t)``, which no server parses)."""
    args = node.args or ()
    if (tuple(getattr(n, "sval", None) for n in node.funcname or ()) == ("pg_catalog", "extract") and args
            and isinstance(args[0], ast.ParamRef)):
        return args[0]
    return None


def _numeric_case(node: ast.FuncCall) -> bool:
    """sum/avg of a CASE whose every result is a $n (``sum(case when … then $5 else $6 end)``)."""
    name = getattr((node.funcname or (None,))[-1], "sval", None)
    args = node.args or ()
    if name not in _NUMERIC_AGGREGATES or len(args) != 1 or not isinstance(args[0], ast.CaseExpr):
        return False
    results = [w.result for w in args[0].args or ()] + ([args[0].defresult] if args[0].defresult else [])
    return all(isinstance(r, ast.ParamRef) for r in results)


def _typed(root: Any) -> None:
    """Give the $n the normalizer left without a type what the application's constants must have been.

    ``extract($9 from t)``: the field was a keyword (epoch, year…); ``date_part($9::text, t)`` is the same
    call in function form, the field a text parameter. ``sum(case … then $5 else $6 end)``: the results
    were numbers (sum(text) does not exist, and the statement ran), so they are planned as numeric.
    """
    for node in walk(root):
        if not isinstance(node, ast.FuncCall):
            continue
        field_param = _extract_field(node)
        if field_param is not None:
            node.funcname = (ast.String(sval="pg_catalog"), ast.String(sval="date_part"))
            node.funcformat = CoercionForm.COERCE_EXPLICIT_CALL
            node.args = (_cast(field_param, "text"), *tuple(node.args or ())[1:])
        elif _numeric_case(node):
            [case] = node.args or ()
            for w in case.args:
                w.result = _cast(w.result, "numeric")
            if case.defresult is not None:
                case.defresult = _cast(case.defresult, "numeric")


def _cast(node: Any, type_: str) -> ast.TypeCast:
    return ast.TypeCast(arg=node, typeName=ast.TypeName(names=(ast.String(sval="pg_catalog"), ast.String(sval=type_))))


def key_types_clause(query: str, nparams: int, context: PlanContext | None = None) -> str:
    """`` (text, unknown, …)`` for a PREPARE of ``query`` in ``context`` (param_types.inferred_types), or ''."""
    return _types(inferred_types(query, nparams, context), nparams)


@lru_cache(maxsize=50_000)
def declared_types(query: str) -> tuple[str, ...]:
    """The parameter types ``PREPARE name (int, text) AS …`` declares (none for any other statement).

    pg_stat_statements turns the body's own constants into further ``$n``
    after the declared ones: the server infers those from their context.
    """
    try:
        stmts = parse(query)
    except ValueError:
        return ()
    root: Any = stmts[0].stmt if len(stmts) == 1 else None
    if not isinstance(root, ast.PrepareStmt):
        return ()
    return tuple(printed(t) for t in root.argtypes or ())


def scans(plan: dict[str, Any]) -> list[str]:
    """How a plan reads its tables, one entry per scan node: ``Index Scan using x on t``, ``Seq Scan on t``."""
    found: list[str] = []
    stack = [plan.get("Plan", plan)]
    while stack:
        node = stack.pop()
        if "Relation Name" in node or "Index Name" in node:
            using = f" using {node['Index Name']}" if "Index Name" in node else ""
            on = f" on {node['Relation Name']}" if "Relation Name" in node else ""
            found.append(f"{node.get('Node Type', '?')}{using}{on}")
        stack.extend(reversed(node.get("Plans", ())))
    return found


def covers(values: Mapping[str, str | None] | None, nparams: int) -> bool:
    """Do ``values`` name every parameter ``$1..$nparams``?"""
    return values is not None and all(f"${n}" in values for n in range(1, nparams + 1))


def index_names(plan: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    stack = [plan]
    while stack:
        node = stack.pop()
        if "Index Name" in node:
            found.add(node["Index Name"])
        stack.extend(node.get("Plans", ()))
    return found


def explain(conn: psycopg.Connection[Any], query: str, *, analyze: bool = False,
            timeout_ms: int = 30_000, param_types: list[str] | None = None,
            values: Mapping[str, str | None] | None = None, context: PlanContext | None = None) -> Plan:
    """Plan ``query`` and return cost and indexes used.

    A statement with ``$n`` gets a custom plan for ``values`` ("$1" -> text,
    quoted here by psycopg; None is NULL) when they cover every parameter; with
    some, a plan with those as constants and the others generic; else its generic plan.
    """
    return explain_scenarios(conn, query, [values], analyze=analyze, timeout_ms=timeout_ms,
                             param_types=param_types, context=context)[0]


def explain_scenarios(conn: psycopg.Connection[Any], query: str,
                      scenarios: Sequence[Mapping[str, str | None] | None], *,
                      analyze: bool = False, timeout_ms: int = 30_000,
                      param_types: list[str] | None = None, context: PlanContext | None = None) -> list[Plan]:
    """One plan per value scenario (None or empty: the generic plan), all in one round trip.

    What-if costing plans a statement's custom and generic plans under the same
    hypothetical indexes: one PREPARE serves them all (a scenario with values for
    only some ``$n`` prepares its own text, those values inlined).
    """
    types, first = param_types, None
    for _ in range(RETRIES + 1):
        try:
            plans = Round(conn, query, scenarios, analyze=analyze, timeout_ms=timeout_ms, param_types=types,
                          context=context).run(conn)
        except psycopg.Error as exc:
            if types is None and param_types is None and not lost(conn) and forget(query, context):
                continue        # the types another session's same text needed (r22): as the server types it here
            # A $n the server could not type (an array's element, generate_series' bound): again, typed.
            again = None if param_types is not None or lost(conn) else _retyped(query, types, exc, context)
            if again is None:
                if first is not None:
                    raise first from None       # the statement's own refusal, not the retyped text's
                raise
            types, first = again, first or exc
            continue
        if types is not param_types:
            remember(query, types or [], context)
        return plans
    assert first is not None
    raise first


RETRIES = 4     # PREPAREs again after a refusal for a $n the server could not type (param_types.retyped): a group each


def _retyped(query: str, tried: list[str] | None, exc: psycopg.Error, context: PlanContext | None) -> list[str] | None:
    """Types for planning ``query`` again after the server refused it typed ``tried`` (param_types.retyped)."""
    if declared_types(query):
        return None         # a PREPARE's own types are the application's
    text, nparams = prepare_text(query)
    return retyped(query, text, nparams, exc.sqlstate, exc.diag.message_primary,
                   tried or inferred_types(query, nparams, context))


def _types(param_types: list[str] | None, nparams: int) -> str:
    """`` (integer, text)``: the types inferred at emit, so verify plans the statement as it was baselined."""
    if not nparams or not param_types or len(param_types) != nparams:
        return ""
    try:
        return " (" + ", ".join(type_name(t) for t in param_types) + ")"
    except ValueError:
        return ""


_MARK = 900_000    # $n renumbered above this while printing stand for an inlined value


def inlined(conn: psycopg.Connection[Any], query: str, values: Mapping[str, str | None]) -> tuple[str, list[int]]:
    """``query`` with the ``$n`` that ``values`` names as quoted constants, the others renumbered from ``$1``.

    Returns the text and the original numbers of the parameters left, in their
    new order. Each value reaches the text through sql.Literal.
    """
    if re.search(rf"\${_MARK // 100_000}\d{{5}}", query):
        raise ValueError("the statement already holds a parameter number pgtune uses as a mark")
    top: Any = pglast.parse_sql(query)[0].stmt          # a fresh tree: the shared one stays as it is
    refs = [n for n in walk(top) if isinstance(n, ast.ParamRef) and n.number]
    left = sorted({int(n.number or 0) for n in refs if f"${n.number}" not in values})
    renumber = {old: new for new, old in enumerate(left, start=1)}
    for n in refs:
        old = int(n.number or 0)
        n.number = renumber[old] if old in renumber else _MARK + old
    pieces = re.split(rf"\$({_MARK // 100_000}\d{{5}})\b", printed(top))
    parts: list[sql.Composable] = []
    for i, piece in enumerate(pieces):
        parts.append(sql.SQL(piece) if i % 2 == 0 else sql.Literal(values[f"${int(piece) - _MARK}"]))
    return sql.Composed(parts).as_string(conn), left


class Round:
    """A statement's EXPLAINs, one per value scenario, as one segment of a pipeline.

    A READ ONLY transaction, the EXPLAINs, and (always) a rollback. Workload text never shares a query string
    with another statement: in pipeline mode each statement goes through the extended protocol, which refuses
    more than one command per string, so a text that a lax server setting would split in two
    (``standard_conforming_strings = off``) fails instead of running. The transaction forces the setting on as
    well, so the server reads every literal the way pglast did. ``run`` sends it alone (one round trip); what-if
    costing sends several, with hypothetical indexes made between them, in one (analyze.batch), where they share
    one transaction (explain_script.Shared).
    """

    # A what-if session holds one per statement (and per reordering) to send again: no __dict__ each.
    __slots__ = ("_renamed", "cursors", "custom", "names", "nested", "script")

    def __init__(self, conn: psycopg.Connection[Any], query: str,
                 scenarios: Sequence[Mapping[str, str | None] | None], *, analyze: bool = False,
                 timeout_ms: int = 30_000, param_types: list[str] | None = None,
                 context: PlanContext | None = None) -> None:
        declared = list(declared_types(query))
        original, (query, nparams) = query, prepare_text(query)
        if not param_types and declared and len(declared) <= nparams:
            # A PREPARE's own types; the $n pg_stat_statements added after them ("unknown") are inferred.
            param_types = declared + ["unknown"] * (nparams - len(declared))
        elif not param_types:
            param_types = inferred_types(original, nparams, context)
        # TIMING OFF: only the total is read, and timing every node inflates a scan of many rows far more than
        # an index probe of a few (the demo's seq scans ran 10-45% longer), which skews before/after comparisons.
        options = "ANALYZE, TIMING OFF, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
        context, own = context or PlanContext(), dict((context or PlanContext()).settings)
        runs = [replace(_scenario_run(conn, query, k, params_of(values), nparams, param_types, analyze),
                        settings=calls(conn, overrides(values, own))) for k, values in enumerate(scenarios)]
        # Inside the caller's transaction (a trial that is rolled back: baseline_warm's expression statistics)
        # a savepoint stands in for the transaction, so the caller's work stays and the plans still change nothing.
        self.nested = conn.info.transaction_status == pq.TransactionStatus.INTRANS
        # Its values are in the script's texts only: a what-if session holds a Round per statement (20,000 at
        # benchmarks/speed.py's largest), and its runs' quoted values a second time were a quarter of it.
        self.script = script(query, options, nparams, timeout_ms, _types(param_types, nparams), runs,
                             context.set_configs(conn), context.role_step(conn) if context.role is not None else None,
                             self.nested, reset=resets(conn, list(scenarios), own))
        self.names = self.script.names
        # Every plan a custom one: the statement can stay prepared between what-if plans (explain_script.Kept).
        self.custom = not analyze and bool(runs) and all(r.name == STMT_NAME and r.args and r.text is None
                                                         for r in runs)
        self.cursors: list[psycopg.Cursor[Any] | Answer] = []
        # The script under each name Kept gave it, to prepare or not (shared by copies: ``again``).
        self._renamed: dict[tuple[str, bool, bool], Script] = {}

    def again(self) -> Round:
        """The same Round, to send once more: what-if costing plans a statement again and again with other
        hypothetical indexes, and its statements do not change (quoting its values and printing its
        texts was a tenth of pgtune's CPU time in benchmarks/speed.py)."""
        other = copy.copy(self)
        other.names, other.cursors = self.script.names, []
        return other

    def send(self, conn: psycopg.Connection[Any], shared: Shared | None = None, kept: Kept | None = None,
             steps: psycopg.Cursor[Any] | Wire | None = None) -> None:
        """Queue every statement in ``conn``'s open pipeline; the plans are read once it is synced.

        ``shared``: the pipeline's transaction, which this Round joins (or opens) instead of its own;
        ``kept``: the statements the session keeps prepared, which a Round of custom plans uses;
        ``steps``: a cursor of the pipeline for the statements whose results are not read (one per Round
        otherwise: making a cursor is a good part of psycopg's cost per statement); a Wire sends them all,
        the EXPLAINs too, straight through libpq (explain_script.Wire)."""
        s = self.script
        keeps = kept is not None and shared is not None and self.custom
        found = kept.name((s.prepares[0], *s.setup, *s.role)) if keeps and kept is not None else None
        if found is not None:
            form = self._renamed.get(found)
            if form is None:
                named = renamed(s, found[0])
                # The Round's own transaction and settings (the same texts: shared, not copies). Only the form
                # without the PREPARE is kept: the one with it is sent once (issue 28's memory: one Round a
                # statement and session, 20,000 of them at benchmarks/speed.py's 20,000 statements).
                # A name another statement held is freed first (explain_script.Kept: a priced one gave its place).
                prepares = [f"DEALLOCATE /* pgtune */ {found[0]}"] * found[2] + named.prepares if found[1] else []
                form = replace(named, prepares=prepares, names=[])
                if not found[1] and kept is not None and kept.lasting(found[0]):
                    self._renamed[found] = form
            s = form
            self.names = []     # freed with the session's (Kept.clear), also after a failure
        with contextlib.nullcontext(steps) if steps is not None else conn.cursor() as cur:
            # prepare=False: psycopg would otherwise prepare these texts after five runs, and a
            # prepared name is one more thing a failed pipeline can leave behind.
            def run(*steps: str) -> None:
                for step in steps:
                    cur.execute(step, prepare=False)
            if shared is None:
                mode = s.lasts[0][0] if s.lasts else ""    # the first plan's mode is set with the rest
                run(*s.begin, select([*s.setup, *([mode_call(mode)] if mode else [])]), *s.role, *s.prepares)
            else:
                mode = shared.join(cur, s)
                run(*s.prepares)
            current = ""        # the settings beyond the Round's own its plans are made under now (explain_settings)
            for k, (wanted, last) in enumerate(s.lasts):
                sets, current = switch(s.overrides[k] if s.overrides else "", current, s.reset)
                if wanted and wanted != mode:
                    sets, mode = [mode_call(wanted), *sets], wanted
                if sets:
                    run(select(sets))
                if isinstance(cur, Wire):
                    self.cursors.append(cur.execute(last, read=True))
                else:       # read leniently: a HypoPG name cut inside a character (explain_names)
                    self.cursors.append(plan := lenient_cursor(conn))
                    plan.execute(last, prepare=False)
            run(*[select([s.reset])] * bool(current and shared))     # a Shared one's next Round plans under its own
            if shared is None:
                run(*s.end)
            else:
                shared.mode = mode
            # PREPARE outlives a rolled-back transaction: the names are freed in the same round trip.
            run(*(f"DEALLOCATE /* pgtune */ {name}" for name in s.names))

    def read(self) -> bool:
        """Are its plans read back (a Wire reads them as they come, before the pipeline is synced)?"""
        return all(isinstance(c, Answer) and c.result is not None for c in self.cursors[-1:])

    def plans(self) -> list[Plan]:
        """The plans, once read back (once the pipeline is synced, or ``read``)."""
        rows = []
        for cur in self.cursors:
            rows.append(cur.fetchone())
            cur.close()
        self.cursors = []
        plans = []
        for row in rows:
            assert row is not None
            value: Any = row[0]      # psycopg's json loader's, or a Wire's text
            doc = json.loads(value) if isinstance(value, str) else value
            top = doc[0]
            plan = top["Plan"]
            plans.append(Plan(cost=float(plan["Total Cost"]), indexes=frozenset(index_names(plan)), plan=top,
                              execution_ms=top.get("Execution Time")))
        return plans

    def recover(self, conn: psycopg.Connection[Any]) -> None:
        """After a failure skipped the rest of a pipeline: end the transaction, free the names."""
        self.cursors = []
        if not lost(conn):
            end_failed(conn, self.nested)
            for name in self.names:
                deallocate(conn, name)

    def run(self, conn: psycopg.Connection[Any]) -> list[Plan]:
        """Send it alone: one round trip."""
        failure: psycopg.Error | None = None
        try:
            with conn.pipeline():
                try:
                    self.send(conn)
                except psycopg.Error as exc:
                    # Raised once the pipeline block is left: leaving it with an error in flight makes
                    # psycopg log "error ignored terminating <Pipeline>: pipeline aborted" on stderr.
                    failure = exc
            # Leaving the block synced it: one round trip for all of it (a sync inside would be a second).
            if failure is not None:
                raise failure
            plans = self.plans()
        except BaseException as exc:
            self.recover(conn)
            if failure is not None and exc is not failure:
                raise failure from None     # the pipeline's own "aborted" on exit says less than the cause
            raise
        return plans


def _scenario_run(conn: psycopg.Connection[Any], query: str, k: int, values: Mapping[str, str | None] | None,
                  nparams: int, param_types: list[str] | None, analyze: bool) -> Run:
    """How scenario ``k`` is planned: as it stands, EXECUTE with every value, or a text of its own."""
    if not nparams:
        return Run(None, None)
    if values and covers(values, nparams):
        return Run(STMT_NAME, [sql.Literal(values[f"${n}"]).as_string(conn) for n in range(1, nparams + 1)])
    if values:
        text, kept = inlined(conn, query, values)
        if analyze:
            raise ValueError("a statement with parameters cannot be measured without values for them")
        left = [param_types[n - 1] for n in kept] if param_types and len(param_types) == nparams else None
        return Run(f"{STMT_NAME}_{k}", None, text, len(kept), _types(left, len(kept)))
    if analyze:
        raise ValueError("a statement with parameters cannot be measured without values for them")
    return Run(STMT_NAME, None)
