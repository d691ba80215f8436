"""Parse a statement with pglast and bind every column reference to its table.

The output is the *shape* of a statement (analyze.shape): which columns of
which tables it filters by equality, range, LIKE prefix or NULL test, joins
on, sorts and groups by, per query block. Candidate generation reads only
this shape.

Binding follows the server's rules closely enough for index advice: aliases
shadow table names, CTE names shadow tables, unqualified columns resolve to the
one table in scope that has them (ambiguous ones stay unbound), correlated
subqueries see the outer scope (analyze.scope), and unqualified tables go
through search_path. This module walks the statement; what its filters ask is
analyze.predicates', the node helpers are analyze.exprs'.
"""

from __future__ import annotations

import copy
from typing import Any

from pglast import ast
from pglast.enums import CTEMaterialize, JoinType, SetOperation, SortByDir, SortByNulls

from ..capture import Catalog
from ..roles import RoleView, RowFilter
from ..sqltext import Failure, ParseFailed, StatementKind, expression, names, parse, parse_one, printed, seq, walk
from .exprs import normalize_expression, shallow, strip_cast
from .params import ParamKind, ParamUse, classify
from .predicates import ARRAY_OPS, Predicates
from .scope import Entry, Origin, Output, Scope
from .shape import EQ, FUNC, GROUP, JOIN, NULL, ORDER, OUTPUT, RANGE, STAR, ColumnUse, Conjunct, Role, Shape, Test

# What other modules and the tests import from here (the types live in analyze.shape).
__all__ = ["ARRAY_OPS", "EQ", "FUNC", "GROUP", "JOIN", "NULL", "ORDER", "OUTPUT", "RANGE", "STAR", "ColumnUse",
           "Conjunct", "ParseFailed", "Role", "Shape", "Test", "bind", "normalize_expression"]

MAX_VIEW_DEPTH = 16

# Schema changes are worth a line in "skipped"; session and maintenance chatter is not.
_DDL_PREFIXES = ("Create", "Alter", "Drop", "Rename", "Truncate", "Comment", "Grant", "Reindex", "Cluster")
_DDL = {"IndexStmt", "ViewStmt", "RuleStmt", "CompositeTypeStmt", "DefineStmt"}


def bind(sql: str, catalog: Catalog, view: RoleView | None = None) -> Shape:
    """Parse ``sql`` (one statement) and return its shape against ``catalog``.

    ``view``: the role that ran it; its search_path resolves the names, and the
    row security policies that apply to it filter the tables it reads (their
    USING is bound as part of the statement). None: pgtune's own session.
    """
    stmts = parse(sql)
    if len(stmts) != 1:
        raise ParseFailed(f"expected one statement, found {len(stmts)}")
    node: Any = stmts[0].stmt
    name = type(node).__name__
    if name in ("ExplainStmt", "PrepareStmt"):
        # An EXPLAIN stands for the statement it explains; a SQL-level PREPARE (drivers, poolers) for
        # its body, whose executions pg_stat_statements counts under the PREPARE's text.
        node = node.query
        name = type(node).__name__
    kinds = {"SelectStmt": StatementKind.SELECT, "UpdateStmt": StatementKind.UPDATE, "DeleteStmt": StatementKind.DELETE,
             "InsertStmt": StatementKind.INSERT}
    if name not in kinds:
        noise = not (name.startswith(_DDL_PREFIXES) or name in _DDL)
        raise ParseFailed(f"utility statement ({name}) is not index-tunable", noise=noise, kind=Failure.UTILITY)
    binder = _Binder(catalog, Shape(kind=kinds[name]), view)
    binder.top = node
    binder.statement(node, None)
    binder.shape.params.update(classify(node, binder.shape.params))
    return binder.shape


