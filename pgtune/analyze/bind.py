"""Parse a statement with pglast and bind every column reference to its table.

The output is the *shape* of a statement: which columns of which tables it
filters by equality, range, LIKE prefix or NULL test, joins on, sorts and
groups by, per query block. Candidate generation reads only this shape.

Binding follows the server's rules closely enough for index advice: aliases
shadow table names, CTE names shadow tables, unqualified columns resolve to the
one table in scope that has them (ambiguous ones stay unbound), correlated
subqueries see the outer scope, and unqualified tables go through search_path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import Any

from pglast import ast
from pglast.enums import (
    A_Expr_Kind,
    BoolExprType,
    CTEMaterialize,
    JoinType,
    NullTestType,
    SetOperation,
    SortByDir,
    SortByNulls,
)
from pglast.stream import RawStream

from ..capture import Catalog, Table, TableKey
from ..roles import RoleView, RowFilter
from ..sqltext import Failure, ParseFailed, expression, names, parse, parse_one, printed, seq, walk
from .params import ParamKind, ParamUse, classify


class Role(StrEnum):
    """What a statement does with a column."""

    EQ = "eq"            # col = value, col IN (...), col = ANY(...)
    RANGE = "range"      # <, <=, >, >=, BETWEEN, LIKE 'prefix%'
    NULL = "null"        # IS [NOT] NULL
    JOIN = "join"        # col = other_table.col
    ORDER = "order"      # ORDER BY col
    GROUP = "group"      # GROUP BY col
    FUNC = "func"        # f(col) compared to a value: an expression index candidate
    OUTPUT = "output"    # col in the SELECT list: INCLUDE material for index-only scans
    STAR = "star"        # SELECT * (or t.*): every column is needed, no index-only scan


EQ, RANGE, NULL, JOIN, ORDER, GROUP, FUNC, OUTPUT, STAR = Role

_RANGE_OPS = {"<", "<=", ">", ">="}
_COMPARE_OPS = {"=", "<", "<=", ">", ">=", "<>"}
ARRAY_OPS = ("@>", "<@", "&&")     # an array column compared with an array of its elements
MAX_VIEW_DEPTH = 16


# Schema changes are worth a line in "skipped"; session and maintenance chatter is not.
_DDL_PREFIXES = ("Create", "Alter", "Drop", "Rename", "Truncate", "Comment", "Grant", "Reindex", "Cluster")
_DDL = {"IndexStmt", "ViewStmt", "RuleStmt", "CompositeTypeStmt", "DefineStmt"}


@dataclass(frozen=True)
class ColumnUse:
    table: TableKey
    column: str
    role: Role
    block: int               # query block (SELECT level) the use belongs to
    alias: str               # the range-table entry, so self-joins stay apart
    descending: bool = False
    nulls_first: bool | None = None
    expression: str | None = None  # for FUNC: the printed expression, e.g. lower(email)
    value: str | None = None       # for EQ against a constant: the constant as SQL, e.g. 'pending'
    policy: bool = False           # from a row security policy's USING, not the statement's own text


class Test(StrEnum):
    """A filter on one table that could be a partial index's predicate as it stands."""

    VALUES = "values"      # col IN ('a', 'b') or col = 'a': constants, no parameter
    COMPARE = "compare"    # col1 < col2: two columns of the same row
    NULL_TEST = "null"     # col IS [NOT] NULL


@dataclass
class Conjunct:
    """One AND-ed filter of a query block that reads one table occurrence and nothing else.

    ``sql`` is printed by pglast with bare column names, ready to be (part of)
    an index predicate; ``values`` are the constants of a VALUES test.
    """

    table: TableKey
    alias: str
    block: int
    test: Test
    node: Any = field(repr=False, compare=False)     # the filter in the statement's (shared) tree
    columns: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    negated: bool = False      # IS NOT NULL

    @cached_property
    def sql(self) -> str:
        # Printed on demand: most filters never become a predicate, and printing costs a parse.
        return _unqualified(self.node)


