"""The planner's cost of a GIN index without a clone: a real build on a bounded sample, in pgtune's own session.

HypoPG cannot make a GIN index (analyze.trial). Without ``--trial-dsn``
pgtune copies a bounded sample of the table into a temporary table of its
own session, builds the candidate there for real, and plans each statement
it serves against that table, without and with it. What the server's app
sees of it: one read of the table (``TABLESAMPLE SYSTEM``: only the sampled
pages, under ACCESS SHARE, released when the short copy transaction
commits), under ``statement_timeout`` and ``lock_timeout``. The temporary
table and its index live in this session only and are dropped at the end;
pg_trgm, where the server lacks it, is created inside a transaction that is
always rolled back.

Scaling. The sample holds a share f of the rows, drawn from the whole table,
so ``ANALYZE`` gives it the same distributions and the planner costs a scan
of it, sequential or through the index, at about f times the full table's
cost. The ratio of the two plans is kept, and applied to the statement's
cost on the real table: after = before x (after on the sample / before on
the sample). A ``LIMIT`` (and ``OFFSET``) is scaled by f too, so that it
cuts the same share of the rows the plan expects. Only statements that read
no other table are costed this way (a join's other side is not sampled).
The index's size is its size on the sample over f; a GIN's entries grow
with its distinct keys instead (analyze.gin_size).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import count
from typing import Any

import pglast
import psycopg
from pglast import ast
from psycopg import sql

from .. import ddl, estimates
from .._text import error_text
from ..capture import Catalog, TableKey
from ..connect import lost
from ..ddl import IndexKey, IndexMethod
from ..explain import Plan, PlanContext, index_names, inlined, prepare_text
from ..readonly import why_not_read_only
from ..roles import why_no_temporary
from ..sqltext import ParseFailed, printed, walk
from .extended_stats import Planned
from .gin_size import postings_per_row, whole_size
from .trial import TrialCost, TrialFailed, explain_json, opclass_with_extension, security_views, view_name

SAMPLE_ROWS = 100_000           # at most this many rows copied…
SAMPLE_BYTES = 64 << 20         # …and at most this much of the table read
SAMPLE_TIMEOUT_MS = 60_000      # the copy, and the build, each under this statement_timeout
LOCK_TIMEOUT = "1s"             # the copy's ACCESS SHARE waits no longer behind a DDL lock
DISAGREE = 10.0                 # a scan's rows on the sample (scaled) this far from the table's: not its plan
_names = count()


@dataclass(frozen=True)
class SampleCost(TrialCost):
    """A trial's costs, from a sample: ``share`` of the table's rows (the figures are scaled to the whole)."""

    share: float = 1.0


def on_sample(conn: psycopg.Connection[Any], catalog: Catalog, table: TableKey, key: IndexKey,
              method: IndexMethod, extension: str | None, statements: list[Planned],
              real: list[Plan | None], companions: tuple[str, ...] = ()) -> SampleCost:
    """Build ``key`` on a sample of ``table`` and scale each statement's ``real`` plan's cost by the change there."""
    if not conn.autocommit:
        raise TrialFailed("the connection is not in autocommit: the sample's read would hold its lock to the end")
    t = catalog.tables.get(table)
    if t is None or t.reltuples <= 0:
        raise TrialFailed(f"{ddl.qualified(*table)} has no row count (never analyzed): ANALYZE it first")
    if catalog.policed(table):
        # The application's policy would filter the copy, or fail it (current_setting without missing_ok, in
        # each parallel worker too: p14, an ERROR in the server's log a trial).
        raise TrialFailed(f"row security filters pgtune's reads of {ddl.qualified(*table)}: no sample of it")
    per_row = max(t.size_bytes / t.reltuples, 1.0) if t.size_bytes else 100.0
    want = min(t.reltuples, SAMPLE_ROWS, SAMPLE_BYTES / per_row)
    percent = min(100.0, 100.0 * want / t.reltuples)          # whole pages, so about that many rows
    name = f"pgtune_sample_{next(_names)}"
    if not _plannable(catalog, table, name, statements):
        # A join's other side is not sampled: with no statement to plan there, the copy, its ANALYZE and the
        # build would be read and thrown away (TPC-H: two trigram GINs, 1.9 s of the server's CPU per suggest).
        raise TrialFailed(f"every statement it serves reads another table than {ddl.qualified(*table)}, "
                          "and a sample of one table cannot cost it")
    if (refused := why_no_temporary(conn)) is not None:
        raise TrialFailed(f"no sample can be made: {refused}")     # asked, not tried: no ERROR in the log
    half = f"{name}_half"
    gin: float | None = None
    try:
        fill = _fillfactor(conn, table)
        rows = _copy(conn, sql.Identifier(*table), name,
                     sql.SQL("SYSTEM ({})").format(sql.Literal(round(percent, 4))), fill, companions)
        if rows == 0:
            raise TrialFailed("the sample came back empty")
        shares = [min(1.0, rows / t.reltuples)]
        expected = [_scanned(p.plan, table[1]) if p else None for p in real]
        runs = [_agreed(conn, catalog, table, name, key, method, extension, statements, shares[0], expected)]
        if shares[0] < 1.0:       # a second, half-size sample: the cost's fixed part and its per-row part
            shares.append(_copy(conn, sql.Identifier("pg_temp", name), half, sql.SQL("BERNOULLI (50)"),
                                fill, companions) / t.reltuples)
            runs.append(_agreed(conn, catalog, table, half, key, method, extension, statements, shares[1],
                                expected))
            if method == IndexMethod.GIN:
                postings = postings_per_row(conn, half, key, extension, SAMPLE_TIMEOUT_MS)
                gin = whole_size((runs[0][1], runs[1][1]), (rows, shares[1] * t.reltuples), postings,
                                 t.reltuples)
    except psycopg.Error as exc:
        if lost(conn):
            raise
        # A lock the copy waited on past its own LOCK_TIMEOUT too: the candidate becomes a hint, the rest goes on.
        raise TrialFailed(error_text(exc)) from None
    except ParseFailed as exc:
        raise TrialFailed(str(exc)) from None
    finally:
        if not lost(conn):
            _drop(conn, name)
            _drop(conn, half)
    costs = [p.cost if p else None for p in real]
    if not any(c is not None and got is not None for c, got in zip(costs, runs[0][0], strict=True)) and runs[0][2]:
        raise TrialFailed(f"on the sample the planner expects {runs[0][2][0]}: its plans there are not the table's")
    return _whole(costs, shares, [run[:2] for run in runs], rows, gin)


def _whole(real: list[float | None], shares: list[float],
           runs: list[tuple[list[tuple[float, float, bool] | None], int]], rows: int,
           gin: float | None = None) -> SampleCost:
    """The sample's figures taken to the whole table: each statement's real cost x the plan change there."""
    def scaled(values: list[float]) -> float:
        if len(values) == 1 or shares[0] <= shares[1]:
            return values[0] / shares[0] if len(values) == 1 else values[0]
        slope = (values[0] - values[1]) / (shares[0] - shares[1])
        return max(values[0], values[0] + slope * (1.0 - shares[0]))

    before: list[float | None] = []
    after: list[float | None] = []
    used: list[bool] = []
    for i, r in enumerate(real):
        got = [run[0][i] for run in runs]
        if r is None or any(g is None for g in got):
            before.append(None)
            after.append(None)
            used.append(False)
            continue
        plans = [g for g in got if g is not None]
        b, a = scaled([p[0] for p in plans]), scaled([p[1] for p in plans])
        before.append(r)
        after.append(r * a / b if b > 0 else None)
        used.append(plans[0][2])
    size = scaled([float(run[1]) for run in runs]) if len(runs) > 1 else runs[0][1] / shares[0]
    if gin is not None:          # a GIN's entries grow with its distinct keys, not the rows (analyze.gin_size)
        size = min(size, gin)
    return SampleCost(before, after, used, int(size), float(rows), shares[0])


def _copy(conn: psycopg.Connection[Any], source: sql.Identifier, name: str, method: sql.Composable,
          fillfactor: int, companions: tuple[str, ...] = ()) -> int:
    """Copy a sample into this session's temporary table, build ``companions`` on it, ANALYZE; commit.

    Its pages are filled as the table's are (its fillfactor): the planner
    prices a scan by pages, so a denser copy would look cheaper to scan. The
    companions are the indexes the table has (and the b-trees proposed with
    the candidate): the plans on the sample choose among the same indexes.
    The commit ends the read's lock on the table.
    """
    with conn.transaction():
        _bounded(conn, LOCK_TIMEOUT)
        conn.execute(sql.SQL("CREATE /* pgtune */ TEMPORARY TABLE {} WITH (fillfactor = {}) AS SELECT * FROM {} "
                             "TABLESAMPLE {} REPEATABLE (0)").format(
            sql.Identifier(name), sql.Literal(fillfactor), source, method))
        for i, definition in enumerate(companions):
            conn.execute(_on_temp(definition, name, f"{name}_{i}"))
        conn.execute(sql.SQL("ANALYZE /* pgtune */ {}").format(sql.Identifier("pg_temp", name)))
        row = conn.execute(sql.SQL("SELECT /* pgtune */ count(*) FROM {}").format(
            sql.Identifier("pg_temp", name))).fetchone()
    return int(row[0]) if row else 0


def _on_temp(definition: str, name: str, index: str) -> str:
    """An index definition (pg_get_indexdef, or a proposal's CREATE INDEX) built on the sample, not concurrently."""
    node: Any = pglast.parse_sql(definition)[0].stmt
    if not isinstance(node, ast.IndexStmt):
        raise ParseFailed(f"not an index definition: {definition[:60]}")
    node.relation = ast.RangeVar(schemaname="pg_temp", relname=name, inh=True, relpersistence="t")
    node.idxname, node.concurrent, node.if_not_exists, node.tableSpace = index, False, False, None
    return printed(node)


def _fillfactor(conn: psycopg.Connection[Any], table: TableKey) -> int:
    row = conn.execute("SELECT /* pgtune */ coalesce((SELECT pg_catalog.split_part(o, '=', 2)::int "
                       "FROM pg_catalog.unnest(c.reloptions) AS o WHERE o LIKE 'fillfactor=%%'), 100) "
                       "FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace "
                       "WHERE n.nspname = %s AND c.relname = %s", table).fetchone()
    return int(row[0]) if row else 100


def _bounded(conn: psycopg.Connection[Any], lock_timeout: str) -> None:
    conn.execute(sql.SQL("SET /* pgtune */ LOCAL statement_timeout = {}").format(sql.Literal(SAMPLE_TIMEOUT_MS)))
    conn.execute(sql.SQL("SET /* pgtune */ LOCAL lock_timeout = {}").format(sql.Literal(lock_timeout)))


Run = tuple[list[tuple[float, float, bool] | None], int, list[str]]


def _agreed(conn: psycopg.Connection[Any], catalog: Catalog, table: TableKey, name: str, key: IndexKey,
            method: IndexMethod, extension: str | None, statements: list[Planned], share: float,
            expected: list[dict[str, float] | None]) -> Run:
    """The sample's plans, ANALYZEd once more where a scan's rows there are not the table's (``expected``).

    ANALYZE reads a random 30,000 rows: a searched value that lands in the
    sample's histogram (or misses the MCV list the table's has) is expected
    on 600 rows instead of 6, and the plans there price another regime (a
    GIN costed at 2x that is 40x on the table, p32's trigram GIN the other
    way). A statement still apart after a second ANALYZE is not costed.
    """
    run = _plans(conn, catalog, table, name, key, method, extension, statements, share, expected)
    if run[2]:
        with conn.transaction():
            _bounded(conn, LOCK_TIMEOUT)
            conn.execute(sql.SQL("ANALYZE /* pgtune */ {}").format(sql.Identifier("pg_temp", name)))
        run = _plans(conn, catalog, table, name, key, method, extension, statements, share, expected)
    return run


def _plans(conn: psycopg.Connection[Any], catalog: Catalog, table: TableKey, name: str, key: IndexKey,
           method: IndexMethod, extension: str | None, statements: list[Planned], share: float,
           expected: list[dict[str, float] | None]) -> Run:
    """(cost on the sample without, with, the plan uses it) per statement, the sample index's size, and how the
    statements whose scans' rows there are not the table's (left out: None) are apart."""
    texts = [_on_sample(catalog, table, name, st, share) for st in statements]
    with conn.transaction(force_rollback=True):
        _bounded(conn, LOCK_TIMEOUT)
        security_views(conn, sql.Identifier("pg_temp", name), table, name, statements)
        if extension is not None:
            key = opclass_with_extension(conn, key, extension)
        before = [_cost(conn, t, st, None, name) if t else None for t, st in zip(texts, statements, strict=True)]
        index = f"{name}_idx"
        conn.execute(ddl.create_index("pg_temp", name, index, (key,), concurrently=False, method=method))
        size = conn.execute("SELECT /* pgtune */ pg_catalog.pg_relation_size(%s::regclass)",
                            (ddl.qualified("pg_temp", index),)).fetchone()
        after = [_cost(conn, t, st, index, name) if t else None for t, st in zip(texts, statements, strict=True)]
    out: list[tuple[float, float, bool] | None] = []
    apart: list[str] = []
    for b, a, e in zip(before, after, expected, strict=True):
        off = _apart(b[2], e, share) if b is not None and e is not None else None
        if off is not None:
            apart.append(off)
        out.append((b[0], a[0], a[1]) if b is not None and a is not None and off is None else None)
    return out, int(size[0]) if size else 0, apart


def _scanned(plan: dict[str, Any], relation: str) -> dict[str, float]:
    """Each single scan of ``relation`` in ``plan``: its alias, and the rows the planner expects of it."""
    return {alias: rows for (rel, alias), rows in estimates.once(plan).items() if rel == relation}


def _apart(sample: dict[str, float], table: dict[str, float], share: float) -> str | None:
    """How a scan's rows on the sample, scaled by ``share``, are more than DISAGREE times the table's; else None.

    The planner expects at least one row of a scan: on the sample, one row or two are its floor, not an
    estimate (2/share on the table); a smaller estimate, on either side, counts as that floor.
    """
    for alias, rows in sample.items():
        if alias not in table:
            continue
        scaled, floor = rows / share, 2.0 / share
        low, high = sorted((max(scaled, floor), max(table[alias], floor)))
        if high > DISAGREE * low:
            return f"{scaled:,.0f} rows of {alias} where the table's plan expects {table[alias]:,.0f}"
    return None


def _plannable(catalog: Catalog, table: TableKey, name: str, statements: list[Planned]) -> bool:
    """Can some statement be planned on a sample of ``table`` (one that reads no other table)? A statement
    that does not print back counts as plannable: the build reports its error as before."""
    try:
        return any(_on_sample(catalog, table, name, st, 1.0) is not None for st in statements)
    except ParseFailed:
        return True


def _on_sample(catalog: Catalog, table: TableKey, name: str, st: Planned,
               share: float) -> tuple[str, dict[str, str | None]] | None:
    """The statement reading the sample instead of ``table``, its LIMIT scaled; None if it reads another table."""
    try:
        text, _n = prepare_text(st.query)
        top: Any = pglast.parse_sql(text)[0].stmt            # a fresh tree, changed here
    except (ValueError, pglast.parser.ParseError):
        return None
    values = dict(st.values)
    for node in walk(top):
        if not isinstance(node, ast.RangeVar):
            continue
        found = catalog.lookup(node.schemaname, node.relname or "", st.search_path)
        if found is None or found.key != table:
            return None                                     # another table, or a CTE/view name: not sampled
        if node.alias is None:
            node.alias = ast.Alias(aliasname=node.relname)  # "Post".title still names the sample's column
        # Under row security: the sample seen through a security-barrier view of the role's policy quals.
        node.schemaname, node.relname = "pg_temp", view_name(name, st.row_filter) if st.row_filter else name
    _unqualify(top, table)
    if isinstance(top, ast.SelectStmt):
        top.limitCount = _scaled(top.limitCount, values, share)
        top.limitOffset = _scaled(top.limitOffset, values, share)
    return printed(top), values


def _unqualify(top: Any, table: TableKey) -> None:
    """Column references through the table's schema ("public"."Post"."title", as Prisma writes them) → "Post".title.

    The sample stands in FROM as ``pg_temp.<sample> AS "Post"``; a reference
    through the real table's schema names a FROM entry that is no longer
    there (ERROR invalid reference to FROM-clause entry). Only references
    whose schema and table are the sampled table's change (a database name
    before them, which PostgreSQL allows, goes too).
    """
    schema, relname = table
    for node in walk(top):
        if not isinstance(node, ast.ColumnRef):
            continue
        fields = list(node.fields or ())
        if len(fields) < 3 or not all(isinstance(f, ast.String) for f in fields[-3:-1]):
            continue
        if (fields[-3].sval, fields[-2].sval) == (schema, relname):
            node.fields = (ast.String(sval=relname), fields[-1])


def _scaled(node: Any, values: dict[str, str | None], share: float) -> Any:
    """A LIMIT/OFFSET count times ``share`` (at least 1): the same share of the sample's rows."""
    if isinstance(node, ast.ParamRef) and values.get(f"${node.number}") is not None:
        raw = values[f"${node.number}"]
        if raw is not None and raw.isdigit():
            values[f"${node.number}"] = str(max(1, math.ceil(int(raw) * share)))
        return node
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.Integer) and node.val.ival is not None:
        return ast.A_Const(val=ast.Integer(ival=max(1, math.ceil(node.val.ival * share))))
    return node


