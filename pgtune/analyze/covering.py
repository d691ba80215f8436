"""The columns an index-only scan needs besides an index's keys (its INCLUDE).

An index answers a statement from the index alone only when it holds every
column the statement reads of that table: a column the SELECT list outputs,
and as much a column a filter reads that no key serves (u8: Umami's
``event_type NOT IN (2, 5)``), a join or a GROUP BY column. An INCLUDE that
misses one of them costs writes and gives no index-only scan.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..capture import Catalog, Index, TableKey
from ..ddl import IndexKey
from .shape import FUNC, STAR, ColumnUse

MAX_INCLUDE = 3            # INCLUDE at most this many columns
_NARROW_TYPES = ("integer", "bigint", "smallint", "boolean", "date", "uuid", "real", "double precision",
                 "timestamp", "time", "numeric", "oid")


def include_columns(uses: list[ColumnUse], keys: tuple[IndexKey, ...], table: TableKey, catalog: Catalog,
                    limited: bool, implied: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """The narrow columns besides the keys that would let an index-only scan answer the statement.

    Every column the statement reads of this table occurrence: its output, the
    filters no key serves (``event_type NOT IN (2, 5)``, u8), its joins and
    groups. A partial index's own predicate columns (``implied``) are not needed:
    the server leaves out a filter the predicate implies.
    """
    if limited or any(u.role == STAR for u in uses):
        return ()       # a LIMITed scan reads few heap rows anyway; SELECT * cannot be covered
    t = catalog.tables.get(table)
    if t is None:
        return ()
    keyed = {k.column for k in keys if k.expression is None} | implied
    needed = unique(u.column for u in uses if u.role != FUNC and u.column not in keyed)
    if not needed or len(needed) > MAX_INCLUDE:
        return ()
    if any(u.role == FUNC for u in uses) or not all(t.column_type(c).startswith(_NARROW_TYPES) for c in needed):
        return ()
    return tuple(needed)


def unique(items: Iterable[str]) -> list[str]:
    """``items`` without repeats, in their first order."""
    return list(dict.fromkeys(items))


# A definition with any of these rebuilds differently from its keys alone: an operator class, a collation,
# NULLS FIRST/LAST, storage parameters, a tablespace. No twin replaces such an index.
_NOT_PLAIN = (" COLLATE ", "_ops", " NULLS ", " WITH (", " TABLESPACE ")


def plain(index: Index) -> bool:
    """Does ``index`` rebuild exactly from its keys, predicate and INCLUDE (nothing a twin would lose)?"""
    return not any(word in index.definition for word in _NOT_PLAIN)
