"""Extended statistics: where the planner misestimates a filter on correlated columns, CREATE STATISTICS.

The planner multiplies the selectivities of ``"tenantId" = 7`` and
``"projectId" = 7003`` as if the columns were independent; when the project
decides the tenant, it expects 1 row where 600 come back, and a nested loop
it chose for one row runs 600 times. ``CREATE STATISTICS (dependencies, mcv)``
on the two columns, then ANALYZE, teaches it the columns move together: no
index is needed.

For each costly statement filtering two or more columns of one table (with
the values it is planned with), pgtune compares the planner's row estimate
for those filters with a count over a bounded, read-only sample of the table
(TABLESAMPLE SYSTEM, about SAMPLE_ROWS rows). Where they are MISESTIMATE
apart, it tries the kinds in a transaction that is always rolled back: first
ANALYZE alone (stale statistics are not this problem), then each kind set;
the first whose estimate comes within FIXED of the count is proposed, with
the estimates before and after and each served statement's plan before and
after. A proposal needs a plan that changes: an estimate no plan depends on
is left alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg
from psycopg import sql

from .. import catalog_sql, ddl
from .._text import error_text, statement_named
from ..capture import Catalog, TableKey
from ..connect import lost
from ..explain import PlanContext, inlined, prepare_text
from ..readonly import why_not_read_only
from ..sqltext import parse_one, printed
from . import written
from .filters import TableFilter, table_filters
from .scenarios import ParamValue, ValueSource

MISESTIMATE = 10.0          # the planner's rows and the sampled count this far apart (either way)
FIXED = 3.0                 # a trial's estimate this close to the count fixes it
SAMPLE_ROWS = 100_000       # the sample count reads about this many rows
MIN_MATCHES = 20            # sampled rows that must match before an underestimate is trusted
MAX_STATEMENTS = 25         # the costliest statements with a filter on two columns or more are checked
KIND_TRIALS: tuple[tuple[str, ...], ...] = ((), ("dependencies",), ("mcv",), ("dependencies", "mcv"))
TIMEOUT_MS = 10_000         # each sample count, each trial step
MAX_COLUMNS = 4             # a trial's columns at most: ANALYZE computes a dependency per column and subset


@dataclass(frozen=True)
class Planned:
    """A statement of the workload as the advisor planned it: text, values, the session it runs in."""

    query: str
    queryid: int | None
    calls: int
    values: dict[str, str | None]
    context: PlanContext = field(default_factory=PlanContext)
    cost: float = 0.0                 # calls x cost before, to check the costliest first
    search_path: tuple[str, ...] | None = None
    row_filter: tuple[str, ...] = ()  # row security's quals on the table a sample stands in for (sample_cost)
    written: dict[str, str] = field(default_factory=dict)   # $n -> a key expression's constant (analyze.written)


@dataclass
class StatisticsProposal:
    """CREATE STATISTICS on ``columns`` of a table, and the evidence: estimates and plans before and after."""

    schema: str
    table: str
    name: str
    columns: list[str]
    kinds: list[str]
    create: str
    drop: str
    analyze: str
    filter: str                       # the filters misestimated, with the values they were checked with
    estimate_before: float
    estimate_after: float
    sampled_rows: float               # the count the sample extrapolates to
    sample_share: float               # the share of the table the sample read
    queries: list[int | None] = field(default_factory=list)   # queryids of the statements whose plan changes
    plans_before: list[str] = field(default_factory=list)     # per statement: its plan's nodes, top down
    plans_after: list[str] = field(default_factory=list)
    costs_before: list[float] = field(default_factory=list)
    costs_after: list[float] = field(default_factory=list)
    reason: str = ""


@dataclass
class _Case:
    """One misestimated filter, and the statements it appears in."""

    filter: TableFilter
    probe: str                        # SELECT 1 FROM table WHERE filters, values inlined
    estimate: float
    count: float
    share: float
    search_path: tuple[str, ...] | None = None   # the statement's role's: its casts and functions resolve there
    statements: list[Planned] = field(default_factory=list)


class _Analyzed(Protocol):
    """What the advisor knows of a statement (advisor.AnalyzedStatement), as read here."""

    query: str
    queryid: int | None
    calls: int
    values: dict[str, str | None]
    cost_before: float | None
    mean_ms: float
    role: str | None
    search_path: list[str]
    params: list[ParamValue]

    @property
    def context(self) -> PlanContext: ...


def planned(statements: Sequence[_Analyzed]) -> list[Planned]:
    """The advisor's statements with the values of their main scenario, costliest first."""
    return [Planned(s.query, s.queryid, s.calls, dict(s.values), s.context,
                    s.calls * (s.cost_before if s.cost_before is not None else s.mean_ms),
                    tuple(s.search_path) if s.role is not None else None,
                    written={p.param: written.literal(p.value) for p in s.params
                             if p.source == ValueSource.EXAMPLE and p.value is not None}) for s in statements]