def _cost(conn: psycopg.Connection[Any], planned_text: tuple[str, dict[str, str | None]], st: Planned,
          index: str | None, sample: str) -> tuple[float, bool, dict[str, float]] | None:
    """The plan's cost on the sample (values inlined through sql.Literal), whether it uses ``index``, and the
    rows it expects of each scan of the ``sample`` table."""
    text, values = planned_text
    try:
        query, left = inlined(conn, text, values)
    except ValueError:
        return None
    try:
        with conn.transaction():
            for step in PlanContext(search_path=st.context.search_path, settings=st.context.settings).steps(conn):
                conn.execute(step)
            plan = explain_json(conn, query, len(left))
    except psycopg.Error:
        if lost(conn):
            raise
        return None
    return float(plan["Total Cost"]), index is not None and index in index_names(plan), _scanned(plan, sample)


def _drop(conn: psycopg.Connection[Any], name: str) -> None:
    try:
        conn.execute(sql.SQL("DROP /* pgtune */ TABLE IF EXISTS {}").format(sql.Identifier("pg_temp", name)))
    except psycopg.Error:
        if lost(conn):
            raise


@dataclass(frozen=True)
class Race:
    """Σ calls x best-of-RUNS execution ms of the statements on a sample, with each of two indexes alone."""

    first_ms: float
    second_ms: float
    rows: int
    share: float