class _Binder(Predicates):
    """The statement walk: blocks, CTEs, FROM items (tables, views, subqueries), row security, the SELECT list."""

    def __init__(self, catalog: Catalog, shape: Shape, view: RoleView | None = None) -> None:
        super().__init__(shape)
        self.catalog = catalog
        self.view = view
        self.path = view.search_path if view is not None else None
        self.pending: list[tuple[Entry, RowFilter]] = []    # row filters of the FROM items seen, not yet bound
        self.views = 0           # view definitions expanded so far (a guard against runaway nesting)
        self.top: Any = None     # the statement itself (not one of its subqueries)

    # -- statements ---------------------------------------------------------

    def statement(self, node: Any, parent: Scope | None) -> Output:
        """Bind one statement; return what it outputs (for CTEs, subqueries and views)."""
        if isinstance(node, ast.SelectStmt):
            return self.select(node, parent)
        scope = Scope(parent=parent)
        self.with_clause(getattr(node, "withClause", None), scope, node)
        block = self._new_block()
        if isinstance(node, ast.InsertStmt):
            target: Any = node.relation
            if self.catalog.lookup(target.schemaname, target.relname, self.path) is None:
                self._temporary(target)
            if node.selectStmt is not None:
                self.statement(node.selectStmt, scope)
            return Output()
        mark = len(self.pending)
        self.range_var(node.relation, scope)
        extra = node.fromClause if isinstance(node, ast.UpdateStmt) else node.usingClause
        for item in extra or ():
            self.from_item(item, scope, block)
        self._row_filters(mark, scope, block)
        self.where(node.whereClause, scope, block)
        self.conjuncts(node.whereClause, scope, block)
        return Output()

    def select(self, node: ast.SelectStmt, parent: Scope | None) -> Output:
        if node.op is not None and node.op != SetOperation.SETOP_NONE:
            scope = Scope(parent=parent)
            self.with_clause(node.withClause, scope, node)
            left = self.statement(node.larg, scope)
            return left.union(self.statement(node.rarg, scope))    # its rows come from either side
        scope = Scope(parent=parent)
        self.with_clause(node.withClause, scope, node)
        block = self._new_block()
        mark = len(self.pending)
        for item in node.fromClause or ():
            self.from_item(item, scope, block)
        self._row_filters(mark, scope, block)
        self.where(node.whereClause, scope, block)
        self.conjuncts(node.whereClause, scope, block)
        self.where(node.havingClause, scope, block)
        for item in node.groupClause or ():
            if isinstance(item, ast.ColumnRef):
                self.use(item, scope, block, GROUP)
        for sort in node.sortClause or ():
            key = self._sort_key(node, sort.node)
            if isinstance(key, ast.ColumnRef):
                desc = sort.sortby_dir == SortByDir.SORTBY_DESC
                nulls = {SortByNulls.SORTBY_NULLS_FIRST: True, SortByNulls.SORTBY_NULLS_LAST: False}.get(
                    sort.sortby_nulls)
                self.use(key, scope, block, ORDER, descending=desc, nulls_first=nulls)
            elif node is self.top and key is not None and not isinstance(key, (ast.A_Const, ast.ParamRef)) \
                    and _index_may_sort(node, key):
                # name COLLATE "C", lower(name): no index key is made for it (p21: "the workload is already
                # served" was said of a tenant's 250,000 contacts sorted on each page).
                self.shape.unkeyed_sorts.append(printed(key))
        if node.limitCount is not None:
            self.shape.limited_blocks.add(block)
            limit = strip_cast(node.limitCount)
            if isinstance(limit, ast.ParamRef) and limit.number:
                # A LIMIT inside a subquery caps a count or a batch; the statement's own pages its rows.
                self.shape.params.setdefault(int(limit.number), ParamUse(None, "", "", kind=ParamKind.LIMIT,
                                                                         nested=node is not self.top))
        offset = strip_cast(node.limitOffset) if node.limitOffset is not None else None
        if isinstance(offset, ast.ParamRef) and offset.number:
            self.shape.params.setdefault(int(offset.number), ParamUse(None, "", "", kind=ParamKind.OFFSET))
        for target in node.targetList or ():
            self._targets(target.val, scope, block)
            # Subqueries in the target list still reach tables.
            self._sublinks(target, scope)
        return self._output(node, scope)

    @staticmethod
    def _sort_key(node: Any, key: Any) -> Any:
        """``ORDER BY 2`` and ``ORDER BY <output alias>`` stand for the select-list entry they name."""
        targets = seq(node.targetList)
        if isinstance(key, ast.A_Const) and isinstance(key.val, ast.Integer):
            n = int(key.val.ival or 0)
            return targets[n - 1].val if 1 <= n <= len(targets) else None
        if isinstance(key, ast.ColumnRef) and len(seq(key.fields)) == 1:
            name = names(key.fields)[:1]
            for t in targets:
                if name and t.name == name[0]:
                    return t.val       # the server matches an output name before an input column
        return key

    def _targets(self, val: Any, scope: Scope, block: int) -> None:
        """Columns the SELECT list reads: what an index-only scan would have to carry."""
        for n in shallow(val):
            if not isinstance(n, ast.ColumnRef):
                continue
            if isinstance(seq(n.fields)[-1], ast.A_Star):
                qual = names(seq(n.fields)[:-1])
                for e in scope.entries:
                    if e.table is not None and (not qual or e.alias == qual[-1]):
                        self._record(e, "*", STAR, block)
            else:
                self.use(n, scope, block, OUTPUT)

    def with_clause(self, clause: Any, scope: Scope, body: Any) -> None:
        for cte in (clause.ctes if clause is not None else ()) or ():
            out = self.statement(cte.ctequery, scope)
            if cte.aliascolnames:
                out = out.renamed(list(names(cte.aliascolnames)))
            if _materialized(clause, cte, body):
                out = Output(out.columns)     # computed first: an outer filter is not pushed into it
            scope.ctes[cte.ctename] = out

    def _output(self, node: Any, scope: Scope) -> Output:
        """Output column names, and the base column behind each plain (possibly renamed) column."""
        out: set[str] = set()
        origin: Origin = {}
        order: list[str | None] | None = []
        for target in node.targetList or ():
            val = target.val
            if isinstance(val, ast.ColumnRef) and isinstance(seq(val.fields)[-1], ast.A_Star):
                order = None        # the columns' positions are the table's: not known here
                qual = names(seq(val.fields)[:-1])
                for e in scope.entries:
                    if qual and e.alias != qual[-1]:
                        continue
                    out |= e.columns
                    if e.table is not None:
                        origin.update({c: ((e.table, c, e.alias),) for c in e.columns})
                    else:
                        origin.update(e.origin)
                continue
            name = target.name or (names(val.fields)[-1] if isinstance(val, ast.ColumnRef) else None)
            if order is not None:
                order.append(name)
            if name is None:
                continue
            out.add(name)
            hit = scope.resolve(names(val.fields)) if isinstance(val, ast.ColumnRef) else None
            if hit is not None:
                entry, col = hit
                if entry.table is not None:
                    origin[name] = ((entry.table, col, entry.alias),)
                elif col in entry.origin:
                    origin[name] = entry.origin[col]
        return Output(frozenset(out), origin, tuple(order) if order is not None else None)

    # -- FROM -----------------------------------------------------------------

    def from_item(self, item: Any, scope: Scope, block: int) -> None:
        if isinstance(item, ast.RangeVar):
            self.range_var(item, scope)
        elif isinstance(item, ast.JoinExpr):
            self.from_item(item.larg, scope, block)
            self.from_item(item.rarg, scope, block)
            self.where(item.quals, scope, block)
            if item.jointype == JoinType.JOIN_INNER:
                self.conjuncts(item.quals, scope, block)
            for col in names(item.usingClause):
                # USING (c): both sides' c are join keys.
                for e in scope.entries:
                    if e.table is not None and col in e.columns:
                        self._record(e, col, JOIN, block)
        elif isinstance(item, ast.RangeSubselect):
            out = self.statement(item.subquery, scope if item.lateral else scope.parent)
            alias = (item.alias.aliasname or "?subquery") if item.alias else "?subquery"
            if item.alias and item.alias.colnames:
                out = out.renamed(list(names(item.alias.colnames)))
            scope.entries.append(Entry(alias, None, out.columns, out.origin))
        elif isinstance(item, ast.RangeTableSample):
            self.from_item(item.relation, scope, block)      # the table read, though no index serves a sample
        elif isinstance(item, ast.RangeFunction):
            scope.entries.append(function_entry(item))

    def range_var(self, rv: Any, scope: Scope) -> None:
        alias = rv.alias.aliasname if rv.alias else rv.relname
        if rv.schemaname is None:
            cte = scope.cte(rv.relname)
            if cte is not None:
                scope.entries.append(Entry(alias, None, cte.columns, cte.origin))
                return
        table = self.catalog.lookup(rv.schemaname, rv.relname, self.path)
        view = self.catalog.lookup_view(rv.schemaname, rv.relname, self.path) if table is None else None
        if view is not None and self.views < MAX_VIEW_DEPTH:
            # A view is a subquery the catalog keeps: bind its definition, map its columns to base columns.
            self.views += 1
            try:
                out = self.statement(parse_one(view), None)
            except ParseFailed:
                out = Output()
            scope.entries.append(Entry(alias, None, out.columns, out.origin))
            return
        if table is None:
            scope.entries.append(Entry(alias, None, frozenset()))
            if system_relation(rv.schemaname, rv.relname):
                self.shape.system.append(rv.relname)
            elif not self._temporary(rv):
                self.shape.unbound.append(rv.relname)
                remote = self.catalog.lookup_foreign(rv.schemaname, rv.relname, self.path)
                if remote is not None:
                    self.shape.foreign += (remote,)
            return
        self.shape.tables.add(table.key)
        entry = Entry(alias, table, frozenset(table.columns))
        scope.entries.append(entry)
        found = self.view.row_filter(table.key, self.shape.kind) if self.view is not None else None
        if found is not None:
            self.pending.append((entry, found))

    def _row_filters(self, mark: int, scope: Scope, block: int) -> None:
        """Bind the row security filters of this block's FROM items as filters of the block.

        A policy's USING is part of every statement its role runs on the table:
        ``"tenantId" = current_setting('app.tenant')::int`` is an equality on
        "tenantId" like one the statement wrote itself.
        """
        taken, self.pending = self.pending[mark:], self.pending[:mark]
        for entry, found in taken:
            self.shape.row_filters.append(found)
            for text in found.expressions:
                try:
                    # A copy: expression() hands out a piece of parse()'s cached tree, and the loop below
                    # qualifies its columns with this statement's alias (u5: every later reader saw ``d."userId"``).
                    expr = copy.deepcopy(expression(text))
                except ParseFailed:
                    continue
                for n in walk(expr, subqueries=False):
                    if isinstance(n, ast.ColumnRef) and len(seq(n.fields)) == 1 \
                            and not isinstance(seq(n.fields)[0], ast.A_Star):
                        n.fields = (ast.String(sval=entry.alias), *seq(n.fields))   # the policy's table here
                self.in_policy = True
                try:
                    self.where(expr, scope, block)
                finally:
                    self.in_policy = False

    def _temporary(self, rv: Any) -> bool:
        """Record ``rv`` when it names a temporary table (not index-tunable: it lives in one session)."""
        if self.catalog.is_temporary(rv.schemaname, rv.relname):
            self.shape.temporary.append(rv.relname)
            return True
        return False

    def _new_block(self) -> int:
        self.blocks += 1
        return self.blocks


