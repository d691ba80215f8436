"""Binding filters: what WHERE, JOIN ON and HAVING ask of each column, and which $n each compares with.

Equalities, ranges, LIKE prefixes, NULL tests and expressions on one column
become column uses; AND-ed filters on one table occurrence become conjuncts
(a partial index's predicate as it stands); a ``$n`` or ``current_setting``
compared with a column is remembered so a value of that column can be planned
with. The statement walk itself (FROM, CTEs, views, the SELECT list) is
analyze.bind's ``_Binder``, which builds on this.
"""

from __future__ import annotations

from typing import Any

from pglast import ast
from pglast.enums import A_Expr_Kind, BoolExprType, NullTestType

from ..capture import Table
from ..sqltext import ParseFailed, names, printed, seq, walk
from ..sqltext import expression as parse_expression
from . import json_values
from .exprs import (
    and_list,
    constant,
    is_now,
    is_prefix_pattern,
    shallow,
    strip_cast,
    strip_value_cast,
    text_of_column,
    unqualified,
)
from .params import ParamUse
from .scope import Entry, Output, Scope
from .shape import EQ, FILTER, FUNC, GROUP, JOIN, NULL, OUTPUT, RANGE, ColumnUse, Conjunct, Role, Shape, Test
from .written import JSON_FIELD_OPS

_RANGE_OPS = {"<", "<=", ">", ">="}
_COMPARE_OPS = {"=", "<", "<=", ">", ">=", "<>"}
ARRAY_OPS = ("@>", "<@", "&&")     # an array column compared with an array of its elements


def _json_field(node: Any) -> bool:
    """``meta->>'ref'``, ``meta->'a'->>'b'``: a JSON field of a column, which an expression b-tree can hold."""
    return isinstance(node, ast.A_Expr) and node.kind == A_Expr_Kind.AEXPR_OP and bool(node.name) \
        and names(node.name)[-1] in JSON_FIELD_OPS


def _base_column(ref: ast.ColumnRef, scope: Scope) -> tuple[Table, str] | None:
    """The table and column ``ref`` reads, through a CTE's, subquery's or view's plain column; None for ``*``,
    a computed column or a name the scope does not know."""
    if any(isinstance(f, ast.A_Star) for f in seq(ref.fields)):
        return None
    hit = scope.resolve(names(ref.fields))
    if hit is None:
        return None
    entry, col = hit
    if entry.table is not None:
        return entry.table, col
    if col not in entry.origin:
        return None
    table, base, _ = entry.origin[col][0]      # a set operation's: its first branch's
    return table, base