# Each index is built and timed PASSES times, the two alternately (first, second, first, second), ROUNDS runs
# a statement each time: run one after the other, a burst of load on a busy server hit one index's runs and
# not the other's (a BRIN timed 165 ms against the b-tree's 113 ms at load 7, where quiet runs had it faster).
PASSES = 2
ROUNDS = 3
RUNS = PASSES * ROUNDS


def race(conn: psycopg.Connection[Any], catalog: Catalog, table: TableKey, first: IndexBuild, second: IndexBuild,
         statements: list[Planned], companions: tuple[str, ...] = ()) -> Race | None:
    """Run the (read-only, fully valued) ``statements`` on a sample with ``first``, then with ``second``, built.

    Where the planner has a blind spot a real run settles it. Each index is
    built on the sample's temporary table in a rolled-back transaction; a
    BRIN's pages_per_range is scaled by the sample's share, so that it holds
    as many block ranges per share of the rows as it would on the table.
    None when a statement cannot run there (a join, a $n without a value).
    """
    if not conn.autocommit or any(_writes(conn, st) for st in statements):
        return None
    t = catalog.tables.get(table)
    if t is None or t.reltuples <= 0 or catalog.policed(table):     # as on_sample: no read under a policy
        return None
    per_row = max(t.size_bytes / t.reltuples, 1.0) if t.size_bytes else 100.0
    percent = min(100.0, 100.0 * min(t.reltuples, SAMPLE_ROWS, SAMPLE_BYTES / per_row) / t.reltuples)
    if why_no_temporary(conn) is not None:
        return None
    name = f"pgtune_sample_{next(_names)}"
    try:
        rows = _copy(conn, sql.Identifier(*table), name, sql.SQL("SYSTEM ({})").format(
            sql.Literal(round(percent, 4))), _fillfactor(conn, table), companions)
        share = min(1.0, rows / t.reltuples)
        texts = [_on_sample(catalog, table, name, st, share) for st in statements]
        if not rows or any(x is None for x in texts):
            return None
        valued = [x for x in texts if x is not None]
        times: list[float | None] = [None, None]
        for _ in range(PASSES):
            for i, build in enumerate((first, second)):
                ms = _timed(conn, name, table, build, share, valued, statements)
                if ms is None:
                    return None
                known = times[i]
                times[i] = ms if known is None else min(ms, known)
    except (psycopg.Error, ParseFailed):
        if lost(conn):
            raise
        return None
    finally:
        if not lost(conn):
            _drop(conn, name)
    if times[0] is None or times[1] is None:
        return None
    return Race(times[0], times[1], rows, share)


