"""A foreign key's index without the rows whose key is NULL, where most rows leave the key unset.

A foreign key's index exists for one search: the rows that reference a
parent row, looked up when the parent is deleted (or its key updated) and
when the workload joins the child to the parent. Both search by equality
(the RI query is ``WHERE fk = $1``, a join ``child.fk = parent.id``), and
``=`` is strict: it is never true on a NULL key, so the planner proves
``fk IS NOT NULL`` from it and may use an index built only on the rows that
have a key. Where the key is mostly NULL (an optional reference: Cal.com's
Booking."reassignById", 100% NULL on 1.8M rows), the full index is mostly
NULL entries (12 MB) that no such search reads, and the partial one is a
few pages (8 kB).

The predicate is printed by pglast from its tree (column names are
identifiers, never pasted), and parsed back to recognise such an index.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from pglast import ast
from pglast.enums import BoolExprType, NullTestType

from .. import sqltext
from ..capture import Catalog, ForeignKey, Index, TableKey
from ..ddl import IndexKey
from ..sqltext import ParseFailed

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

C = TypeVar("C", bound="DataclassInstance")    # analyze.candidates' Candidate (which imports this module)


class Probe(Protocol):
    """What ``narrowed`` reads of a candidate (analyze.candidates' Candidate, which imports this module)."""

    __dataclass_fields__: ClassVar[dict[str, Any]]
    table: TableKey
    keys: tuple[IndexKey, ...]
    equality: int
    where: str | None
    include: tuple[str, ...]


P = TypeVar("P", bound=Probe)

# A key this NULL (pg_stats null_frac, the least NULL of its columns) gets the partial index. Why half: a
# btree stores a NULL as one 6-byte TID in a posting list (deduplication, PostgreSQL 13+) where a set key
# costs a 16-byte tuple and its line pointer when keys are unique, 6 bytes when they repeat: at half NULL the
# partial one is 27% (unique keys) to 50% (repeated keys) smaller, at 90% NULL 75-90% smaller (measured,
# PG15, 200k rows: 24%/49% at half, 73%/87% at 90%). Below half the saving is under a quarter.
MOSTLY_NULL = 0.5
LABEL = "not_null"      # the index name's where_ part: <table>_<key>_where_not_null_<suffix>


@dataclass(frozen=True)
class NotNullKey:
    """The partial index's predicate for one foreign key, and the share of rows it keeps."""

    where: str          # "a" IS NOT NULL [AND "b" IS NOT NULL], as pglast prints it
    fraction: float     # share of the table's rows with every key column set (at most the least NULL's)
    null_frac: float    # pg_stats null_frac of the key's least NULL column


def unplanned(catalog: Catalog, table: TableKey) -> bool:
    """Would what-if costing never see a partial index of ``table``: a partitioned one?

    HypoPG 1.3.1 makes a hypothetical index of a partitioned table on its partitions, but one with a predicate
    no plan uses (``WHERE key IS NOT NULL``, ``WHERE finished``: tried; on a partition it is used). Such a
    candidate is never chosen, and its statements were said to have no index that helps (p13: 42% of a
    Formbricks-shaped workload's cost, 30,435 per call where the full index plans at 105).
    """
    t = catalog.tables.get(table)
    return t is not None and t.partitioned


def predicate(columns: tuple[str, ...]) -> str:
    """``"a" IS NOT NULL AND "b" IS NOT NULL``, printed by pglast (each name an identifier)."""
    tests = [ast.NullTest(arg=ast.ColumnRef(fields=(ast.String(sval=c),)), nulltesttype=NullTestType.IS_NOT_NULL,
                          argisrow=False, location=-1) for c in columns]
    node: ast.Node = tests[0] if len(tests) == 1 else ast.BoolExpr(boolop=BoolExprType.AND_EXPR, args=tuple(tests))
    return sqltext.printed(node)


def not_null_key(catalog: Catalog, fk: ForeignKey) -> NotNullKey | None:
    """The predicate for ``fk``'s index when pg_stats says the key is mostly NULL; None otherwise.

    A row takes part in the key (MATCH SIMPLE) only when every key column is
    set, so the partial index keeps at most the least NULL column's share.
    Without statistics for every column (never analyzed, hidden from the
    role), the full index: nothing says the partial one would be smaller.
    """
    shares = []
    for column in fk.columns:
        st = catalog.column_stats.get((fk.schema, fk.table, column))
        if st is None:
            return None
        shares.append(st.null_frac)
    least = min(shares)
    if least < MOSTLY_NULL:
        return None
    return NotNullKey(predicate(fk.columns), 1.0 - least, least)


def implied_by_key(where: str, columns: tuple[str, ...]) -> bool:
    """Is ``where`` (pg_get_expr of an index predicate) only ``col IS NOT NULL`` tests of ``columns``?

    Then the key's equality searches (the RI query, a join on the key) prove
    it, and the partial index serves them as a full one would.
    """
    try:
        node = sqltext.expression(where)
    except ParseFailed:
        return False
    conjunction = isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.AND_EXPR
    tests = sqltext.seq(node.args) if conjunction else (node,)
    return all(_tests_key(test, columns) for test in tests)


def _tests_key(test: object, columns: tuple[str, ...]) -> bool:
    """Is ``test`` ``col IS NOT NULL`` for one of ``columns`` (a bare column name)?"""
    if not (isinstance(test, ast.NullTest) and test.nulltesttype == NullTestType.IS_NOT_NULL
            and isinstance(test.arg, ast.ColumnRef)):
        return False
    fields = sqltext.seq(test.arg.fields)
    return len(fields) == 1 and isinstance(fields[0], ast.String) and fields[0].sval in columns


def as_full(index: Index, fk: ForeignKey) -> Index:
    """``index`` without its predicate when the predicate only leaves out rows with a NULL key of ``fk``."""
    if index.predicate is not None and implied_by_key(index.predicate, fk.columns):
        return replace(index, predicate=None)
    return index


def partial(cand: C, catalog: Catalog, fk: ForeignKey) -> C:
    """A foreign key's candidate, as the partial index WHERE its key IS NOT NULL when the key is mostly NULL.

    Its size is forecast from the rows it keeps (``where_fraction``, the
    non-NULL share pg_stats gives: exact, never sampled again).
    """
    key = not_null_key(catalog, fk)
    if key is None:
        return cand
    return replace(cand, where=key.where, where_label=LABEL, where_fraction=key.fraction)


def narrowed(cands: list[P], catalog: Catalog) -> list[P]:
    """``cands``, each whose equality keys hold a mostly-NULL column, WHERE those columns are NOT NULL.

    Such a key serves ``col = $1``, ``col IN (…)``/``= ANY($1)`` or a join
    clause ``col = other.id``, all strict: the planner proves the predicate
    from each (the join's too: tests/test_fk_not_null_index), so the partial
    index serves what the full one would, for a longer key too (``"contactId"
    = $1 ORDER BY created_at``: u15 L2, where the full two-column index kept
    the NULL half that health's fix left out). In place of the full one, not
    beside it: a full candidate serves the partial and would absorb it
    (candidates.merge). What-if costing still judges it against the full
    single-column seed (workload.single_columns): HypoPG plans its
    hypothetical partial index for ``col = $1`` but not for a join clause,
    so a key only joined on keeps the full index (the real partial one would
    serve the join: tests/test_fk_not_null_index). Nor on a partitioned table (``unplanned``).
    """
    out = []
    for cand in cands:
        if cand.where is None and not unplanned(catalog, cand.table):
            nulls = {k.column: st.null_frac for k in cand.keys[:cand.equality] if k.expression is None
                     and (st := catalog.column_stats.get((*cand.table, k.column))) is not None
                     and st.null_frac >= MOSTLY_NULL}
            if nulls:
                # A row is in it only when every such key is set: at most the least NULL one's share.
                cand = replace(cand, where=predicate(tuple(nulls)), where_label=LABEL,
                               where_fraction=1 - max(nulls.values()))
        out.append(cand)
    return out
