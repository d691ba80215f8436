"""Reading pglast expression nodes: constants, casts, the current time, LIKE prefixes, printed expressions.

Pure functions over one node (no scope, no catalog), shared by the binder and
candidate generation; ``normalize_expression`` compares an expression with the
catalog's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from copy import deepcopy
from functools import lru_cache
from typing import Any

from pglast import ast
from pglast.enums import BoolExprType
from pglast.stream import RawStream

from ..sqltext import ParseFailed, expression, names, printed, seq, walk


def shallow(node: Any) -> Iterator[Any]:
    """The nodes of ``node``, not descending into subqueries (their columns are bound in their own scope)."""
    return walk(node, subqueries=False)


def constant(node: Any) -> str | None:
    """A literal constant printed as SQL (``'pending'``, ``42``); None for parameters and expressions."""
    inner = strip_cast(node)
    if isinstance(inner, ast.A_Const) and not inner.isnull:
        return str(RawStream()(inner))
    return None


def unqualified(expr: Any) -> str:
    """Print ``expr`` with its column references stripped to the bare column name.

    ``lower(u.email)`` in a query becomes ``lower(email)`` in an index. A copy
    is changed: neither the query's tree nor the parse cache's tree of the
    printed expression (every later ``expression()`` of the same text) is.
    """
    copy = deepcopy(expression(printed(expr)))
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


def text_of_column(node: Any) -> bool:
    """``lower(email)``, ``"title"::text``: the column's own value as text, which a value from it matches."""
    if isinstance(node, ast.FuncCall):
        return names(node.funcname)[-1] in _TEXT_FUNCTIONS
    if isinstance(node, ast.TypeCast) and node.typeName is not None:
        return names(node.typeName.names)[-1] in ("text", "varchar")
    return False


def is_now(node: Any) -> bool:
    """now(), CURRENT_TIMESTAMP, LOCALTIMESTAMP, clock_timestamp(): the current time."""
    if isinstance(node, ast.FuncCall):
        return names(node.funcname)[-1:] in (("now",), ("clock_timestamp",), ("statement_timestamp",),
                                              ("transaction_timestamp",))
    return type(node).__name__ == "SQLValueFunction"


def and_list(expr: Any) -> list[Any]:
    """The AND-ed terms of ``expr`` (itself when it is no AND)."""
    if isinstance(expr, ast.BoolExpr) and expr.boolop == BoolExprType.AND_EXPR:
        return [n for arg in seq(expr.args) for n in and_list(arg)]
    return [expr]


def strip_value_cast(node: Any) -> Any:
    """Strip casts around a value; keep a cast around a column (an expression)."""
    inner = strip_cast(node)
    return node if isinstance(inner, ast.ColumnRef) else inner


def strip_cast(node: Any) -> Any:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return node


def is_prefix_pattern(node: Any) -> bool:
    """A LIKE pattern that a btree can serve: a constant not starting with a wildcard."""
    node = strip_cast(node)
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.String):
        pattern = node.val.sval or ""
        return bool(pattern) and pattern[0] not in "%_"
    return False