@dataclass
class Shape:
    """What a statement asks of its tables."""

    kind: str                                   # select, update, delete, insert
    uses: list[ColumnUse] = field(default_factory=list)
    tables: set[TableKey] = field(default_factory=set)
    limited_blocks: set[int] = field(default_factory=set)
    unbound: list[str] = field(default_factory=list)
    temporary: list[str] = field(default_factory=list)    # temporary tables it reads or writes
    row_filters: list[RowFilter] = field(default_factory=list)   # row security its role's reads get
    settings: dict[str, ParamUse] = field(default_factory=dict)  # current_setting('x') compared with a column
    params: dict[int, ParamUse] = field(default_factory=dict)
    conjuncts: list[Conjunct] = field(default_factory=list)


# Where a derived column (of a CTE, subquery or view) comes from: (base table, its column, its alias).
Origin = dict[str, tuple[Table, str, str]]


@dataclass
class _Output:
    """What a statement outputs: column names, and for plain projections the base column behind each."""

    columns: frozenset[str] = frozenset()
    origin: Origin = field(default_factory=dict)


@dataclass
class _Entry:
    alias: str
    table: Table | None          # None: a CTE, subquery or view (derived columns)
    columns: frozenset[str] = frozenset()
    origin: Origin = field(default_factory=dict)


@dataclass
class _Scope:
    entries: list[_Entry] = field(default_factory=list)
    parent: _Scope | None = None
    ctes: dict[str, _Output] = field(default_factory=dict)

    def cte(self, name: str) -> _Output | None:
        s: _Scope | None = self
        while s is not None:
            if name in s.ctes:
                return s.ctes[name]
            s = s.parent
        return None

    def resolve(self, fields: tuple[str, ...]) -> tuple[_Entry, str] | None:
        """Find the entry a (possibly qualified) column reference points to."""
        s: _Scope | None = self
        while s is not None:
            hit = s._resolve_here(fields)
            if hit is not None:
                return hit
            s = s.parent
        return None

    def _resolve_here(self, fields: tuple[str, ...]) -> tuple[_Entry, str] | None:
        col = fields[-1]
        if len(fields) == 1:
            matches = [e for e in self.entries if col in e.columns]
            return (matches[0], col) if len(matches) == 1 else None
        qual = fields[-2]
        schema = fields[-3] if len(fields) >= 3 else None
        for e in self.entries:
            if e.alias == qual and (schema is None or (e.table is not None and e.table.schema == schema)):
                return (e, col) if col in e.columns else None
        return None


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
    kinds = {"SelectStmt": "select", "UpdateStmt": "update", "DeleteStmt": "delete", "InsertStmt": "insert"}
    if name not in kinds:
        noise = not (name.startswith(_DDL_PREFIXES) or name in _DDL)
        raise ParseFailed(f"utility statement ({name}) is not index-tunable", noise=noise, kind=Failure.UTILITY)
    binder = _Binder(catalog, Shape(kind=kinds[name]), view)
    binder.top = node
    binder.statement(node, None)
    binder.shape.params.update(classify(node, binder.shape.params))
    return binder.shape


_names = names


def _walk(node: Any) -> Iterator[Any]:
    return walk(node, subqueries=False)


