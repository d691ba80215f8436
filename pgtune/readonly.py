"""Is a statement safe to execute for measurement? Only if it provably cannot change anything.

verify --measure (and suggest --emit, by default) run EXPLAIN (ANALYZE), which
executes the statement. pgtune executes only plain SELECTs: no
INSERT/UPDATE/DELETE/MERGE anywhere in the tree (data-modifying CTEs
included), no SELECT … FOR UPDATE/SHARE, no SELECT INTO, and no code that is
not PostgreSQL's own. Volatility labels are not trusted: a function labelled
STABLE can still write through dblink, in a session READ ONLY does not cover.
So by default a statement that calls any function, operator or cast defined
outside pg_catalog is not run (a cast to an enum, or to a domain over a
built-in type whose checks call only built-in code, runs pg_catalog's code and
is allowed), and views are expanded and checked the same way. One exception:
an operator an installed extension provides and does not label VOLATILE
(citext's ``=``: a packaged comparison a DBA installed, not the application's
code), judged among the operators the server resolves for the statement, not
every operator of the same symbol (u3's R1);
``trust_functions`` (the DBA's explicit opt-in) lets non-VOLATILE user
functions through. Foreign tables (another server) are never run, nor are
tables with row-level security, unless the statement runs as the role emit
planned it as (``as_role``: its policies are then part of what runs, with the
settings it was planned with), and every policy a SELECT runs on them passes
the same rule as the statement (t36: Documenso's tenant filter,
``"teamId" = current_setting('app.team_id')::int``, is PostgreSQL's own code);
pgtune's own reads (samples, probes: not as that role) still refuse them, as a
policy's ``current_setting`` has no value there. As a second
guard the execution itself happens inside BEGIN READ ONLY … ROLLBACK
(pgtune.explain).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from pglast import ast
from pglast.stream import RawStream
from pglast.visitors import Visitor
from psycopg import pq, sql

from . import catalog_sql
from .connect import lost
from .explain import PlanContext, covers, explain, prepare_text
from .roles import NoTemporary, rolled_back
from .sqltext import ParseFailed, names, parse, parse_one, text, walk

_WRITES = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)
MAX_VIEW_DEPTH = 8
PROBE_VIEW = "pgtune_operator_probe"
PROBE_LOCK_TIMEOUT = "1s"
TRUST_HINT = "(verify --trust-functions runs non-VOLATILE user functions)"


def why_not_read_only(conn: psycopg.Connection[Any], query: str, *, trust_functions: bool = False,
                      search_path: tuple[str, ...] | None = None, as_role: bool = False) -> str | None:
    """None when ``query`` is safe to execute; else the reason it is not.

    ``search_path``: the one its role resolves its names with (None: this session's). ``as_role``: it runs as
    the role it was planned as, with its settings, so tables under row security are judged by their policies.
    """
    if search_path is not None:
        with conn.transaction(force_rollback=True):
            path = ", ".join(sql.Identifier(s).as_string(conn) for s in search_path)
            conn.execute("SELECT /* pgtune */ pg_catalog.set_config('search_path', %s, true)", (path,))
            return why_not_read_only(conn, query, trust_functions=trust_functions, as_role=as_role)
    stmts = parse(query)
    if len(stmts) != 1:
        return "not a single statement"
    root = stmts[0].stmt
    if isinstance(root, (ast.ExplainStmt, ast.PrepareStmt)):
        root = root.query       # what runs: the explained statement, a PREPARE's body
    if not isinstance(root, ast.SelectStmt):
        return f"writes ({type(root).__name__.removesuffix('Stmt').upper()})"
    return _inspect(conn, root, trust_functions, depth=0, seen=set(), as_role=as_role)


def _inspect(conn: psycopg.Connection[Any], root: ast.Node, trust: bool, *, depth: int,
             seen: set[str], as_role: bool = False) -> str | None:
    functions: set[str] = set()
    operators: set[str] = set()
    types: set[str] = set()
    relations: list[str] = []
    ctes = {c.ctename for c in walk(root) if isinstance(c, ast.CommonTableExpr)}
    node: Any
    for node in walk(root):
        if isinstance(node, _WRITES):
            return "writes (data-modifying WITH)"
        if isinstance(node, ast.SelectStmt) and (node.lockingClause or node.intoClause):
            return "locks rows (FOR UPDATE/SHARE)" if node.lockingClause else "creates a table (SELECT INTO)"
        if isinstance(node, ast.FuncCall):
            functions.add(names(node.funcname)[-1])
        elif isinstance(node, ast.A_Expr) and node.name:
            operators.update(names(node.name))
        elif isinstance(node, ast.TypeCast) and node.typeName is not None:
            types.add(names(node.typeName.names)[-1])
        elif isinstance(node, ast.RangeVar):
            if node.schemaname is None and node.relname in ctes:
                continue
            rel = text(node.relname)
            name = (sql.Identifier(node.schemaname, rel) if node.schemaname
                    else sql.Identifier(rel)).as_string(conn)
            relations.append(name)
    if functions:
        rows = conn.execute(catalog_sql.load("readonly_functions"),
                            {"names": sorted(functions), "trust": trust}).fetchall()
        if rows:
            volatile = [r[1] if r[0] == "pg_catalog" else f"{r[0]}.{r[1]}" for r in rows if r[2]]
            if volatile:
                return "calls a volatile function: " + ", ".join(volatile)
            return f"calls a user-defined function: {', '.join(f'{r[0]}.{r[1]}' for r in rows)} {TRUST_HINT}"
    if operators:
        # Only where the database has an operator the rule refuses (anywhere: a sort's or a join's is not named
        # in the text) is a temporary view made to tell which operators the statement uses: on most databases
        # (citext's operators pass) none is, and the server's catalog takes no write for a read-only question.
        rows = conn.execute(catalog_sql.load("readonly_operators"),
                            {"oids": None, "names": None, "trust": trust}).fetchall()
        if rows:
            rows = conn.execute(catalog_sql.load("readonly_operators"),
                                {"oids": _operators_used(conn, root), "names": sorted(operators),
                                 "trust": trust}).fetchall()
        if rows:
            return ("uses an operator backed by a user-defined or volatile function: "
                    + ", ".join(f"{r[0]} ({r[1]}.{r[2]})" for r in rows) + f" {TRUST_HINT}")
    if types and not trust:
        rows = conn.execute(catalog_sql.load("readonly_types"), {"names": sorted(types)}).fetchall()
        if rows:
            return f"casts to a user-defined type: {', '.join(f'{r[0]}.{r[1]}' for r in rows)} {TRUST_HINT}"
    for name in relations:
        reason = _relation(conn, name, trust, depth=depth, seen=seen, as_role=as_role)
        if reason:
            return reason
    return None


class _NoParameters(Visitor):
    """$n becomes NULL: a view holds no parameter, and an untyped NULL resolves operators as an untyped $n does."""

    def visit_ParamRef(self, _ancestors: Any, _node: ast.ParamRef) -> ast.A_Const:
        return ast.A_Const(isnull=True)


def _operators_used(conn: psycopg.Connection[Any], root: ast.Node) -> list[int] | None:
    """The oids of the operators ``root`` uses, as the server resolves them; None when it cannot tell.

    A symbol names many operators (citext's ``=`` beside pg_catalog's): the
    server resolves which one by the operand types. A temporary view over the
    statement records that choice in pg_depend; it is created in a transaction
    rolled back at once, under a short lock_timeout. On a standby, in a READ ONLY
    transaction or without the TEMP privilege it cannot be made: None.
    """
    probe = copy.deepcopy(root)      # parse() caches its trees
    _NoParameters()(probe)
    view = sql.Identifier("pg_temp", PROBE_VIEW)
    create = sql.SQL("CREATE /* pgtune */ TEMPORARY VIEW {} AS SELECT 1 FROM ({}) AS q").format(
        view, sql.SQL(str(RawStream()(probe))))      # the printer's text of one parsed SELECT
    try:
        with rolled_back(conn, PROBE_LOCK_TIMEOUT):
            conn.execute(create)
            rows = conn.execute(catalog_sql.load("readonly_operators_used"),
                                {"view": view.as_string(conn)}).fetchall()
    except NoTemporary:
        return None
    except psycopg.Error:
        if lost(conn):
            raise
        return None
    return [int(r[0]) for r in rows]


def _relation(conn: psycopg.Connection[Any], name: str, trust: bool, *, depth: int, seen: set[str],
              as_role: bool = False) -> str | None:
    if name in seen:
        return None
    seen.add(name)
    try:
        # A name the server cannot parse fails the query: inside a caller's transaction a savepoint keeps it
        # alive; alone (autocommit) the query is its own transaction, and BEGIN/COMMIT were two more round
        # trips per relation (issue 28: per expression key sample at benchmarks/speed.py's 5,000 statements).
        with conn.transaction() if conn.info.transaction_status != pq.TransactionStatus.IDLE or not conn.autocommit \
                else contextlib.nullcontext():
            row = conn.execute(catalog_sql.load("readonly_relation"), {"name": name}).fetchone()
    except psycopg.errors.Error:
        return f"reads {name}, which cannot be resolved"
    if row is None:
        return f"reads {name}, which does not exist here"
    kind, row_security, definition, policies = row
    if row_security and not as_role:
        return f"reads {name}, which has row-level security policies (user expressions)"
    if row_security:
        why = _policies(conn, name, policies, trust, depth=depth, seen=seen)
        if why:
            return why
    if kind == "f":
        return f"reads {name}, a foreign table (another server)"
    if kind == "v":
        if depth >= MAX_VIEW_DEPTH:
            return f"reads {name} through more than {MAX_VIEW_DEPTH} nested views"
        try:
            inner = parse_one(definition)
        except ParseFailed:
            return f"reads {name}, a view pgtune cannot read"
        why = _inspect(conn, inner, trust, depth=depth + 1, seen=seen, as_role=as_role)
        return f"through view {name}: {why}" if why else None
    return None


def _policies(conn: psycopg.Connection[Any], name: str, policies: list[list[str]], trust: bool, *, depth: int,
              seen: set[str]) -> str | None:
    """Why a SELECT on ``name`` as the role must not run because of a policy ([policy name, USING text]), or None:
    each expression is inspected as a statement's (a subquery's tables, their own policies included)."""
    for policy, using in policies:
        try:
            expr = parse_one(f"SELECT {using}")
        except ParseFailed:
            return f"reads {name}, whose row security policy {policy} pgtune cannot read"
        why = _inspect(conn, expr, trust, depth=depth + 1, seen=seen, as_role=True)
        if why:
            return f"reads {name}, whose row security policy {policy} {why}"
    return None


FAST_MS = 1000.0   # a statement faster than this is run more than once and its best time kept
RUNS = 3           # at least this many runs of a fast statement…
MAX_RUNS = 7       # …and more, up to this many, while all its runs together took under RUNS_MS:
RUNS_MS = 500.0    # on a busy machine the best of 3 of a 5-100 ms scan was 1.5-2.3x its quiet time, the best
                   # of 7 nearer (prisma_style at load 8: 13.2 -> 8.8 ms where a quiet run took 5.7)
TINY_RUNS = 25     # and on, up to this many, while all its runs together took under TINY_SPENT_MS: under load the
TINY_SPENT_MS = 50.0   # best of 7 of a 0.01-0.05 ms probe was up to 2-3x its quiet time, of a 0.4 ms scan of 1,100
                       # pages 1.0-1.8 ms (prisma_style's role lookup; best of 25: 0.39-0.47)


@dataclass(frozen=True)
class Timing:
    """How long a statement took, and under which conditions, so a comparison can say what it compares."""

    ms: float            # the best run
    runs: int            # how many runs the best was kept from
    first_ms: float      # the first run: slower than the best when it found the cache cold
    read_blocks: int     # shared blocks the best run read from disk (0: everything was in shared_buffers)

    def describe(self) -> str:
        """``best of 3 runs, warm`` / ``1 run, 1,204 blocks read from disk``."""
        runs = f"best of {self.runs} runs" if self.runs > 1 else "1 run"
        cache = "warm" if not self.read_blocks else f"{self.read_blocks:,} blocks read from disk"
        return f"{runs}, {cache}"


def measure(conn: psycopg.Connection[Any], query: str, *, trust_functions: bool = False,
            timeout_ms: int = 30_000,
            values: Mapping[str, str | None] | None = None,
            context: PlanContext | None = None) -> tuple[Timing | None, str | None]:
    """Measured execution time (EXPLAIN ANALYZE, rolled back), or why the statement is not executed.

    A parameterized statement runs with ``values`` (the representative values it was planned with).
    A fast statement is run three times, and up to seven while its runs take under half a second in
    all, and the best time kept: the first run may read from disk what the next find in cache, and
    another process may hold the CPU during any one run; a before/after comparison of single runs
    would mostly measure that. One whose runs took under TINY_SPENT_MS in all runs on, up to TINY_RUNS times.
    """
    nparams = prepare_text(query)[1]
    if nparams and not covers(values, nparams):
        missing = [f"${n}" for n in range(1, nparams + 1) if f"${n}" not in (values or {})]
        return None, f"parameterized: no value for {', '.join(missing)} to run it with"
    reason = why_not_read_only(conn, query, trust_functions=trust_functions,
                               search_path=context.search_path if context is not None else None,
                               as_role=context is not None and context.role is not None)
    if reason is not None:
        return None, reason
    best: tuple[float, int] | None = None
    first: float | None = None
    runs, spent = 0, 0.0
    while _more(runs, spent):
        plan = explain(conn, query, analyze=True, timeout_ms=timeout_ms, values=values, context=context)
        runs += 1
        ms = plan.execution_ms or 0.0
        spent += ms
        first = ms if first is None else first
        if best is None or ms < best[0]:
            best = (ms, int(plan.plan.get("Plan", {}).get("Shared Read Blocks", 0)))
        if best[0] >= FAST_MS:
            break
    assert best is not None and first is not None
    return Timing(best[0], runs, first, best[1]), None


def _more(runs: int, spent: float) -> bool:
    """Run once more? RUNS at least; then up to MAX_RUNS while all took under RUNS_MS, up to TINY_RUNS while all
    took under TINY_SPENT_MS."""
    if runs < RUNS:
        return True
    if runs < MAX_RUNS and spent < RUNS_MS:
        return True
    return runs < TINY_RUNS and spent < TINY_SPENT_MS
