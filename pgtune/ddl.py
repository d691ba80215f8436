"""The DDL pgtune proposes, built as pglast AST nodes and printed by pglast.

Nothing here pastes an identifier into a string: pglast's printer quotes
exactly when needed ("userId", "order", "a""b"), so Prisma-style names and
keywords come out right by construction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pglast import ast, parse_sql
from pglast.enums import DropBehavior, ObjectType, SortByDir, SortByNulls
from pglast.stream import RawStream

MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1


@dataclass(frozen=True)
class IndexKey:
    column: str
    descending: bool = False


def _print(node: ast.Node) -> str:
    return str(RawStream()(node))


def _range_var(schema: str, table: str) -> ast.RangeVar:
    return ast.RangeVar(schemaname=schema, relname=table, inh=True, relpersistence="p")


def index_name(table: str, keys: tuple[IndexKey, ...], suffix: str = "idx") -> str:
    """Deterministic name ``<table>_<col>_<col>_idx``, at most 63 bytes.

    Longer names keep a readable head and end in a short hash of the full
    name, so two long candidates never collide after truncation.
    """
    parts = [table, *(k.column + ("_desc" if k.descending else "") for k in keys), suffix]
    full = "_".join(parts)
    if len(full.encode()) <= MAX_IDENTIFIER_BYTES:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    head = full.encode()[: MAX_IDENTIFIER_BYTES - len(digest) - 1].decode("utf-8", "ignore")
    return f"{head}_{digest}"


def create_index(schema: str, table: str, name: str, keys: tuple[IndexKey, ...], *,
                 concurrently: bool = True, where: str | None = None) -> str:
    """``CREATE INDEX CONCURRENTLY IF NOT EXISTS name ON schema.table (keys)``."""
    params = [
        ast.IndexElem(name=k.column,
                      ordering=SortByDir.SORTBY_DESC if k.descending else SortByDir.SORTBY_DEFAULT,
                      nulls_ordering=SortByNulls.SORTBY_NULLS_DEFAULT)
        for k in keys
    ]
    where_node = None
    if where is not None:
        # The predicate is an expression pgtune itself printed; re-parse it to get a node.
        where_node = parse_sql(f"SELECT WHERE {where}")[0].stmt.whereClause
    stmt = ast.IndexStmt(idxname=name, relation=_range_var(schema, table), accessMethod="btree",
                         indexParams=params, whereClause=where_node,
                         concurrent=concurrently, if_not_exists=concurrently)
    return _print(stmt)


def drop_index(schema: str, name: str, *, concurrently: bool = True) -> str:
    stmt = ast.DropStmt(objects=((ast.String(sval=schema), ast.String(sval=name)),),
                        removeType=ObjectType.OBJECT_INDEX, behavior=DropBehavior.DROP_RESTRICT,
                        missing_ok=True, concurrent=concurrently)
    return _print(stmt)


def analyze(schema: str, table: str) -> str:
    stmt = ast.VacuumStmt(rels=(ast.VacuumRelation(relation=_range_var(schema, table)),),
                          is_vacuumcmd=False)
    return _print(stmt)


def qualified(schema: str, name: str) -> str:
    """``schema.name`` quoted as pglast would, for messages and manifests."""
    return _print(_range_var(schema, name))