def propose(conn: psycopg.Connection[Any], catalog: Catalog, statements: list[Planned]) -> tuple[
        list[StatisticsProposal], list[str]]:
    """Statistics proposals for the workload, and notes on what could not be checked."""
    notes: list[str] = []
    cases = _misestimates(conn, catalog, statements, notes)
    existing = _existing(conn)
    out = []
    # p29: a hot standby refuses the trial's ANALYZE (an ERROR in its log each suggest): not tried there.
    standby = bool(cases) and conn.execute("SELECT /* pgtune */ pg_catalog.pg_is_in_recovery()").fetchone() == (True,)
    for case in cases:
        columns = tuple(sorted(case.filter.columns))
        if (case.filter.table, columns) in existing:
            notes.append(f"{ddl.qualified(*case.filter.table)} ({', '.join(columns)}): extended statistics exist "
                         f"and the estimate is still {_off(case)} off")
            continue
        if standby:
            notes.append(f"extended statistics on {ddl.qualified(*case.filter.table)} not tried: this server is a "
                         "hot standby, where CREATE STATISTICS and ANALYZE cannot run: run suggest on the primary, "
                         "with this server's workload by --workload-dsn")
            continue
        if len(columns) > MAX_COLUMNS:
            notes.append(_too_many(case.filter.table, columns))
            continue
        owned = conn.execute(catalog_sql.load("table_owned"),
                             {"schema": case.filter.table[0], "table": case.filter.table[1]}).fetchone()
        if not (owned and owned[0]):
            notes.append(f"extended statistics on {ddl.qualified(*case.filter.table)} not tried: pgtune's role does "
                         "not own the table (CREATE STATISTICS and ANALYZE need its owner)")
            continue
        try:
            found = _trial(conn, case)
        except psycopg.Error as exc:
            if lost(conn):
                raise
            notes.append(f"extended statistics on {ddl.qualified(*case.filter.table)} not tried: {error_text(exc)}")
            continue
        if isinstance(found, str):
            notes.append(found)
        elif found is not None:
            out.append(found)
    return out, notes


def _too_many(table: TableKey, columns: tuple[str, ...]) -> str:
    """Not tried on more than MAX_COLUMNS columns (p34, OpenPanel-shaped: an UPDATE's filter on 6 columns of a
    300,000-row table; ANALYZE with their dependency statistics took 40 s on a loaded 2-core server, the trial's
    10 s statement_timeout cancelled it, an ERROR line in the server's log each suggest, 11 s spent for nothing)."""
    n = len(columns)
    deps = sum(math.comb(n, k) * k for k in range(2, n + 1))
    return (f"extended statistics on {ddl.qualified(*table)} ({', '.join(columns)}) not tried: {n} columns, whose "
            f"functional dependencies alone are {deps} for ANALYZE to compute over its sample (minutes on a large "
            f"table); pgtune tries at most {MAX_COLUMNS}: CREATE STATISTICS on the two or three of them whose values "
            "go together, by hand")


def _off(case: _Case) -> str:
    return f"{max(case.count, 1) / max(case.estimate, 1):.0f}x" if case.count >= case.estimate else \
        f"{max(case.estimate, 1) / max(case.count, 1):.0f}x"


