"""The ``$n`` a statement's binder does not tie to a column: where they stand, so each can still get a value.

ORMs send parameters that compare no column: Prisma's always-true ``1=1``
(pg_stat_statements normalizes it to ``$4 = $5``), Kysely's ``select 1 as
"one"`` inside an EXISTS (``select $11 as "one"``), values in a SET list or a
RETURNING. One of them without a value used to send the whole statement to
its generic plan. Here each is named by where it stands (bind.ParamKind):

* two ``$n`` compared with each other in a predicate: a TAUTOLOGY (planned
  with one value on both sides, true as the application's own ``1=1``), or,
  as an OR's branch, a CONTRADICTION (Prisma's empty OR is ``1=0``);
* a ``$n`` in no predicate at all (select list, SET, VALUES, RETURNING,
  ORDER BY, GROUP BY): OUTSIDE, where its value cannot change the plan;
* a ``$n`` that is a join's whole ``ON``: Prisma's relationJoins write
  ``LEFT JOIN LATERAL (…) ON true``, kept as ``ON $12``: a TAUTOLOGY, true
  (without a value emit and verify never timed p18's costliest statement);
* a ``$n`` that is a key of ``json(b)_build_object`` (relationJoins name each
  field so): OUTSIDE, but valued, as a NULL key fails the timed run
  ("key must not be null").

What is left (a function's argument in a WHERE, say) gets no entry: the
statement is then planned with the values it has and that ``$n`` generic.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pglast import ast
from pglast.enums import A_Expr_Kind, BoolExprType

from ..capture import TableKey
from ..sqltext import names, node_fields, walk

# Fields of a statement node whose $n filter rows (the rest only shape the output).
_PREDICATE_FIELDS = ("whereClause", "havingClause", "fromClause", "usingClause", "limitCount", "limitOffset",
                     "onConflictClause", "withClause")


class ParamKind(StrEnum):
    """Where a ``$n`` stands in its statement, which decides how a value is chosen for it (analyze.values)."""

    COLUMN = "column"          # compared with a column: col = $1, col <> $1, col ILIKE $1, col = ANY($1)
    LIMIT = "limit"
    OFFSET = "offset"
    TAUTOLOGY = "tautology"    # compared with another $n only: Prisma's 1=1 becomes $4 = $5
    CONTRADICTION = "contradiction"   # the same as an OR's branch: Prisma's empty OR, 1=0
    OUTSIDE = "outside"        # in no predicate: the select list, SET, VALUES, RETURNING, ORDER BY
    JSON_KEY = "json key"      # a key of a JSON path: Prisma's ("meta"#>ARRAY[$3]::text[])
    JSON_VALUE = "json value"  # what a JSON path's value is compared with: (… #> …)::jsonb = $4


@dataclass(frozen=True, slots=True)
class ParamUse:
    """What a ``$n`` of a normalized statement stands for: a value compared with a column, a LIMIT, …"""

    table: TableKey | None
    column: str
    op: str                       # the operator: =, <, <=, >, >=, <>, ~~ (LIKE), ~~* (ILIKE), !~~, !~~*
    interval: str | None = None   # "-" or "+": the value is an interval added to now()
    kind: ParamKind = ParamKind.COLUMN
    array: bool = False           # col = ANY($1): the value is an array of the column's values
    element: bool = False         # $1 = ANY(col): the value is one element of the array column
    piece: bool = False           # col LIKE '%' || $1 || '%': the value is a piece of the pattern
    position: int = 0             # col IN ($4, $5, $6): $5 is at 1 (pg_qualstats keeps the list as one array)
    nested: bool = False          # a LIMIT of a subquery (a count's cap), not of the statement's own rows
    path: tuple[str, ...] = ()    # JSON_KEY / JSON_VALUE: the path's keys as written, "$n" or the constant
    extract: str = ""             # JSON_KEY / JSON_VALUE: how the value is read: #> (jsonb), #>> (text), typeof


_STATEMENTS = (ast.SelectStmt, ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt)
_TRUE_OPS = ("=", "<=", ">=")     # $a op $b with one value on both sides: true
_OBJECT_BUILDERS = ("json_build_object", "jsonb_build_object")   # their odd arguments are keys (text)
JOIN_ON = "ON"                    # ParamUse.op of a join's whole ON (Prisma's ON true)
OBJECT_KEY = "key"                # ParamUse.op of an OUTSIDE $n that is a JSON object's key


def classify(root: Any, known: dict[int, ParamUse]) -> dict[int, ParamUse]:
    """A ParamUse for every ``$n`` of ``root`` that ``known`` lacks and that is a tautology or outside."""
    found: dict[int, ParamUse] = {}
    inside: set[int] = set()
    _statement(root, found, inside)
    return {n: use for n, use in sorted(found.items()) if n not in known and not (
        use.kind == ParamKind.OUTSIDE and n in inside)}


def _statement(node: Any, found: dict[int, ParamUse], inside: set[int]) -> None:
    """Sort the $n of one statement node into predicate and output positions; recurse into nested ones."""
    for attr in node_fields(node):
        value = getattr(node, attr)
        if value is None:
            continue
        if attr in _PREDICATE_FIELDS:
            _predicate(value, found, inside)
        else:
            _output(value, found, inside)


def _output(node: Any, found: dict[int, ParamUse], inside: set[int]) -> None:
    for n in _nodes(node):
        if isinstance(n, _STATEMENTS):
            _statement(n, found, inside)
        elif isinstance(n, ast.SubLink):
            if n.testexpr is not None:
                _predicate(n.testexpr, found, inside)
            if n.subselect is not None:
                _statement(n.subselect, found, inside)
        elif isinstance(n, ast.FuncCall):      # json(b)_build_object (_nodes): its keys, then its values
            for i, arg in enumerate(n.args or ()):
                bare = _bare(arg)
                if i % 2 == 0 and isinstance(bare, ast.ParamRef) and bare.number:
                    found.setdefault(int(bare.number), ParamUse(None, "", OBJECT_KEY, kind=ParamKind.OUTSIDE))
                else:
                    _output(arg, found, inside)
        elif isinstance(n, ast.ParamRef) and n.number:
            found.setdefault(int(n.number), ParamUse(None, "", "", kind=ParamKind.OUTSIDE))


def _predicate(node: Any, found: dict[int, ParamUse], inside: set[int]) -> None:
    under_or: set[int] = set()
    for n in _nodes(node, under_or):
        if isinstance(n, _STATEMENTS):
            _statement(n, found, inside)
        elif isinstance(n, ast.SubLink):
            if n.testexpr is not None:
                _predicate(n.testexpr, found, inside)
            if n.subselect is not None:
                _statement(n.subselect, found, inside)
        elif isinstance(n, ast.A_Expr) and _tautology(n):
            # Prisma writes an empty AND as 1=1 and an empty OR as 1=0: both become $a = $b. Under an OR
            # it is the empty OR, false; anywhere else the empty AND, true.
            kind = ParamKind.CONTRADICTION if id(n) in under_or else ParamKind.TAUTOLOGY
            for p in walk(n):
                if isinstance(p, ast.ParamRef) and p.number:
                    found[int(p.number)] = ParamUse(None, "", names(n.name)[-1], kind=kind)
        elif isinstance(n, ast.FuncCall):      # an object built in a predicate: its $n filter rows
            _predicate(list(n.args or ()), found, inside)
        elif isinstance(n, ast.JoinExpr):
            found[int(_bare(n.quals).number)] = ParamUse(None, "", JOIN_ON, kind=ParamKind.TAUTOLOGY)
        elif isinstance(n, ast.ParamRef) and n.number:
            inside.add(int(n.number))


def _nodes(node: Any, under_or: set[int] | None = None) -> list[Any]:
    """The nodes at or below ``node`` that matter here, not descending into statements, sublinks or
    tautologies (each is handled whole); ``under_or`` collects those that are an OR's direct branch."""
    out: list[Any] = []
    stack: list[tuple[Any, bool]] = [(node, False)]
    while stack:
        n, in_or = stack.pop()
        if isinstance(n, (list, tuple)):
            stack.extend((item, in_or) for item in reversed(n))
            continue
        if not isinstance(n, ast.Node):
            continue
        if isinstance(n, (*_STATEMENTS, ast.SubLink, ast.ParamRef)) or (isinstance(n, ast.A_Expr) and _tautology(n)):
            out.append(n)
            if in_or and under_or is not None:
                under_or.add(id(n))
            continue
        if isinstance(n, ast.FuncCall) and names(n.funcname)[-1] in _OBJECT_BUILDERS:
            out.append(n)
            continue
        if _on_param(n):       # the join itself stands for its ON; its two sides are walked as any node
            out.append(n)
            stack.extend((getattr(n, attr), in_or) for attr in reversed(node_fields(n)) if attr != "quals")
            continue
        branches = isinstance(n, ast.BoolExpr) and n.boolop == BoolExprType.OR_EXPR
        stack.extend((getattr(n, attr), branches and attr == "args") for attr in reversed(node_fields(n)))
    return out


def _tautology(expr: ast.A_Expr) -> bool:
    """``$4 = $5``: two parameters compared, true when both carry one value (Prisma's normalized ``1=1``)."""
    if expr.kind != A_Expr_Kind.AEXPR_OP or not expr.name or names(expr.name)[-1] not in _TRUE_OPS:
        return False
    return all(isinstance(_bare(s), ast.ParamRef) for s in (expr.lexpr, expr.rexpr))


def _on_param(node: Any) -> bool:
    """``… JOIN … ON $12``: a join whose whole condition is one parameter (Prisma's ``ON true``)."""
    if not isinstance(node, ast.JoinExpr):
        return False
    bare = _bare(node.quals)
    return isinstance(bare, ast.ParamRef) and bool(bare.number)


def _bare(node: Any) -> Any:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return node