def _materialized(clause: Any, cte: Any, body: Any) -> bool:
    """Does the server compute the CTE first rather than fold it into the query (subselect.c)? MATERIALIZED,
    WITH RECURSIVE, a data-modifying one, or one read more than once unless NOT MATERIALIZED: an outer filter
    on its columns then cannot use an index of its tables: an index there would serve nothing."""
    if cte.ctematerialized == CTEMaterialize.CTEMaterializeAlways or clause.recursive:
        return True
    if not isinstance(cte.ctequery, ast.SelectStmt):
        return True
    if cte.ctematerialized == CTEMaterialize.CTEMaterializeNever:
        return False
    reads = sum(1 for n in walk(body) if isinstance(n, ast.RangeVar) and n.schemaname is None
                and n.relname == cte.ctename)
    return reads > 1


def function_entry(item: Any) -> Entry:
    """A function in FROM (``generate_series($1, $2) i``): its output columns, so they are not taken for tables.

    Named by the alias's column list or the column definition list; a
    single-column function's column is the alias, else the function's name.
    """
    cols = set(names(item.alias.colnames)) if item.alias and item.alias.colnames else set()
    cols |= {c.colname for c in seq(item.coldeflist) if isinstance(c, ast.ColumnDef) and c.colname}
    funcs = [f for f, _ in seq(item.functions) if isinstance(f, ast.FuncCall)]
    for _, coldefs in seq(item.functions):
        cols |= {c.colname for c in seq(coldefs) if isinstance(c, ast.ColumnDef) and c.colname}
    if item.alias:
        alias = item.alias.aliasname
        cols.add(alias)
    else:
        alias = names(funcs[0].funcname)[-1] if funcs else "?function"
        cols |= {names(f.funcname)[-1] for f in funcs}
    if item.ordinality:
        cols.add("ordinality")
    return Entry(alias, None, frozenset(cols))


