"""Statements no index helps: said so, with the shape that keeps an index out when pgtune can tell.

A workload's costliest statement may be one no index can serve: a count over
``"userId" = $1 OR EXISTS (…)`` reads every row whatever is built, because
no single index answers an OR whose one side is a subquery. The advice would
look complete while most of the cost stays; so each statement that carries a
real share of the workload's cost and gets no cheaper is named, and the
reason given where the shape shows it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Protocol

from pglast import ast
from pglast.enums import A_Expr_Kind, BoolExprType, SortByDir, SortByNulls
from pglast.stream import RawStream

from .._text import statement_named
from ..sqltext import ParseFailed, parse, walk

SHARE = 0.10      # a statement at least this share of the workload's planned cost is worth a word
MOSTLY = 2.0      # …when the new indexes cut it by less than this


class _Row(Protocol):
    queryid: int | None
    query: str
    calls: int
    cost_before: float | None
    cost_after: float | None
    note: str

    @property
    def credited(self) -> bool: ...


def why(query: str) -> str:
    """What in the statement keeps an index out, when the shape shows it ('' when it does not)."""
    try:
        stmts = parse(query)
    except ParseFailed:
        return ""
    for node in walk(stmts[0].stmt if stmts else None):
        if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.OR_EXPR and _has_subquery(node):
            return ("it filters with an OR whose branch is a subquery (… OR EXISTS (…)): the planner "
                    "evaluates it row by row over the whole table, and no index serves the OR as a whole; "
                    "rewritten as a UNION of the two branches, each can use its own index")
    top = stmts[0].stmt if stmts else None
    return _nulls_order(top) if isinstance(top, ast.SelectStmt) else ""


def _odd_nulls(sort: ast.SortBy) -> bool:
    """A NULLS order written against its direction's default (DESC NULLS LAST, ASC NULLS FIRST)."""
    desc = sort.sortby_dir == SortByDir.SORTBY_DESC
    return sort.sortby_nulls == (SortByNulls.SORTBY_NULLS_LAST if desc else SortByNulls.SORTBY_NULLS_FIRST)


def _nulls_order(select: ast.SelectStmt) -> str:
    """A LIMITed ORDER BY with a NULLS order against its direction's default (Prisma's ``{ sort: 'desc', nulls:
    'last' }``): only an index key written the same way gives that order, and pgtune proposes default-ordered keys
    only (p34: OpenPanel's insight list, 13% of its workload, "no index could"); the index said, built by hand."""
    sorts = [s for s in select.sortClause or () if isinstance(s, ast.SortBy)]
    if select.limitCount is None or not any(_odd_nulls(s) for s in sorts):
        return ""
    written = ", ".join(_written(s) for s in sorts if _odd_nulls(s))
    said = (f"its ORDER BY asks {written}, a NULLS order other than its direction's default, which only an index "
            "key written the same way gives; pgtune proposes keys in the default NULLS order only")
    recipe = _recipe(select, sorts)
    return said + (f"; by hand: {recipe}" if recipe else "")


def _recipe(select: ast.SelectStmt, sorts: list[ast.SortBy]) -> str:
    """``CREATE INDEX CONCURRENTLY ON t (the columns pinned by =, then the ORDER BY's keys as written)``, for a
    statement on one table whose sort keys are its columns; '' otherwise."""
    tables = select.fromClause or ()
    if len(tables) != 1 or not isinstance(tables[0], ast.RangeVar):
        return ""
    order = [_column(s.node) for s in sorts]
    if any(c is None for c in order):
        return ""
    pinned = [c for c in _pinned(select.whereClause) if c not in order]
    keys = [ast.IndexElem(name=c, ordering=SortByDir.SORTBY_DEFAULT, nulls_ordering=SortByNulls.SORTBY_NULLS_DEFAULT)
            for c in dict.fromkeys(pinned)]
    keys += [ast.IndexElem(name=c, ordering=s.sortby_dir, nulls_ordering=s.sortby_nulls)
             for c, s in zip(order, sorts, strict=True)]
    rel = tables[0]
    index = ast.IndexStmt(relation=ast.RangeVar(schemaname=rel.schemaname, relname=rel.relname, inh=True,
                                                relpersistence="p"), accessMethod="btree", indexParams=keys,
                          concurrent=True)
    return str(RawStream()(index))