def _misestimates(conn: psycopg.Connection[Any], catalog: Catalog, statements: list[Planned],
                  notes: list[str]) -> list[_Case]:
    """The filters on two or more columns whose estimate and sampled count are MISESTIMATE apart."""
    cases: dict[tuple[TableKey, str], _Case] = {}
    checked = 0
    for st in sorted(statements, key=lambda s: -s.cost):
        if checked >= MAX_STATEMENTS:
            break
        try:
            text, _n = prepare_text(st.query)
        except ValueError:
            continue
        # Only filters on two columns or more are read: the others are never printed (min_columns).
        filters = [f for f in table_filters(text, catalog, st.search_path, min_columns=2)
                   if len(f.columns) >= 2 and all(f"${p}" in st.values for p in f.params)
                   and _plain(catalog, f.table)]
        if filters:
            checked += 1
        for f in filters:
            probe = _probe(conn, f, st.values, st.search_path)
            if probe is None:
                continue
            key = (f.table, probe)
            if key not in cases:
                case = _measure(conn, catalog, f, probe, st.values, notes, st.search_path)
                if case is None:
                    continue
                cases[key] = case
            cases[key].statements.append(st)
    return [c for c in cases.values() if _misestimated(c)]


def _plain(catalog: Catalog, key: TableKey) -> bool:
    """An ordinary table with rows (a partitioned table's statistics come from another ANALYZE)."""
    t = catalog.tables.get(key)
    return t is not None and not t.partitioned and t.reltuples > 0


def _probe(conn: psycopg.Connection[Any], f: TableFilter, values: dict[str, str | None],
           path: tuple[str, ...] | None) -> str | None:
    """``SELECT 1 FROM table WHERE filters`` with the values inlined (sql.Literal), or None when unsafe.

    ``path``: the statement's search_path, which the filters' casts and functions resolve with (an application
    role's ``CAST($1 AS "Status")`` names its schema's enum): checked read-only, and run, with it.
    """
    text = f"SELECT 1 FROM {ddl.qualified(*f.table)} WHERE {f.sql}"
    try:
        probe, left = inlined(conn, text, values)
    except ValueError:
        return None
    if left or why_not_read_only(conn, probe, search_path=path) is not None:
        return None        # a $n without a value, or code that is not PostgreSQL's own: never executed
    return probe


def _measure(conn: psycopg.Connection[Any], catalog: Catalog, f: TableFilter, probe: str,
             values: dict[str, str | None], notes: list[str], path: tuple[str, ...] | None) -> _Case | None:
    table = catalog.tables[f.table]
    share = min(1.0, SAMPLE_ROWS / max(table.reltuples, 1.0))
    try:
        estimate = _estimate(conn, probe, path)
        matched, read = _count(conn, f, values, share, path)
    except psycopg.Error as exc:
        if lost(conn):
            raise
        notes.append(f"{ddl.qualified(*f.table)} ({', '.join(f.columns)}): not sampled: {error_text(exc)}")
        return None
    count = float(matched) if share >= 1.0 else (matched / read * table.reltuples if read else 0.0)
    return _Case(f, probe, estimate, count, share, path)


def _misestimated(case: _Case) -> bool:
    matched = case.count * case.share
    if case.count >= case.estimate * MISESTIMATE:
        return matched >= MIN_MATCHES or case.share >= 1.0
    # Too many expected: the sample must have had the chance to see them.
    return case.estimate >= case.count * MISESTIMATE and case.estimate * case.share >= MIN_MATCHES


def _in_path(conn: psycopg.Connection[Any], path: tuple[str, ...] | None) -> None:
    """The open transaction resolves names with ``path`` (None: this session's), until it ends."""
    if path is not None:
        conn.execute("SELECT /* pgtune */ pg_catalog.set_config('search_path', %s, true)",
                     (", ".join(sql.Identifier(s).as_string(conn) for s in path),))


def _estimate(conn: psycopg.Connection[Any], probe: str, path: tuple[str, ...] | None) -> float:
    """The planner's rows for the probe (the top node: a Gather counts its workers' rows)."""
    with conn.transaction(force_rollback=True):
        conn.execute("SET /* pgtune */ TRANSACTION READ ONLY")
        _in_path(conn, path)
        conn.execute(sql.SQL("SET /* pgtune */ LOCAL statement_timeout = {}").format(sql.Literal(TIMEOUT_MS)))
        return float(_explain(conn, probe)["Plan"]["Plan Rows"])


def _explain(conn: psycopg.Connection[Any], text: str) -> dict[str, Any]:
    """EXPLAIN (FORMAT JSON) of one statement, alone in its query string (pipeline: extended protocol)."""
    with conn.pipeline(), conn.cursor() as cur:
        cur.execute(f"EXPLAIN /* pgtune */ (FORMAT JSON) {text}", prepare=False)
        row = cur.fetchone()
    assert row is not None
    doc = row[0]
    plan: dict[str, Any] = doc[0]
    return plan


