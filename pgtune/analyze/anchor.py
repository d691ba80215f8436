"""Put a table first in a statement, so HypoPG's partial and expression indexes can be costed on it.

HypoPG (1.3 and the 1.x branch since) parses a hypothetical index's WHERE
clause and expressions against range-table entry 1 and never renumbers them
for the table being planned. On any other entry the planner cannot prove the
predicate and never matches the expression, so the index is silently left out
of every plan: ``FROM orders, lineitem`` never uses a hypothetical partial
index on lineitem, ``FROM lineitem, orders`` does. A real index does not have
the problem, so what-if costing would under-rate exactly the candidates that
are smallest on disk.

The way around it is the statement itself: entry 1 is the leftmost table of
the first FROM item, and reordering inner joins changes neither the result
nor the planner's search (it considers every join order up to
``join_collapse_limit``). The reordered text is only planned, never run.
A table read only inside a subquery or on the nullable side of an outer join
cannot be moved; there the candidate stays uncosted, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

import pglast
from pglast import ast
from pglast.enums import JoinType

from ..capture import TableKey
from ..sqltext import ParseFailed, parse, printed

# (schema or None, table name) -> the table it names through search_path, or None.
Resolve = Callable[[str | None, str], TableKey | None]

MAX_FROM_ITEMS = 8   # join_collapse_limit's default: beyond it, the FROM order steers the join search
MAX_REORDERINGS = 4  # plans per what-if question at most, beside the statement as written


def first_at(query: str, table: TableKey, resolve: Resolve) -> list[str]:
    """The statement once per occurrence of ``table`` in its FROM clause that is not first, moved first.

    Empty when no occurrence can be moved without changing what the
    statement means (or ``table`` is only ever entry 1 already).
    """
    return [text for schema, name, text in _occurrences(query)
            if text is not None and resolve(schema, name) == table]


def reorderings(query: str, tables: Iterable[TableKey], resolve: Resolve, limit: int = MAX_REORDERINGS) -> list[str]:
    """The statement with each of ``tables`` first in turn (what HypoPG needs to see their
    partial and expression indexes); at most ``limit``, the original order not included."""
    wanted = set(tables)
    out: list[str] = []
    for schema, name, text in _occurrences(query):
        if text is not None and text not in out and resolve(schema, name) in wanted:
            out.append(text)
    return out[:limit]


def _positional_star(top: ast.SelectStmt) -> bool:
    """``SELECT * … ORDER BY 1``: the star expands in FROM order, so a position would name another column."""
    star = any(isinstance(f, ast.A_Star) for t in top.targetList or () for f in getattr(t.val, "fields", None) or ())
    clauses = [*(s.node for s in top.sortClause or ()), *(top.groupClause or ()), *(top.distinctClause or ())]
    return star and any(isinstance(c, ast.A_Const) for c in clauses)


def _leftmost(node: Any) -> ast.RangeVar | None:
    while isinstance(node, ast.JoinExpr):
        node = node.larg
    return node if isinstance(node, ast.RangeVar) else None


def _path(node: Any, target: ast.RangeVar) -> list[tuple[ast.JoinExpr, bool]] | None:
    """The joins from ``node`` down to ``target``, each with whether the way goes right."""
    if node is target:
        return []
    if isinstance(node, ast.JoinExpr):
        for right, side in ((False, node.larg), (True, node.rarg)):
            below = _path(side, target)
            if below is not None:
                return [(node, right), *below]
    return None


def _movable(steps: list[tuple[ast.JoinExpr, bool]]) -> bool:
    """Every join on the way may have its sides swapped where the way goes right.

    Going down a left side keeps every set of rows the same whatever the join
    type; going right is allowed through a plain inner join with ON only (an
    outer join's sides are not interchangeable; USING and NATURAL merge columns).
    """
    return all(not right or (j.jointype == JoinType.JOIN_INNER and not j.isNatural and not j.usingClause)
               for j, right in steps)


@lru_cache(maxsize=20_000)
def _occurrences(query: str) -> tuple[tuple[str | None, str, str | None], ...]:
    """Per table named in the top-level FROM: (schema, name, the statement with it first or None if it is)."""
    try:
        stmts = parse(query)        # the shared tree, only read here; _moved edits a fresh one
    except ParseFailed:
        return ()
    if len(stmts) != 1:
        return ()
    top = stmts[0].stmt
    if not isinstance(top, ast.SelectStmt) or top.op != 0 or not top.fromClause:
        return ()
    items = list(top.fromClause)
    if len(items) > MAX_FROM_ITEMS or _positional_star(top):
        return ()
    first = _leftmost(items[0])
    out: list[tuple[str | None, str, str | None]] = []
    for n, item in enumerate(items):
        stack: list[Any] = [item]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.JoinExpr):
                stack += [node.rarg, node.larg]
            elif isinstance(node, ast.RangeVar) and node.relname:
                if node is first:
                    out.append((node.schemaname, node.relname, None))
                    continue
                steps = _path(item, node)
                if steps is not None and _movable(steps):
                    out.append((node.schemaname, node.relname, _moved(query, n, [r for _, r in steps])))
    return tuple(out)


def _moved(query: str, item: int, rights: list[bool]) -> str:
    """The statement with FROM item ``item`` first and, inside it, the way to the table turned left."""
    top: Any = pglast.parse_sql(query)[0].stmt      # a fresh tree for each variant
    items = list(top.fromClause)
    node = items[item]
    for right in rights:
        if right:
            node.larg, node.rarg = node.rarg, node.larg
        node = node.larg
    top.fromClause = (items[item], *items[:item], *items[item + 1:])
    return printed(top)