class _Binder:
    def __init__(self, catalog: Catalog, shape: Shape, view: RoleView | None = None) -> None:
        self.catalog = catalog
        self.shape = shape
        self.view = view
        self.path = view.search_path if view is not None else None
        self.pending: list[tuple[_Entry, RowFilter]] = []    # row filters of the FROM items seen, not yet bound
        self.in_policy = False
        self.blocks = 0
        self.views = 0           # view definitions expanded so far (a guard against runaway nesting)
        self.top: Any = None     # the statement itself (not one of its subqueries)

    # -- statements ---------------------------------------------------------

    def statement(self, node: Any, parent: _Scope | None) -> _Output:
        """Bind one statement; return what it outputs (for CTEs, subqueries and views)."""
        if isinstance(node, ast.SelectStmt):
            return self.select(node, parent)
        scope = _Scope(parent=parent)
        self.with_clause(getattr(node, "withClause", None), scope)
        block = self._new_block()
        if isinstance(node, ast.InsertStmt):
            target: Any = node.relation
            if self.catalog.lookup(target.schemaname, target.relname, self.path) is None:
                self._temporary(target)
            if node.selectStmt is not None:
                self.statement(node.selectStmt, scope)
            return _Output()
        mark = len(self.pending)
        self.range_var(node.relation, scope)
        extra = node.fromClause if isinstance(node, ast.UpdateStmt) else node.usingClause
        for item in extra or ():
            self.from_item(item, scope, block)
        self._row_filters(mark, scope, block)
        self.where(node.whereClause, scope, block)
        self.conjuncts(node.whereClause, scope, block)
        return _Output()

    def select(self, node: ast.SelectStmt, parent: _Scope | None) -> _Output:
        if node.op is not None and node.op != SetOperation.SETOP_NONE:
            scope = _Scope(parent=parent)
            self.with_clause(node.withClause, scope)
            left = self.statement(node.larg, scope)
            self.statement(node.rarg, scope)
            return _Output(left.columns)       # a set operation's rows come from either side
        scope = _Scope(parent=parent)
        self.with_clause(node.withClause, scope)
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
        if node.limitCount is not None:
            self.shape.limited_blocks.add(block)
            limit = _strip_cast(node.limitCount)
            if isinstance(limit, ast.ParamRef) and limit.number:
                # A LIMIT inside a subquery caps a count or a batch; the statement's own pages its rows.
                self.shape.params.setdefault(int(limit.number), ParamUse(None, "", "", kind=ParamKind.LIMIT,
                                                                         nested=node is not self.top))
        offset = _strip_cast(node.limitOffset) if node.limitOffset is not None else None
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
            name = _names(key.fields)[:1]
            for t in targets:
                if name and t.name == name[0]:
                    return t.val       # the server matches an output name before an input column
        return key

    def _targets(self, val: Any, scope: _Scope, block: int) -> None:
        """Columns the SELECT list reads: what an index-only scan would have to carry."""
        for n in _walk(val):
            if not isinstance(n, ast.ColumnRef):
                continue
            if isinstance(seq(n.fields)[-1], ast.A_Star):
                qual = _names(seq(n.fields)[:-1])
                for e in scope.entries:
                    if e.table is not None and (not qual or e.alias == qual[-1]):
                        self._record(e, "*", STAR, block)
            else:
                self.use(n, scope, block, OUTPUT)

    def with_clause(self, clause: Any, scope: _Scope) -> None:
        for cte in (clause.ctes if clause is not None else ()) or ():
            out = self.statement(cte.ctequery, scope)
            if cte.aliascolnames:
                out = _Output(frozenset(_names(cte.aliascolnames)))
            if cte.ctematerialized == CTEMaterialize.CTEMaterializeAlways:
                out = _Output(out.columns)     # MATERIALIZED: an outer filter is not pushed into it
            scope.ctes[cte.ctename] = out

    def _output(self, node: Any, scope: _Scope) -> _Output:
        """Output column names, and the base column behind each plain (possibly renamed) column."""
        out: set[str] = set()
        origin: Origin = {}
        for target in node.targetList or ():
            val = target.val
            if isinstance(val, ast.ColumnRef) and isinstance(seq(val.fields)[-1], ast.A_Star):
                qual = _names(seq(val.fields)[:-1])
                for e in scope.entries:
                    if qual and e.alias != qual[-1]:
                        continue
                    out |= e.columns
                    if e.table is not None:
                        origin.update({c: (e.table, c, e.alias) for c in e.columns})
                    else:
                        origin.update(e.origin)
                continue
            name = target.name or (_names(val.fields)[-1] if isinstance(val, ast.ColumnRef) else None)
            if name is None:
                continue
            out.add(name)
            hit = scope.resolve(_names(val.fields)) if isinstance(val, ast.ColumnRef) else None
            if hit is not None:
                entry, col = hit
                if entry.table is not None:
                    origin[name] = (entry.table, col, entry.alias)
                elif col in entry.origin:
                    origin[name] = entry.origin[col]
        return _Output(frozenset(out), origin)

    # -- FROM -----------------------------------------------------------------

    def from_item(self, item: Any, scope: _Scope, block: int) -> None:
        if isinstance(item, ast.RangeVar):
            self.range_var(item, scope)
        elif isinstance(item, ast.JoinExpr):
            self.from_item(item.larg, scope, block)
            self.from_item(item.rarg, scope, block)
            self.where(item.quals, scope, block)
            if item.jointype == JoinType.JOIN_INNER:
                self.conjuncts(item.quals, scope, block)
            for col in _names(item.usingClause):
                # USING (c): both sides' c are join keys.
                for e in scope.entries:
                    if e.table is not None and col in e.columns:
                        self._record(e, col, JOIN, block)
        elif isinstance(item, ast.RangeSubselect):
            out = self.statement(item.subquery, scope if item.lateral else scope.parent)
            alias = (item.alias.aliasname or "?subquery") if item.alias else "?subquery"
            if item.alias and item.alias.colnames:
                out = _Output(frozenset(_names(item.alias.colnames)))
            scope.entries.append(_Entry(alias, None, out.columns, out.origin))

    def range_var(self, rv: Any, scope: _Scope) -> None:
        alias = rv.alias.aliasname if rv.alias else rv.relname
        if rv.schemaname is None:
            cte = scope.cte(rv.relname)
            if cte is not None:
                scope.entries.append(_Entry(alias, None, cte.columns, cte.origin))
                return
        table = self.catalog.lookup(rv.schemaname, rv.relname, self.path)
        view = self.catalog.lookup_view(rv.schemaname, rv.relname, self.path) if table is None else None
        if view is not None and self.views < MAX_VIEW_DEPTH:
            # A view is a subquery the catalog keeps: bind its definition, map its columns to base columns.
            self.views += 1
            try:
                out = self.statement(parse_one(view), None)
            except ParseFailed:
                out = _Output()
            scope.entries.append(_Entry(alias, None, out.columns, out.origin))
            return
        if table is None:
            scope.entries.append(_Entry(alias, None, frozenset()))
            if not self._temporary(rv):
                self.shape.unbound.append(rv.relname)
            return
        self.shape.tables.add(table.key)
        entry = _Entry(alias, table, frozenset(table.columns))
        scope.entries.append(entry)
        found = self.view.row_filter(table.key, self.shape.kind) if self.view is not None else None
        if found is not None:
            self.pending.append((entry, found))

    def _row_filters(self, mark: int, scope: _Scope, block: int) -> None:
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
                    expr = expression(text)
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

    # -- predicates ---------------------------------------------------------

    def where(self, expr: Any, scope: _Scope, block: int) -> None:
        if expr is None:
            return
        if isinstance(expr, ast.BoolExpr):
            # OR and NOT branches still name the columns a bitmap scan could use.
            for arg in seq(expr.args):
                self.where(arg, scope, block)
            return
        if isinstance(expr, ast.NullTest):
            if isinstance(expr.arg, ast.ColumnRef):
                self.use(expr.arg, scope, block, NULL)
            return
        if isinstance(expr, ast.A_Expr):
            self.a_expr(expr, scope, block)
        self._sublinks(expr, scope)

    def conjuncts(self, expr: Any, scope: _Scope, block: int) -> None:
        """Record each AND-ed filter that tests one table occurrence by constants or its own columns."""
        if expr is None:
            return
        if isinstance(expr, ast.BoolExpr):
            if expr.boolop == BoolExprType.AND_EXPR:
                for arg in seq(expr.args):
                    self.conjuncts(arg, scope, block)
            elif expr.boolop == BoolExprType.OR_EXPR:
                # A filter every branch has holds for the whole OR; the planner factors it out
                # the same way ((A AND B) OR (A AND C) is A AND (B OR C)).
                arms = [_and_list(arg) for arg in seq(expr.args)]
                first = [n for n in arms[0] if self._conjunct(n, scope) is not None] if len(arms) > 1 else []
                if first:       # printing is a parse each: only when the first branch has a candidate
                    others = [{printed(n) for n in arm} for arm in arms[1:]]
                    for node in first:
                        text = printed(node)
                        if all(text in other for other in others):
                            self.conjuncts(node, scope, block)
            return
        found = self._conjunct(expr, scope)
        if found is not None:
            entry, test, cols, values, negated = found
            assert entry.table is not None
            self.shape.conjuncts.append(Conjunct(entry.table.key, entry.alias, block, test, expr, cols,
                                                 values, negated))

    def _conjunct(self, expr: Any, scope: _Scope) -> tuple[_Entry, Test, tuple[str, ...], tuple[str, ...],
                                                           bool] | None:
        def column(node: Any) -> tuple[_Entry, str] | None:
            if not isinstance(node, ast.ColumnRef) or any(isinstance(f, ast.A_Star) for f in seq(node.fields)):
                return None
            hit = scope._resolve_here(_names(node.fields))     # this block's own tables only
            return hit if hit is not None and hit[0].table is not None else None

        if isinstance(expr, ast.NullTest):
            hit = column(expr.arg)
            if hit is None:
                return None
            return hit[0], Test.NULL_TEST, (hit[1],), (), expr.nulltesttype == NullTestType.IS_NOT_NULL
        if not isinstance(expr, ast.A_Expr) or not expr.name:
            return None
        op = _names(expr.name)[-1]
        left = column(expr.lexpr)
        if left is None:
            return None
        if expr.kind == A_Expr_Kind.AEXPR_OP and op in _COMPARE_OPS:
            right = column(expr.rexpr)
            if right is not None:
                same = right[0] is left[0] and right[1] != left[1]
                return (left[0], Test.COMPARE, (left[1], right[1]), (), False) if same else None
            value = _constant(expr.rexpr) if op == "=" else None
            param = _strip_cast(expr.rexpr)
            if value is None and op == "=" and isinstance(param, ast.ParamRef) and param.number:
                value = f"${param.number}"      # a value chosen at run time: pg_qualstats may know it
            return (left[0], Test.VALUES, (left[1],), (value,), False) if value is not None else None
        if expr.kind == A_Expr_Kind.AEXPR_IN and op == "=":
            values = [_constant(v) for v in seq(expr.rexpr if isinstance(expr.rexpr, (list, tuple)) else None)]
            if values and all(v is not None for v in values):
                return left[0], Test.VALUES, (left[1],), tuple(v for v in values if v is not None), False
        return None

    def a_expr(self, expr: ast.A_Expr, scope: _Scope, block: int) -> None:
        op = _names(expr.name)[-1] if expr.name else ""
        # Casts on the value side are free; a cast on the column makes it an expression.
        left, right = _strip_value_cast(expr.lexpr), _strip_value_cast(expr.rexpr)
        kind = expr.kind
        if kind in (A_Expr_Kind.AEXPR_IN, A_Expr_Kind.AEXPR_OP_ANY) and op == "=":
            self._compare(left, right, "=", scope, block)
            if kind == A_Expr_Kind.AEXPR_OP_ANY:
                self._param_only(left, right, "=", scope, array=True)
        elif op == "<>" and kind in (A_Expr_Kind.AEXPR_OP, A_Expr_Kind.AEXPR_IN):
            self._param_only(left, right, "<>", scope)         # Prisma's not: / notIn: no index, a value
        elif kind in (A_Expr_Kind.AEXPR_BETWEEN, A_Expr_Kind.AEXPR_BETWEEN_SYM):
            if isinstance(left, ast.ColumnRef) and not self._has_columns(right):
                found = self.use(left, scope, block, RANGE)
                bounds = seq(right) if isinstance(right, (list, tuple)) else ()
                if len(bounds) == 2:
                    self._param(found, bounds[0], ">=")
                    self._param(found, bounds[1], "<=")
        elif kind in (A_Expr_Kind.AEXPR_LIKE, A_Expr_Kind.AEXPR_ILIKE):
            if kind == A_Expr_Kind.AEXPR_LIKE and op == "~~" and isinstance(left, ast.ColumnRef) \
                    and _is_prefix_pattern(right):
                self.use(left, scope, block, RANGE)
            self._param_only(_strip_cast(left), right, op, scope)     # "title"::text ILIKE $2
        elif kind == A_Expr_Kind.AEXPR_OP and (op == "=" or op in _RANGE_OPS):
            self._compare(left, right, op, scope, block)
        elif kind == A_Expr_Kind.AEXPR_OP and op in ARRAY_OPS:
            # Prisma's hasEvery/hasSome: "tags" @> CAST($1::text[] AS "Enum"[]): no btree use, a value all the same.
            self._param_only(left, right, op, scope, array=True)
        # Other operators (<>, ILIKE, ~, jsonb @>) are not btree-indexable: no use.

    def _compare(self, left: Any, right: Any, op: str, scope: _Scope, block: int) -> None:
        if isinstance(right, ast.ColumnRef) and not isinstance(left, ast.ColumnRef):
            left, right = right, left
            op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
        if isinstance(left, ast.ColumnRef):
            if isinstance(right, ast.ColumnRef):
                if op == "=":
                    self.use(left, scope, block, JOIN)
                    self.use(right, scope, block, JOIN)
                return
            if not self._has_columns(right):
                value = _constant(right) if op == "=" else None
                found = self.use(left, scope, block, EQ if op == "=" else RANGE, value=value)
                self._param(found, right, op)
                self._setting(found, right, op)
            return
        if isinstance(left, (ast.FuncCall, ast.TypeCast)) and not self._has_columns(right):
            cols = [n for n in _walk(left) if isinstance(n, ast.ColumnRef)]
            if len(cols) == 1 and not any(isinstance(f, ast.A_Star) for f in seq(cols[0].fields)):
                found = self.use(cols[0], scope, block, FUNC, expression=_unqualified(left))
                # lower(email) = lower($1): the value is one of the column's own, as text.
                params = [n for n in _walk(right) if isinstance(n, ast.ParamRef)]
                if len(params) == 1 and _text_of_column(left) and (
                        right is params[0] or isinstance(right, ast.FuncCall)):
                    self._param(found, params[0], op)

    def _has_columns(self, node: Any) -> bool:
        return any(isinstance(n, ast.ColumnRef) for n in _walk(node))

    def _sublinks(self, node: Any, scope: _Scope) -> None:
        for n in _walk(node):
            if isinstance(n, ast.SubLink) and n.subselect is not None:
                if n.testexpr is not None and isinstance(_strip_cast(n.testexpr), ast.ColumnRef):
                    # x IN (SELECT ...): the outer column is probed like a join key.
                    self.use(_strip_cast(n.testexpr), scope, self.blocks, JOIN)
                self.statement(n.subselect, scope)

    # -- recording ----------------------------------------------------------

    def use(self, ref: ast.ColumnRef, scope: _Scope, block: int, role: Role, *,
            descending: bool = False, nulls_first: bool | None = None, expression: str | None = None,
            value: str | None = None) -> ColumnUse | None:
        if any(isinstance(f, ast.A_Star) for f in seq(ref.fields)):
            return None
        fields = _names(ref.fields)
        hit = scope.resolve(fields)
        if hit is None:
            self.shape.unbound.append(".".join(fields))
            return None
        entry, col = hit
        if entry.table is None:
            if col in entry.origin:
                # A plain column of a CTE, subquery or view: the filter reaches its base column.
                table, base, _ = entry.origin[col]
                return self._record(_Entry(entry.alias, table), base, role, block, descending, nulls_first,
                                    expression, value)
            return None  # otherwise a computed column: its base tables were bound inside
        return self._record(entry, col, role, block, descending, nulls_first, expression, value)

    def _record(self, entry: _Entry, col: str, role: Role, block: int, descending: bool = False,
                nulls_first: bool | None = None, expression: str | None = None,
                value: str | None = None) -> ColumnUse:
        assert entry.table is not None
        found = ColumnUse(entry.table.key, col, role, block, entry.alias, descending, nulls_first, expression, value,
                          policy=self.in_policy)
        self.shape.uses.append(found)
        return found

    def _param_only(self, left: Any, right: Any, op: str, scope: _Scope, *, array: bool = False) -> None:
        """Remember the column a ``$n`` is compared with where the comparison itself is no index use.

        ``col <> $1``, ``col NOT IN ($1, $2)``, ``col ILIKE $1`` or ``'%' || $1 || '%'``, and the
        array of ``col = ANY($1)``: the statement still needs a value to be planned as it runs.
        """
        if not isinstance(left, ast.ColumnRef) or any(isinstance(f, ast.A_Star) for f in seq(left.fields)):
            return
        hit = scope.resolve(_names(left.fields))
        if hit is None:
            return
        entry, col = hit
        if entry.table is None:
            if col not in entry.origin:
                return
            table, col, _ = entry.origin[col]
        else:
            table = entry.table
        items = right if isinstance(right, (list, tuple)) else [right]
        for position, item in enumerate(items):
            param = _strip_cast(item)
            piece = isinstance(param, ast.A_Expr) and _names(param.name)[-1:] == ("||",)
            if piece:
                param = next((_strip_cast(n) for n in _walk(param) if isinstance(_strip_cast(n), ast.ParamRef)),
                             None)
            if isinstance(param, ast.ParamRef) and param.number:
                use = ParamUse(table.key, col, op, array=array, piece=piece, position=position)
                if array:
                    self.shape.params[int(param.number)] = use     # the array, not one element
                else:
                    self.shape.params.setdefault(int(param.number), use)

    def _param(self, found: ColumnUse | None, node: Any, op: str, position: int = 0) -> None:
        """Remember which column a ``$n`` is compared with, so a value can be chosen for it."""
        if found is None:
            return
        if isinstance(node, (list, tuple)):          # col IN ($1, $2): each one is an equality value
            for i, item in enumerate(node):
                self._param(found, item, op, i)
            return
        node = _strip_cast(node)
        if isinstance(node, ast.ParamRef) and node.number:
            self.shape.params.setdefault(int(node.number), ParamUse(found.table, found.column, op,
                                                                    position=position))
            return
        # now() - $1::interval, now() + $2: a window relative to the current time.
        if isinstance(node, ast.A_Expr) and node.kind == A_Expr_Kind.AEXPR_OP:
            sign = _names(node.name)[-1] if node.name else ""
            lhs, rhs = _strip_cast(node.lexpr), _strip_cast(node.rexpr)
            if sign in ("+", "-") and _is_now(lhs) and isinstance(rhs, ast.ParamRef) and rhs.number:
                self.shape.params.setdefault(int(rhs.number), ParamUse(found.table, found.column, op,
                                                                       interval=sign))

    def _setting(self, found: ColumnUse | None, node: Any, op: str) -> None:
        """Remember the column ``current_setting('app.tenant')`` is compared with (a policy's usual form),
        so the setting can be given a value of that column when the statement is planned."""
        call = _strip_cast(node)
        if found is None or not isinstance(call, ast.FuncCall) or _names(call.funcname)[-1:] != ("current_setting",):
            return
        args = seq(call.args)
        name = _constant(args[0]) if args else None
        if name is not None and name.startswith("'"):
            self.shape.settings.setdefault(name[1:-1].replace("''", "'"), ParamUse(found.table, found.column, op))

    def _new_block(self) -> int:
        self.blocks += 1
        return self.blocks


