"""No proposal may name a virtual generated column: PostgreSQL 18 refuses any index that does.

A virtual generated column (the default kind in PostgreSQL 18) has no storage; the
server refuses an index whose key, INCLUDE or predicate names one ("indexes on
virtual generated columns are not supported"), so a migration holding such an
index fails at that build (p17, Inbox-Zero-shaped: ("emailAccountId", "senderKey")
stopped apply's first phase). The binder already turns a filter on one into a use
of its expression; this review withdraws whatever other path (GIN, BRIN, hash
kinds, a partial index's predicate) still names one, with a hint saying which
expression index would serve instead.
"""

from __future__ import annotations

from pglast import ast

from ..capture import Catalog
from ..sqltext import ParseFailed, expression, names, walk
from .model import Advice, IndexSuggestion


def review(catalog: Catalog, advice: Advice) -> None:
    """Withdraw each proposal that names a virtual generated column of its table."""
    for ix in list(advice.indexes):
        table = catalog.tables.get((ix.schema, ix.table))
        if table is None or not table.virtual:
            continue
        named = [c for c in _columns(ix) if table.generated_as(c) is not None]
        if named:
            col = named[0]
            advice.withdraw(ix.name, (
                f'{ix.name} withdrawn: "{col}" is a virtual generated column (GENERATED ALWAYS AS '
                f"({table.generated_as(col)})), which PostgreSQL cannot index; an index on that expression serves "
                "its filters (the planner reads the column as it), or make the column STORED"), ix.schema)


def _columns(ix: IndexSuggestion) -> list[str]:
    """The columns the index's plain keys, INCLUDE and predicate name."""
    exprs = ix.expressions or [None] * len(ix.columns)
    out = [c for c, e in zip(ix.columns, exprs, strict=False) if e is None]
    out += ix.include
    for text in [e for e in exprs if e is not None] + ([ix.where] if ix.where else []):
        try:
            out += [names(n.fields)[-1] for n in walk(expression(text)) if isinstance(n, ast.ColumnRef)]
        except ParseFailed:
            continue
    return out