def _count(conn: psycopg.Connection[Any], f: TableFilter, values: dict[str, str | None],
           share: float, path: tuple[str, ...] | None) -> tuple[int, int]:
    """(rows matching the filters, rows read) in a TABLESAMPLE SYSTEM of ``share`` of the table's pages."""
    sampling = f" TABLESAMPLE SYSTEM ({share * 100:.4f}) REPEATABLE (7)" if share < 1.0 else ""
    text, _left = inlined(conn, f"SELECT count(*) FILTER (WHERE {f.sql}), count(*) FROM {ddl.qualified(*f.table)}"
                          f"{sampling}", values)
    with conn.transaction(force_rollback=True):
        conn.execute("SET /* pgtune */ TRANSACTION READ ONLY")
        _in_path(conn, path)
        conn.execute(sql.SQL("SET /* pgtune */ LOCAL statement_timeout = {}").format(sql.Literal(TIMEOUT_MS)))
        with conn.pipeline(), conn.cursor() as cur:
            cur.execute(f"{text} /* pgtune */", prepare=False)
            row = cur.fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _existing(conn: psycopg.Connection[Any]) -> set[tuple[TableKey, tuple[str, ...]]]:
    """(table, sorted columns) of every extended statistics object there is."""
    with catalog_sql.uncompiled(conn):
        rows = conn.execute(catalog_sql.load("extended_statistics")).fetchall()
    return {((r[0], r[1]), tuple(sorted(r[2]))) for r in rows}


@dataclass(frozen=True)
class _Plan:
    shape: str
    cost: float
    stops_early: str | None = None     # the scan a LIMIT stops once enough rows pass its Filter (_stops_early)


def _trial(conn: psycopg.Connection[Any], case: _Case) -> StatisticsProposal | str | None:
    """Create each kind set in a savepoint of one transaction that is always rolled back; the first that fixes
    the estimate, with the plans it changes, is the proposal (ANALYZE alone first: stale statistics are not
    this problem)."""
    schema, table = case.filter.table
    columns = list(case.filter.columns)
    trial = ddl.identifier(["pgtune_trial", table, *columns])
    analyze = sql.SQL("ANALYZE /* pgtune */ {} ({})").format(
        sql.Identifier(schema, table), sql.SQL(", ").join(sql.Identifier(c) for c in columns))
    with conn.transaction(force_rollback=True):
        conn.execute("SET /* pgtune */ LOCAL lock_timeout = '1s'")
        conn.execute(sql.SQL("SET /* pgtune */ LOCAL statement_timeout = {}").format(sql.Literal(TIMEOUT_MS)))
        before = [_statement_plan(conn, st) for st in case.statements]
        _in_path(conn, case.search_path)     # for the probe's EXPLAINs below (each statement's plan sets its own)
        for kinds in KIND_TRIALS:
            with conn.transaction(force_rollback=True):
                if kinds:
                    conn.execute(ddl.create_statistics(schema, trial, kinds, schema, table, columns))
                conn.execute(analyze)
                estimate = float(_explain(conn, case.probe)["Plan"]["Plan Rows"])
                if not _close(estimate, case.count):
                    continue
                if not kinds:
                    return None        # a fresh ANALYZE alone fixes it: stale statistics (health says so)
                after = [_statement_plan(conn, st) for st in case.statements]
                return _proposal(case, list(kinds), estimate, before, after)
    return None


def _where(probe: str) -> str:
    """The probe's filters, with their values: what the reason shows."""
    node: Any = parse_one(probe)
    return printed(node.whereClause)


def _close(estimate: float, count: float) -> bool:
    return max(estimate, 1.0) / max(count, 1.0) <= FIXED and max(count, 1.0) / max(estimate, 1.0) <= FIXED


def _statement_plan(conn: psycopg.Connection[Any], st: Planned) -> _Plan | None:
    """The statement's plan with its values inlined, in its session (search_path, role), in a savepoint."""
    try:
        text, left = inlined(conn, prepare_text(st.query)[0], st.values)
    except ValueError:
        return None
    if left:
        return None
    with conn.transaction(force_rollback=True):
        for step in st.context.steps(conn):
            conn.execute(step)
        plan = _explain(conn, text)
    return _Plan(_shape(plan["Plan"]), float(plan["Plan"]["Total Cost"]), _stops_early(plan["Plan"]))