class Predicates:
    """The filter half of the binder: records column uses, conjuncts and $n into ``shape``."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        self.in_policy = False   # binding a row security policy's USING (its uses are marked policy)
        self.blocks = 0

    def statement(self, node: Any, parent: Scope | None) -> Output:
        """Bind a statement (a subquery in a filter): analyze.bind's _Binder walks them."""
        raise NotImplementedError

    # -- predicates ---------------------------------------------------------

    def where(self, expr: Any, scope: Scope, block: int) -> None:
        if expr is None:
            return
        if isinstance(expr, ast.BoolExpr):
            # OR and NOT branches still name the columns a bitmap scan could use.
            for arg in seq(expr.args):
                self.where(arg, scope, block)
            return
        if isinstance(expr, ast.NullTest) and isinstance(expr.arg, ast.ColumnRef):
            self.use(expr.arg, scope, block, NULL)
            return
        if isinstance(expr, ast.A_Expr):
            self.a_expr(expr, scope, block)
        self._filtered(expr, scope, block)
        self._sublinks(expr, scope)

    def _filtered(self, expr: Any, scope: Scope, block: int) -> None:
        """Each column of this block's tables ``expr`` reads (FILTER): a key use is recorded by its own role,
        but whatever the filter, an index-only scan has to carry the column (analyze.candidates' INCLUDE)."""
        for node in shallow(expr):
            if isinstance(node, ast.ColumnRef) and not any(isinstance(f, ast.A_Star) for f in seq(node.fields)):
                hit = scope.resolve(names(node.fields))
                if hit is not None and (hit[0].table is not None or hit[1] in hit[0].origin):
                    self.use(node, scope, block, FILTER)

    def conjuncts(self, expr: Any, scope: Scope, block: int) -> None:
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
                arms = [and_list(arg) for arg in seq(expr.args)]
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

    def _conjunct(self, expr: Any, scope: Scope) -> tuple[Entry, Test, tuple[str, ...], tuple[str, ...],
                                                           bool] | None:
        def column(node: Any) -> tuple[Entry, str] | None:
            if not isinstance(node, ast.ColumnRef) or any(isinstance(f, ast.A_Star) for f in seq(node.fields)):
                return None
            hit = scope.resolve_here(names(node.fields))     # this block's own tables only
            return hit if hit is not None and hit[0].table is not None else None

        if isinstance(expr, ast.NullTest):
            hit = column(expr.arg)
            if hit is None:
                return None
            return hit[0], Test.NULL_TEST, (hit[1],), (), expr.nulltesttype == NullTestType.IS_NOT_NULL
        if not isinstance(expr, ast.A_Expr) or not expr.name:
            return None
        op = names(expr.name)[-1]
        left = column(expr.lexpr)
        if left is None:
            return None
        if expr.kind == A_Expr_Kind.AEXPR_OP and op in _COMPARE_OPS:
            right = column(expr.rexpr)
            if right is not None:
                same = right[0] is left[0] and right[1] != left[1]
                return (left[0], Test.COMPARE, (left[1], right[1]), (), False) if same else None
            value = constant(expr.rexpr) if op == "=" else None
            param = strip_cast(expr.rexpr)
            if value is None and op == "=" and isinstance(param, ast.ParamRef) and param.number:
                value = f"${param.number}"      # a value chosen at run time: pg_qualstats may know it
            return (left[0], Test.VALUES, (left[1],), (value,), False) if value is not None else None
        if expr.kind == A_Expr_Kind.AEXPR_IN and op == "=":
            values = [constant(v) for v in seq(expr.rexpr if isinstance(expr.rexpr, (list, tuple)) else None)]
            if values and all(v is not None for v in values):
                return left[0], Test.VALUES, (left[1],), tuple(v for v in values if v is not None), False
        return None

    def a_expr(self, expr: ast.A_Expr, scope: Scope, block: int) -> None:
        op = names(expr.name)[-1] if expr.name else ""
        if (pathed := json_values.compared(expr)) is not None:
            self._json_path(*pathed, scope)     # no index serves a path a $n names; its $n need values
            return
        # Casts on the value side are free; a cast on the column makes it an expression.
        left, right = strip_value_cast(expr.lexpr), strip_value_cast(expr.rexpr)
        kind = expr.kind
        if kind == A_Expr_Kind.AEXPR_OP_ANY and op == "=" and isinstance(right, ast.ColumnRef) \
                and not self._has_columns(left):
            # $1 = ANY(roles): no index serves it, and $1 is one element of the array column, not an array
            # (u5: valued with the column's common array '{USER}', the enum cast failed and the statement was lost).
            self._param_only(right, left, "@>", scope, element=True)
        elif kind in (A_Expr_Kind.AEXPR_IN, A_Expr_Kind.AEXPR_OP_ANY) and op == "=":
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
                    and is_prefix_pattern(right):
                self.use(left, scope, block, RANGE)
            self._param_only(strip_cast(left), right, op, scope)     # "title"::text ILIKE $2
        elif kind == A_Expr_Kind.AEXPR_OP and (op == "=" or op in _RANGE_OPS):
            self._compare(left, right, op, scope, block)
        elif kind == A_Expr_Kind.AEXPR_OP and op in ARRAY_OPS:
            # Prisma's hasEvery/hasSome: "tags" @> CAST($1::text[] AS "Enum"[]): no btree use, a value all the same.
            # Its has: "tags" @> ARRAY[$1] (an enum's: ARRAY[CAST($1::text AS "Enum")]): $1 is one element (p13).
            held = strip_cast(right)
            if isinstance(held, ast.A_ArrayExpr) and len(one := held.elements or ()) == 1:
                self._param_only(left, one[0], op, scope, element=True)
            else:
                self._param_only(left, right, op, scope, array=True)
        # Other operators (<>, ILIKE, ~, jsonb @>) are not btree-indexable: no use.

    def _compare(self, left: Any, right: Any, op: str, scope: Scope, block: int) -> None:
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
                value = constant(right) if op == "=" else None
                found = self.use(left, scope, block, EQ if op == "=" else RANGE, value=value)
                self._param(found, right, op)
                self._setting(found, right, op)
            return
        # f(col), col::type, or a JSON field meta->>'ref' (its name a constant: the key is the expression as written).
        if (isinstance(left, (ast.FuncCall, ast.TypeCast)) or _json_field(left)) and not self._has_columns(right):
            cols = [n for n in shallow(left) if isinstance(n, ast.ColumnRef)]
            if len(cols) == 1 and not any(isinstance(f, ast.A_Star) for f in seq(cols[0].fields)) \
                    and not any(isinstance(n, ast.ParamRef) for n in shallow(left)):
                found = self.use(cols[0], scope, block, FUNC, expression=unqualified(left))
                # lower(email) = lower($1): the value is one of the column's own, as text.
                params = [n for n in shallow(right) if isinstance(n, ast.ParamRef)]
                if len(params) == 1 and text_of_column(left) and (
                        right is params[0] or isinstance(right, ast.FuncCall)):
                    self._param(found, params[0], op)
                elif len(params) == 1 and right is params[0] and params[0].number \
                        and (path := json_values.path_of(left)) is not None:
                    # meta->>'ref' = $1: no statistic of the expression before its index; a sampled document's
                    # value under the key (p27: Documenso's audit log by recipient e-mail was planned generic)
                    self._json_path(path, op, int(params[0].number), scope)

    def _has_columns(self, node: Any) -> bool:
        return any(isinstance(n, ast.ColumnRef) for n in shallow(node))

    def _sublinks(self, node: Any, scope: Scope) -> None:
        for n in shallow(node):
            if isinstance(n, ast.SubLink) and n.subselect is not None:
                if n.testexpr is not None and isinstance(strip_cast(n.testexpr), ast.ColumnRef):
                    # x IN (SELECT ...): the outer column is probed like a join key.
                    self.use(strip_cast(n.testexpr), scope, self.blocks, JOIN)
                self.statement(n.subselect, scope)

    # -- recording ----------------------------------------------------------

    def use(self, ref: ast.ColumnRef, scope: Scope, block: int, role: Role, *,
            descending: bool = False, nulls_first: bool | None = None, expression: str | None = None,
            value: str | None = None) -> ColumnUse | None:
        if any(isinstance(f, ast.A_Star) for f in seq(ref.fields)):
            return None
        fields = names(ref.fields)
        hit = scope.resolve(fields)
        if hit is None:
            self.shape.unbound.append(".".join(fields))
            if role != GROUP and scope.lacks(fields):         # GROUP BY may name an output column
                self.shape.gone.append(".".join(fields))
            return None
        entry, col = hit
        if entry.table is None:
            if col in entry.origin:
                # A plain column of a CTE, subquery or view: the filter reaches its base column (each branch's,
                # of a set operation's column).
                found = [self._column(Entry(entry.alias, table), base, role, block, descending, nulls_first,
                                      expression, value) for table, base, _ in entry.origin[col]]
                return found[0]
            return None  # otherwise a computed column: its base tables were bound inside
        return self._column(entry, col, role, block, descending, nulls_first, expression, value)

    def _column(self, entry: Entry, col: str, role: Role, block: int, descending: bool = False,
                nulls_first: bool | None = None, expression: str | None = None,
                value: str | None = None) -> ColumnUse | None:
        """Record a use of a table's column; a virtual generated column's (PostgreSQL 18) as its expression's.

        The server refuses an index naming a virtual column, and its planner reads the column as its expression:
        ``k = $1`` with ``k`` generated as ``lower(a)`` is served by an index on ``(lower(a))`` (p17,
        Inbox-Zero-shaped: apply failed on ("emailAccountId", "senderKey")). An equality or range on it is a use of
        that expression (no value: the column's are not ``a``'s); what an index-only scan carries is the columns
        the expression reads; an ORDER BY, join or grouping on it gets no key."""
        assert entry.table is not None
        generated = entry.table.generated_as(col)
        if generated is None:
            return self._record(entry, col, role, block, descending, nulls_first, expression, value)
        try:
            tree = parse_expression(generated)
        except ParseFailed:
            return None
        reads = list(dict.fromkeys(names(n.fields)[-1] for n in walk(tree) if isinstance(n, ast.ColumnRef)))
        if role in (OUTPUT, FILTER):
            for base in reads:
                self._record(entry, base, role, block)
        elif role in (EQ, RANGE) and expression is None and len(reads) == 1:
            self._record(entry, reads[0], FUNC, block, expression=unqualified(tree))
        return None

    def _record(self, entry: Entry, col: str, role: Role, block: int, descending: bool = False,
                nulls_first: bool | None = None, expression: str | None = None,
                value: str | None = None) -> ColumnUse:
        assert entry.table is not None
        found = ColumnUse(entry.table.key, col, role, block, entry.alias, descending, nulls_first, expression, value,
                          policy=self.in_policy)
        self.shape.uses.append(found)
        return found

    def _param_only(self, left: Any, right: Any, op: str, scope: Scope, *, array: bool = False,
                    element: bool = False) -> None:
        """Remember the column a ``$n`` is compared with where the comparison itself is no index use.

        ``col <> $1``, ``col NOT IN ($1, $2)``, ``col ILIKE $1`` or ``'%' || $1 || '%'``, and the
        array of ``col = ANY($1)``: the statement still needs a value to be planned as it runs.
        """
        found = _base_column(left, scope) if isinstance(left, ast.ColumnRef) else None
        if found is None:
            return
        table, col = found
        items = right if isinstance(right, (list, tuple)) else [right]
        for position, item in enumerate(items):
            param = strip_cast(item)
            piece = isinstance(param, ast.A_Expr) and names(param.name)[-1:] == ("||",)
            if piece:
                param = next((strip_cast(n) for n in shallow(param) if isinstance(strip_cast(n), ast.ParamRef)),
                             None)
            if isinstance(param, ast.ParamRef) and param.number:
                use = ParamUse(table.key, col, op, array=array, piece=piece, position=position, element=element)
                if array:
                    self.shape.params[int(param.number)] = use     # the array, not one element
                else:
                    self.shape.params.setdefault(int(param.number), use)

    def _json_path(self, path: json_values.Path, op: str, value: int | None, scope: Scope) -> None:
        """Remember the column a JSON path filter reads, for its keys' and value's ``$n`` (analyze.json_values)."""
        found = _base_column(path.column, scope)
        if found is None:
            return
        table, col = found
        for n, use in json_values.uses(table.key, col, path, op, value).items():
            self.shape.params.setdefault(n, use)

    def _param(self, found: ColumnUse | None, node: Any, op: str, position: int = 0) -> None:
        """Remember which column a ``$n`` is compared with, so a value can be chosen for it."""
        if found is None:
            return
        if isinstance(node, (list, tuple)):          # col IN ($1, $2): each one is an equality value
            for i, item in enumerate(node):
                self._param(found, item, op, i)
            return
        node = strip_cast(node)
        if isinstance(node, ast.ParamRef) and node.number:
            self.shape.params.setdefault(int(node.number), ParamUse(found.table, found.column, op,
                                                                    position=position))
            return
        # now() - $1::interval, now() + $2: a window relative to the current time.
        if isinstance(node, ast.A_Expr) and node.kind == A_Expr_Kind.AEXPR_OP:
            sign = names(node.name)[-1] if node.name else ""
            lhs, rhs = strip_cast(node.lexpr), strip_cast(node.rexpr)
            if sign in ("+", "-") and is_now(lhs) and isinstance(rhs, ast.ParamRef) and rhs.number:
                self.shape.params.setdefault(int(rhs.number), ParamUse(found.table, found.column, op,
                                                                       interval=sign))

    def _setting(self, found: ColumnUse | None, node: Any, op: str) -> None:
        """Remember the column ``current_setting('app.tenant')`` is compared with (a policy's usual form),
        so the setting can be given a value of that column when the statement is planned."""
        call = strip_cast(node)
        if found is None or not isinstance(call, ast.FuncCall) or names(call.funcname)[-1:] != ("current_setting",):
            return
        args = seq(call.args)
        name = constant(args[0]) if args else None
        if name is not None and name.startswith("'"):
            self.shape.settings.setdefault(name[1:-1].replace("''", "'"), ParamUse(found.table, found.column, op))