def _constant(node: Any) -> str | None:
    """A literal constant printed as SQL (``'pending'``, ``42``); None for parameters and expressions."""
    inner = _strip_cast(node)
    if isinstance(inner, ast.A_Const) and not inner.isnull:
        return str(RawStream()(inner))
    return None


def _unqualified(expr: Any) -> str:
    """Print ``expr`` with its column references stripped to the bare column name.

    ``lower(u.email)`` in a query becomes ``lower(email)`` in an index. The
    expression is re-parsed from its printed form so the query's AST is untouched.
    """
    copy = expression(printed(expr))
    for n in walk(copy):
        if isinstance(n, ast.ColumnRef) and len(seq(n.fields)) > 1:
            n.fields = seq(n.fields)[-1:]
    return str(RawStream()(copy))


_LITERAL_CAST = re.compile(
    r"('(?:[^']|'')*')::(?:\"[^\"]+\"|[a-z_][\w.]*(?: varying| precision| with(?:out)? time zone)?)(?:\[\])?",
    re.IGNORECASE)


@lru_cache(maxsize=10_000)
def normalize_expression(text: str) -> str:
    """Canonical text of an index expression or predicate, for comparing with the catalog.

    pg_get_expr/pg_get_indexdef add casts to literals (``'pending'::text``) and
    parentheses; strip the literal casts and let pglast print both sides alike.
    """
    text = _LITERAL_CAST.sub(r"\1", text.strip())
    try:
        node = expression(text)
    except ParseFailed:
        return text
    return str(RawStream()(node))