# Nodes that read all their input before giving a row: a LIMIT above them cannot stop the scan below early.
_BLOCKING = {"Sort", "Hash", "Materialize", "SetOp", "WindowAgg"}


def _stops_early(node: dict[str, Any], limited: bool = False) -> str | None:
    """The scan (``Index Scan using x on t``) a LIMIT stops as soon as enough of its rows pass a Filter, or None.

    Such a plan is cheap only if the rows that pass come early in the scan's order; the planner assumes they are
    spread evenly, which no statistics say. A corrected (larger) estimate that brings one in is the classic
    LIMIT trap: p18's Cal.com-shaped upcoming bookings, 3.08 -> 319 ms after CREATE STATISTICS and ANALYZE,
    reading Booking in "startTime" order where one user's rows came last.
    """
    kind = str(node.get("Node Type", ""))
    streams = kind not in _BLOCKING and (kind != "Aggregate" or node.get("Strategy") == "Sorted")
    limited = kind == "Limit" or (limited and streams)
    if limited and kind in ("Index Scan", "Index Only Scan", "Seq Scan") and "Filter" in node:
        return _shape({k: v for k, v in node.items() if k != "Plans"})
    children = node.get("Plans", ())
    # Only the outer input streams (a join's inner side is read per outer row or hashed in full).
    found = _stops_early(children[0], limited) if children else None
    return found or next((f for c in children[1:] if (f := _stops_early(c)) is not None), None)


def _shape(node: dict[str, Any]) -> str:
    """A plan's nodes top down, ``Nested Loop > Index Scan using x on t > Seq Scan on u``."""
    label = str(node.get("Node Type", "?"))
    if "Index Name" in node:
        label += f" using {node['Index Name']}"
    if "Relation Name" in node:
        label += f" on {node['Relation Name']}"
    return " > ".join([label, *(_shape(child) for child in node.get("Plans", ()))])


def _proposal(case: _Case, kinds: list[str], estimate: float, before: list[_Plan | None],
              after: list[_Plan | None]) -> StatisticsProposal | str | None:
    """The proposal, or why it is not made (a plan it brings in stops a scan early on a filter: _stops_early)."""
    changed = [(st, b, a) for st, b, a in zip(case.statements, before, after, strict=True)
               if b is not None and a is not None and b.shape != a.shape]
    if not changed:
        return None
    trap = next(((st, a.stops_early) for st, b, a in changed if a.stops_early and b.stops_early != a.stops_early),
                None)
    if trap is not None:
        return (f"extended statistics on {ddl.qualified(*case.filter.table)} ({', '.join(case.filter.columns)}) "
                f"not proposed: they fix the estimate ({case.estimate:,.0f} -> {estimate:,.0f} rows, about "
                f"{case.count:,.0f} counted), but with them {statement_named(trap[0].query, trap[0].queryid)} "
                f"would stop its {trap[1]} at its LIMIT once enough rows pass the scan's filter: fast only if those "
                "rows come early in the scan's order, which the planner assumes and no statistics say")
    schema, table = case.filter.table
    columns = list(case.filter.columns)
    name = ddl.identifier([table, *columns, "stats"])
    sampled = "counted" if case.share >= 1.0 else f"a {case.share:.1%} sample counts about"
    reason = (f"the planner expects {case.estimate:,.0f} rows where {_where(case.probe)} and {sampled} "
              f"{case.count:,.0f} ({_off(case)} off): it multiplies the columns' selectivities as if they were "
              f"independent; with CREATE STATISTICS ({', '.join(kinds)}) it expects {estimate:,.0f}, and the plan "
              f"of {len(changed)} statement{'s' if len(changed) != 1 else ''} changes")
    return StatisticsProposal(
        schema=schema, table=table, name=name, columns=columns, kinds=kinds,
        create=ddl.create_statistics(schema, name, kinds, schema, table, columns),
        drop=ddl.drop_statistics(schema, name), analyze=ddl.analyze(schema, table), filter=case.probe,
        estimate_before=case.estimate, estimate_after=estimate, sampled_rows=case.count, sample_share=case.share,
        queries=[st.queryid for st, _b, _a in changed], plans_before=[b.shape for _st, b, _a in changed],
        plans_after=[a.shape for _st, _b, a in changed], costs_before=[b.cost for _st, b, _a in changed],
        costs_after=[a.cost for _st, _b, a in changed], reason=reason)
