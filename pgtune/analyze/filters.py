"""The filters a statement puts on each table it reads, as SQL that reads that table alone.

Extended statistics are judged on them: ``"tenantId" = $1 AND "projectId" = $2``
on one occurrence of ``"Task"`` is a question the planner answers from the two
columns' statistics, which it multiplies as if they were independent. Each
AND-ed term of a query block's WHERE (and of an inner join's ON) whose every
column reference resolves to one table occurrence of the block, and that holds
no subquery, is a filter of that occurrence; it is printed with bare column
names, so ``SELECT … FROM that_table WHERE <filters>`` asks the same question.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pglast
from pglast import ast
from pglast.enums import BoolExprType, JoinType

from ..capture import Catalog, TableKey
from ..sqltext import names, printed, seq, walk


@dataclass(frozen=True)
class TableFilter:
    """The AND-ed filters of one table occurrence: each term tests one column (no join, no subquery)."""

    table: TableKey
    alias: str
    terms: tuple[str, ...]                 # each printed with bare column names ($n kept)
    columns: tuple[str, ...]               # the distinct columns they test, in order of appearance
    params: frozenset[int] = frozenset()   # the $n they hold

    @property
    def sql(self) -> str:
        return " AND ".join(f"({t})" for t in self.terms)


@dataclass
class _Occurrence:
    alias: str
    table: TableKey
    columns: frozenset[str]
    terms: list[tuple[str, str, frozenset[int]]] = field(default_factory=list)   # text, column, params


def table_filters(query: str, catalog: Catalog, search_path: tuple[str, ...] | None = None,
                  keep: Callable[[Any], bool] | None = None, min_columns: int = 1) -> list[TableFilter]:
    """Every table occurrence's single-column filters, for each query block of ``query``.

    ``query`` is the text pgtune plans (explain.prepare_text: ``$n`` printed
    so the server's parser reads them); names resolve through ``search_path``.
    A caller that reads only some of them says so, and the others are never
    printed (printing each term was most of this pass's CPU, issue 28): ``keep``
    (a term's node: is it one the caller reads?), ``min_columns`` (an
    occurrence whose filters test fewer distinct columns is left out).
    """
    try:
        root: Any = pglast.parse_sql(query)[0].stmt      # a fresh tree: printing strips qualifiers in place
    except pglast.parser.ParseError:
        return []
    out: list[TableFilter] = []
    for block in _blocks(root):
        occurrences = _occurrences(block, catalog, search_path)
        if not occurrences:
            continue
        found: list[list[tuple[Any, list[Any], str]]] = [[] for _ in occurrences]
        for term in _terms(block):
            if keep is None or keep(term):
                _assign(term, occurrences, found)
        for occ, mine in zip(occurrences, found, strict=True):
            if len({col for _n, _r, col in mine}) < min_columns:
                continue
            for term, refs, col in mine:
                for r in refs:
                    r.fields = seq(r.fields)[-1:]       # bare column names: the filter reads the table alone
                params = frozenset(int(n.number) for n in walk(term) if isinstance(n, ast.ParamRef) and n.number)
                occ.terms.append((printed(term), col, params))
            cols = list(dict.fromkeys(col for _t, col, _p in occ.terms))
            if occ.terms:
                out.append(TableFilter(occ.table, occ.alias, tuple(t for t, _c, _p in occ.terms), tuple(cols),
                                       frozenset().union(*(p for _t, _c, p in occ.terms))))
    return out


def _blocks(root: Any) -> Iterator[Any]:
    """Every SELECT, UPDATE and DELETE block of the statement (CTEs, subqueries and set operations too)."""
    for node in walk(root):
        if (isinstance(node, ast.SelectStmt) and node.fromClause) or isinstance(node, (ast.UpdateStmt, ast.DeleteStmt)):
            yield node


def _occurrences(block: Any, catalog: Catalog, path: tuple[str, ...] | None) -> list[_Occurrence]:
    items: list[Any] = []
    if isinstance(block, (ast.UpdateStmt, ast.DeleteStmt)):
        items.append(block.relation)
        items += seq(block.fromClause if isinstance(block, ast.UpdateStmt) else block.usingClause)
    else:
        items += seq(block.fromClause)
    out: list[_Occurrence] = []
    for rv in _range_vars(items):
        table = catalog.lookup(rv.schemaname, rv.relname or "", path)
        if table is None:
            continue
        alias = rv.alias.aliasname if rv.alias is not None and rv.alias.aliasname else rv.relname
        out.append(_Occurrence(alias, table.key, frozenset(table.columns)))
    return out


def _range_vars(items: list[Any]) -> Iterator[Any]:
    for item in items:
        if isinstance(item, ast.RangeVar):
            yield item
        elif isinstance(item, ast.JoinExpr):
            yield from _range_vars([item.larg, item.rarg])


def _terms(block: Any) -> Iterator[Any]:
    """The AND-ed terms of the block's WHERE and of its inner joins' ON."""
    yield from _and_terms(block.whereClause)
    stack = list(seq(getattr(block, "fromClause", None)))
    while stack:
        item = stack.pop()
        if isinstance(item, ast.JoinExpr):
            if item.jointype == JoinType.JOIN_INNER:
                yield from _and_terms(item.quals)
            stack += [item.larg, item.rarg]


def _and_terms(expr: Any) -> Iterator[Any]:
    if expr is None:
        return
    if isinstance(expr, ast.BoolExpr) and expr.boolop == BoolExprType.AND_EXPR:
        for arg in seq(expr.args):
            yield from _and_terms(arg)
    else:
        yield expr


def _assign(term: Any, occurrences: list[_Occurrence], found: list[list[tuple[Any, list[Any], str]]]) -> None:
    """Note ``term`` (its node, its column references, its column) under its occurrence when it tests exactly
    one column of exactly one of them; it is printed later, only if the caller reads it."""
    nodes = list(walk(term))
    if any(isinstance(n, (ast.SubLink, ast.SelectStmt)) for n in nodes):
        return
    refs = [n for n in nodes if isinstance(n, ast.ColumnRef)]
    if not refs or any(isinstance(f, ast.A_Star) for r in refs for f in seq(r.fields)):
        return
    hits = {_resolve(names(r.fields), occurrences) for r in refs}
    if len(hits) != 1 or None in hits:
        return
    hit = next(iter(hits))
    assert hit is not None
    occ, column = hit
    found[occ].append((term, refs, column))


def _resolve(fields: tuple[str, ...], occurrences: list[_Occurrence]) -> tuple[int, str] | None:
    column = fields[-1] if fields else ""
    if len(fields) == 1:
        found = [i for i, o in enumerate(occurrences) if column in o.columns]
        return (found[0], column) if len(found) == 1 else None
    qual = fields[-2]
    schema = fields[-3] if len(fields) >= 3 else None
    for i, o in enumerate(occurrences):
        if o.alias == qual and (schema is None or o.table[0] == schema) and column in o.columns:
            return i, column
    return None