_TEXT_FUNCTIONS = {"lower", "upper", "btrim", "ltrim", "rtrim", "trim", "unaccent"}


def _text_of_column(node: Any) -> bool:
    """``lower(email)``, ``"title"::text``: the column's own value as text, which a value from it matches."""
    if isinstance(node, ast.FuncCall):
        return _names(node.funcname)[-1] in _TEXT_FUNCTIONS
    if isinstance(node, ast.TypeCast) and node.typeName is not None:
        return _names(node.typeName.names)[-1] in ("text", "varchar")
    return False


def _is_now(node: Any) -> bool:
    """now(), CURRENT_TIMESTAMP, LOCALTIMESTAMP, clock_timestamp(): the current time."""
    if isinstance(node, ast.FuncCall):
        return _names(node.funcname)[-1:] in (("now",), ("clock_timestamp",), ("statement_timestamp",),
                                              ("transaction_timestamp",))
    return type(node).__name__ == "SQLValueFunction"


def _and_list(expr: Any) -> list[Any]:
    """The AND-ed terms of ``expr`` (itself when it is no AND)."""
    if isinstance(expr, ast.BoolExpr) and expr.boolop == BoolExprType.AND_EXPR:
        return [n for arg in seq(expr.args) for n in _and_list(arg)]
    return [expr]


def _strip_value_cast(node: Any) -> Any:
    """Strip casts around a value; keep a cast around a column (an expression)."""
    inner = _strip_cast(node)
    return node if isinstance(inner, ast.ColumnRef) else inner


def _strip_cast(node: Any) -> Any:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return node


def _is_prefix_pattern(node: Any) -> bool:
    """A LIKE pattern that a btree can serve: a constant not starting with a wildcard."""
    node = _strip_cast(node)
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.String):
        pattern = node.val.sval or ""
        return bool(pattern) and pattern[0] not in "%_"
    return False
