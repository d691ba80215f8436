"""Which statements of the workload plan with given indexes: before health drops one, and for verify's guards.

The costliest GUARDED_STATEMENTS statements of pg_stat_statements are each
planned (EXPLAIN through pgtune's safe path, generic) in their role's
search_path, as suggest plans them: in pgtune's own, the application's
unqualified names do not resolve. A guard then gets the value scenarios
suggest would cost the same statement over (``valued``), so verify plans it
with values and ``--measure`` can time it (u2's R2: 0 of N timed before).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import psycopg
from pglast import ast

from .. import catalog_sql
from ..analyze import AnalyzedStatement, bind, in_function
from ..analyze import valued as analyze_valued
from ..capture import Catalog, Statement, WorkloadFilter, read_catalog, read_workload, tenant_paths
from ..connect import lost
from ..explain import PlanContext, explain
from ..roles import Roles, RoleView, read_roles
from ..snapshot import snapshot
from ..sqltext import ParseFailed, names, parse_one, walk

GUARDED_STATEMENTS = 200      # the costliest statements whose plans are read for an index to drop

IndexKey = tuple[str, str]    # (schema, index name)


@dataclass(frozen=True)
class UsedBy:
    """A statement of the workload whose plan uses some of the indexes asked about."""

    statement: Statement
    cost: float                        # its plan's cost, as planned now
    indexes: list[str]                 # the indexes asked about that its plan uses (their names)
    search_path: list[str] | None      # the role's search_path it was planned in (None: pgtune's own)
    keys: list[IndexKey]               # those indexes, by schema and name


def statements_using(conn: psycopg.Connection[Any], indexes: set[IndexKey]) -> list[UsedBy]:
    """The statements whose plan uses one of ``indexes`` ((schema, name) each).

    A plan names an index without its schema, and a schema per tenant holds indexes of the same name: each
    index a plan names is told by the table its scan reads, resolved as the statement names it (c20: tenant
    B's statement counted as using tenant A's index of its name).

    Raises what reading pg_stat_statements raises (PgtuneError, psycopg.Error):
    the caller decides what not knowing means.
    """
    workload = read_workload(conn, WorkloadFilter(top=GUARDED_STATEMENTS))
    row = conn.execute("SELECT /* pgtune */ pg_catalog.current_schemas(false)").fetchone()
    own = tuple(row[0]) if row else ("public",)
    roles = read_roles(conn, {st.userid for st in workload if st.userid is not None}, own)
    names = {name for _schema, name in indexes}
    homes: dict[str, list[tuple[str, str]]] = {}
    for r in conn.execute(catalog_sql.load("plan_index_homes"), {"names": sorted(names)}).fetchall():
        homes.setdefault(r[1], []).append((r[0], r[2]))
    # A function's or trigger's statement naming its variables cannot be planned alone (p19: an ERROR in the
    # server's log at each run, for no plan): the catalog is read for those only, where track = all lists them.
    catalog = read_catalog(conn) if any(st.nested for st in workload) else None
    readers = {r[0] for r in conn.execute(catalog_sql.load("plan_index_readers"), {"names": sorted(names)})}
    scanning = [st for st in workload if _may_scan(st.query, readers)]
    known = _relations(conn, scanning)
    catalog = _tenants_placed(conn, roles, catalog, scanning)
    out = []
    for st in scanning:
        if not _names_known(st.query, known) or (st.queryid is not None and st.queryid in roles.unplaced):
            continue        # reads a relation dropped since (p27: a migration's UPDATE … FROM "Document")
        view = roles.view(st.userid, st.queryid)
        if catalog is not None and st.nested and _names_variables(st, catalog, view):
            continue
        context = PlanContext(search_path=view.search_path) if view.role is not None else None
        try:
            # A JSON object's key $n is typed text: the server cannot infer it (p18, Prisma's relationJoins).
            plan = explain(conn, st.query, context=context)     # JSON object keys typed by Round
        except (ValueError, psycopg.Error):
            if lost(conn):
                raise
            continue        # utility statements, or ones that no longer plan
        if not plan.indexes & names:
            continue
        path = view.search_path if view.role is not None else own
        keys = sorted(_plan_keys(plan.plan.get("Plan", {}), st.query, path, homes) & indexes)
        if keys:
            out.append(UsedBy(st, plan.cost, sorted({name for _schema, name in keys}),
                              list(view.search_path) if view.role is not None else None, keys))
    return out


def _tenants_placed(conn: psycopg.Connection[Any], roles: Roles, catalog: Catalog | None,
                    workload: list[Statement]) -> Catalog | None:
    """A schema per tenant's statements bound to the tenant their queryid names (capture.tenant_paths); the
    catalog, read for it only where a role's sessions set several paths or its names are off its own (p30: each
    tenant's entry planned through one path, 27 ERROR lines 'relation does not exist' a health --emit, and
    the big tenants' uses of an index to drop unseen)."""
    if not tenant_paths.needed(conn, roles, workload):
        return catalog
    catalog = catalog if catalog is not None else read_catalog(conn)
    tenant_paths.place(conn, roles, catalog, workload)
    return catalog