def system_relation(schema: str | None, name: str) -> bool:
    """Does the name read a catalog table or view (pg_locks, information_schema.tables), not the application's?

    Unqualified, a ``pg_`` name no user table of the search path has is the
    catalog's: pg_catalog is searched first whatever the search_path says.
    """
    if schema is not None:
        return schema in ("pg_catalog", "information_schema")
    return name.startswith("pg_")


# Aggregates (by the names the server's own have) and random(): no index returns rows in their order.
_UNSORTABLE = frozenset({"count", "sum", "avg", "min", "max", "array_agg", "string_agg", "bool_and", "bool_or",
                         "every", "json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg", "random"})


def _index_may_sort(node: ast.SelectStmt, key: Any) -> bool:
    """Could an index's order stand for the sort on the expression ``key`` of the SELECT ``node``?

    Not a sort on an aggregate (``ORDER BY count(*) DESC``, the groups' order, not the rows'), a window function
    or random(); in a grouped SELECT, only a sort on one of its GROUP BY expressions (r21: "no verdict on those
    sorts" replaced "already served" for every top-N by count)."""
    if node.groupClause:
        return printed(key) in {printed(_Binder._sort_key(node, g)) for g in node.groupClause}     # GROUP BY 1 too
    return not any(isinstance(n, ast.FuncCall) and (n.over is not None or n.agg_star or n.agg_distinct
                                                    or (names(n.funcname)[-1:] or ("",))[0] in _UNSORTABLE)
                   for n in walk(key))