def _written(sort: ast.SortBy) -> str:
    """The sort key as written, a column by its name alone (``"relevanceScore" DESC NULLS LAST``)."""
    col = _column(sort.node)
    node = ast.ColumnRef(fields=(ast.String(sval=col),)) if col is not None else sort.node
    return str(RawStream()(ast.SortBy(node=node, sortby_dir=sort.sortby_dir, sortby_nulls=sort.sortby_nulls)))


def _column(node: Any) -> str | None:
    if isinstance(node, ast.ColumnRef) and node.fields and isinstance(node.fields[-1], ast.String):
        return str(node.fields[-1].sval)
    return None


def _pinned(where: Any) -> list[str]:
    """The columns a WHERE of ANDed conjuncts compares with ``=`` to a parameter or constant."""
    parts = where.args if isinstance(where, ast.BoolExpr) and where.boolop == BoolExprType.AND_EXPR else (where,)
    out = []
    for p in parts or ():
        name = tuple(p.name or ()) if isinstance(p, ast.A_Expr) else ()
        if isinstance(p, ast.A_Expr) and p.kind == A_Expr_Kind.AEXPR_OP and len(name) == 1 \
                and getattr(name[0], "sval", None) == "=" and _column(p.lexpr) is not None \
                and _column(p.rexpr) is None and not any(isinstance(n, ast.ColumnRef) for n in walk(p.rexpr)):
            out.append(str(_column(p.lexpr)))
    return out


def _has_subquery(node: Any) -> bool:
    return any(isinstance(n, ast.SubLink) for arg in node.args or () for n in walk(arg))


def mark(rows: Sequence[_Row], outweighed: Collection[int] = ()) -> list[str]:
    """Note the statements at least SHARE of the workload's cost that the new indexes leave (mostly) as
    costly: none makes them cheaper, or they keep over half their cost for a reason the shape shows; hints.

    ``outweighed``: id() of the rows an index would cut by 10% or more whose write upkeep outweighed the cut
    (analyze.selection): said so, not "no index makes it cheaper".
    """
    total = sum(r.calls * r.cost_before for r in rows if r.cost_before is not None)
    hints = []
    for r in rows:
        if r.cost_before is None or not total or r.cost_after is None or r.cost_after * MOSTLY < r.cost_before:
            continue
        share = r.calls * r.cost_before / total
        if share < SHARE:
            continue
        reason = why(r.query)
        if not r.credited and id(r) in outweighed:
            r.note = ("an index would make it cheaper, but the writes of the table it reads would cost more to keep "
                      "that index up to date than the reads save: not proposed")
        elif r.cost_after >= r.cost_before:
            r.note = "no index pgtune could propose makes it cheaper" + (f": {reason}" if reason else "")
        elif reason or not r.credited:      # a cut under MIN_GAIN is said too
            cut = f"{r.cost_before / r.cost_after:.1f}x" if r.credited else \
                f"by {1 - r.cost_after / r.cost_before:.0%}"
            r.note = f"the proposed indexes cut it only {cut} and most of its cost stays" + (f": {reason}" if reason
                                                                                              else "")
        else:
            continue        # helped, if not by much, for no reason the shape shows
        hints.append(f"{_name(r)} is {share:.0%} of the workload's planned cost and {r.note}")
    return hints


def helped(rows: Sequence[_Row], hints: list[str]) -> None:
    """Take back ``mark``'s word on the statements a later proposal (a GIN, BRIN or hash index: analyze.beyond)
    makes cheaper after all."""
    for r in rows:
        if r.note and r.cost_before is not None and r.cost_after is not None and r.cost_after * MOSTLY < r.cost_before:
            hints[:] = [h for h in hints if not (h.startswith(f"{_name(r)} is ") and h.endswith(r.note))]
            r.note = ""


def _name(r: _Row) -> str:
    return statement_named(r.query, r.queryid)


def held(rows: Sequence[_Row], cut: Sequence[bool], hints: list[str], budget: str) -> None:
    """``mark``'s "no index pgtune could propose makes it cheaper" on the statements a GIN, BRIN or hash index
    would cut (``cut``) that only ``budget`` held back (analyze.kind_budget): said so, in the hint too (p28)."""
    for r, cuts in zip(rows, cut, strict=True):
        if not cuts or not r.note.startswith("no index pgtune could propose"):
            continue
        old, r.note = r.note, f"an index would make it cheaper, but the budget held it back: {budget}"
        hints[:] = [h.removesuffix(old) + r.note if h.startswith(f"{_name(r)} is ") and h.endswith(old) else h
                    for h in hints]