def _plan_keys(plan: dict[str, Any], query: str, path: tuple[str, ...],
               homes: dict[str, list[tuple[str, str]]]) -> set[IndexKey]:
    """The (schema, name) of each index ``plan`` scans whose name is in ``homes`` (name -> its (schema, table)s).

    An index is on the table its scan node (a Bitmap Index Scan: the Bitmap Heap Scan above it) reads: of the
    schemas holding an index of the name on a table of that name, the one the statement names it with, else the
    first on ``path`` (the role's search_path); where neither tells, every one (a plan seen through a view)."""
    named: dict[str, set[str | None]] = {}
    try:
        for n in walk(parse_one(query)):
            if isinstance(n, ast.RangeVar) and n.relname:
                named.setdefault(n.relname, set()).add(n.schemaname)
    except ParseFailed:
        pass
    found: set[IndexKey] = set()
    stack: list[tuple[dict[str, Any], str | None]] = [(plan, None)]
    while stack:
        node, above = stack.pop()
        relation = node.get("Relation Name") or above
        name = node.get("Index Name")
        if name in homes:
            schemas = [s for s, t in homes[name] if relation is None or t == relation]
            found.update((s, name) for s in _schemas_of(schemas, named.get(relation or ""), path))
        stack.extend((child, relation if node.get("Node Type") == "Bitmap Heap Scan" or
                      node.get("Node Type") in ("BitmapAnd", "BitmapOr") else None)
                     for child in node.get("Plans", ()))
    return found


def _schemas_of(schemas: list[str], named: set[str | None] | None, path: tuple[str, ...]) -> list[str]:
    """Which of ``schemas`` (each holding the index and its table) the statement's reference reads."""
    if len(schemas) <= 1 or not named:
        return schemas
    out = [s for s in schemas if s in named]
    if None in named:
        out += [s for s in path if s in schemas][:1]
    return out or schemas


def _read_names(query: str) -> set[str] | None:
    """The relation names ``query``'s FROM, JOIN and target clauses give (its CTEs' own names left out)."""
    try:
        root = parse_one(query)
    except ParseFailed:
        return None
    ctes = {n.ctename for n in walk(root) if isinstance(n, ast.CommonTableExpr)}
    return {n.relname for n in walk(root) if isinstance(n, ast.RangeVar) and n.relname and n.relname not in ctes}


def _relations(conn: psycopg.Connection[Any], workload: list[Statement]) -> set[str]:
    """Of the relation names ``workload`` gives, those some schema has a relation of."""
    wanted = sorted({r for st in workload for r in (_read_names(st.query) or ())})
    rows = conn.execute("SELECT /* pgtune */ DISTINCT relname FROM pg_catalog.pg_class WHERE relname = ANY(%s)",
                        [wanted]).fetchall() if wanted else []
    return {r[0] for r in rows}


def _names_known(query: str, known: set[str]) -> bool:
    """Does every relation ``query`` names exist in some schema? One that exists in none (a table a migration
    dropped since pg_stat_statements counted the statement) makes its EXPLAIN an ERROR in the server's log, for
    no plan (p27: 9 a run of suggest --emit, from Documenso's Document-to-Envelope data migrations)."""
    found = _read_names(query)
    return found is None or found <= known


def _may_scan(query: str, readers: set[str]) -> bool:
    """Does ``query`` name a relation or function through which its plan may scan the indexes asked about?

    An INSERT's target is written, not scanned. A statement naming none (an INSERT's VALUES, a bulk load from
    a temporary table or from generate_series($1, $2)) was planned all the same: an ERROR in the server's log
    for each that no longer plans or cannot type its $n (p21: 10 per health run), for no plan of interest."""
    try:
        root = parse_one(query)
    except ParseFailed:
        return True
    written = {id(n.relation) for n in walk(root) if isinstance(n, ast.InsertStmt)}
    for n in walk(root):
        if isinstance(n, ast.RangeVar) and id(n) not in written and n.relname in readers:
            return True
        if isinstance(n, ast.FuncCall) and names(n.funcname)[-1:] and names(n.funcname)[-1] in readers:
            return True
    return False


def _names_variables(st: Statement, catalog: Catalog, view: RoleView) -> bool:
    """Does a nested statement name its function's variables (analyze.reasons.in_function)?"""
    try:
        shape = bind(st.query, catalog, view)
    except ParseFailed:
        return False
    columns = {c for t in shape.tables if t in catalog.tables for c in catalog.tables[t].columns}
    tables = {t[1] for t in shape.tables}
    if in_function(st, shape, columns, tables) is not None:
        return True
    # A trigger's NEW or OLD where the binder reads no filter (an INSERT's VALUES): a record, not a table.
    return any(isinstance(n, ast.ColumnRef) and len(n.fields or ()) > 1
               and names(n.fields)[0] in ("new", "old") and names(n.fields)[0] not in tables
               for n in walk(parse_one(st.query)))


StatementKey = tuple[int | None, str, int | None]      # queryid, text and the role that ran it (its userid)


def valued(conn: psycopg.Connection[Any]) -> dict[StatementKey, AnalyzedStatement]:
    """The costliest GUARDED_STATEMENTS statements valued as suggest values them ((queryid, query, userid) -> its
    record: value scenarios, session). Raises what reading the workload raises (PgtuneError, psycopg.Error).

    analyze.valued keys its records by text, where a schema per tenant's roles run the same unqualified text,
    each its own statement (with one queryid for all from PostgreSQL 18 on): every tenant's guard took the last
    tenant's record (role, search_path), and verify planned one tenant for all (r19). So the statements are
    valued in rounds that each hold a text once."""
    snap = snapshot(conn, WorkloadFilter(top=GUARDED_STATEMENTS))
    rounds: list[list[Statement]] = []
    seen: dict[str, int] = {}
    for st in snap.statements:
        n = seen[st.query] = seen.get(st.query, -1) + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(st)
    return {row.key: row for group in rounds
            for row in analyze_valued(conn, replace(snap, statements=group)).values()}