@dataclass(frozen=True)
class IndexBuild:
    """An index to race: its keys and method (a BRIN's pages_per_range follows the sample)."""

    keys: tuple[IndexKey, ...]
    method: IndexMethod = IndexMethod.BTREE
    where: str | None = None
    include: tuple[str, ...] = ()


def _timed(conn: psycopg.Connection[Any], name: str, table: TableKey, build: IndexBuild, share: float,
           texts: list[tuple[str, dict[str, str | None]]], statements: list[Planned]) -> float | None:
    """Σ calls x the best of ROUNDS runs of each statement on the sample with ``build`` built; None if unused."""
    index = f"{name}_race"
    with conn.transaction(force_rollback=True):
        _bounded(conn, LOCK_TIMEOUT)
        security_views(conn, sql.Identifier("pg_temp", name), table, name, statements)
        stmt = ddl.create_index("pg_temp", name, index, build.keys, concurrently=False, method=build.method,
                                where=build.where, include=build.include)
        if build.method == IndexMethod.BRIN:
            stmt += sql.SQL(" WITH (pages_per_range = {})").format(
                sql.Literal(max(1, round(128 * share)))).as_string(conn)
        conn.execute(stmt)
        total = 0.0
        for (text, values), st in zip(texts, statements, strict=True):
            query, left = inlined(conn, text, values)
            if left:
                return None
            best = None
            for _ in range(ROUNDS):
                plan = _analyzed(conn, query, st)
                if index not in index_names(plan["Plan"]):
                    return None
                best = min(best if best is not None else float("inf"), float(plan["Execution Time"]))
            total += st.calls * (best or 0.0)
    return total


def _analyzed(conn: psycopg.Connection[Any], query: str, st: Planned) -> dict[str, Any]:
    """EXPLAIN (ANALYZE) of a read-only statement on the sample, in its own rolled-back subtransaction."""
    with conn.transaction(force_rollback=True):
        for step in PlanContext(search_path=st.context.search_path, settings=st.context.settings).steps(conn):
            conn.execute(step)
        row = conn.execute(f"EXPLAIN /* pgtune */ (ANALYZE, FORMAT JSON) {query}", prepare=False).fetchone()
    assert row is not None
    doc: dict[str, Any] = row[0][0]
    return doc


def _writes(conn: psycopg.Connection[Any], st: Planned) -> bool:
    """Could running the statement write anything (readonly: a SELECT calling only read-only functions)?"""
    try:
        return why_not_read_only(conn, prepare_text(st.query)[0], search_path=st.context.search_path) is not None
    except (ValueError, psycopg.Error):
        if lost(conn):
            raise
        return True
