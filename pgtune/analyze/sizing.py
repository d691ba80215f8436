"""How many bytes a btree index will take on disk, before it is built.

HypoPG sizes a hypothetical index as if every row had its own leaf tuple.
Since PostgreSQL 13 a btree stores a key that repeats once, followed by the
row pointers of all its duplicates (deduplication), so an index on a
low-cardinality column (a date, a status, a foreign key with many children)
is often a third of that. The model here follows the on-disk layout:

* leaf tuple = 8-byte header + key (``pg_stats.avg_width`` per column, or the
  type's fixed width), padded to 8 bytes, + a 4-byte line pointer;
* with deduplication (no INCLUDE columns, every key type allows it: not
  numeric, float, jsonb, arrays…), each distinct key (``pg_stats.n_distinct``,
  columns assumed independent) is stored once per posting list of up to
  ~1352 bytes, each duplicate costing a 6-byte row pointer;
* leaf pages are filled to the fillfactor (90 for btree) of 8152 usable
  bytes; inner pages add one per fan-out of leaf pages; plus the metapage.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ..capture import Catalog, ColumnInfo, TableKey, distinct_count
from ..ddl import IndexKey

PAGE = 8192
USABLE = PAGE - 24 - 16          # page header, btree special space
FILLFACTOR = 0.90                # btree leaf pages at CREATE INDEX
MAX_POSTING = 1352               # a posting list tuple at build time: half of BTMaxItemSize
TID = 6
# Types whose btree operator class allows deduplication is the common case; these do not.
_NO_DEDUP = ("numeric", "real", "double precision", "float", "jsonb")
_FIXED = {"smallint": 2, "integer": 4, "bigint": 8, "date": 4, "boolean": 1, "real": 4, "double precision": 8,
          "uuid": 16, "oid": 4, "timestamp": 8, "time": 8, "money": 8, "interval": 16}


def _maxalign(n: float) -> int:
    return int(math.ceil(n / 8.0) * 8)


def _width(col: ColumnInfo | None, expression: bool) -> float:
    if col is None or expression:
        return 8.0          # an expression's result: no statistics of its own; a typical scalar
    for name, size in _FIXED.items():
        if col.type.startswith(name):
            return float(size)
    # avg_width is an integer average: half a byte more keeps a key at an 8-byte boundary honest.
    return col.avg_width + 0.5 if col.avg_width else 16.0


def dedups(types: Iterable[str]) -> bool:
    """Can a btree on keys of these types deduplicate (its operator classes have equalimage)?"""
    return not any(t.startswith(_NO_DEDUP) or t.endswith(("[]", "range")) for t in types)


def forecast(catalog: Catalog, table: TableKey, keys: tuple[IndexKey, ...], *, include: tuple[str, ...] = (),
             fraction: float | None = None, fillfactor: float = FILLFACTOR) -> int:
    """Forecast bytes of a btree index on ``table`` (``fraction``: the share of rows a partial one keeps)."""
    t = catalog.tables.get(table)
    rows = max(t.reltuples if t else 0.0, 0.0) * (fraction if fraction is not None else 1.0)
    cols = {c.name: c for c in catalog.columns if (c.schema, c.table) == table}
    key_cols = [cols.get(k.column) for k in keys]
    width = sum(_width(c, k.expression is not None) for c, k in zip(key_cols, keys, strict=True))
    width_all = width + sum(_width(cols.get(c), False) for c in include)
    plain = _maxalign(8 + width_all) + 4
    types = [c.type if c is not None and k.expression is None else "" for c, k in zip(key_cols, keys, strict=True)]
    distinct = _distinct(key_cols, keys, rows)
    leaf_bytes = rows * plain
    if not include and dedups(types) and distinct > 0 and rows / distinct >= 2:
        dups = rows / distinct
        per_list = max(1, (MAX_POSTING - _maxalign(8 + width)) // TID)
        lists = math.ceil(dups / per_list)
        per_value = lists * (_maxalign(8 + width) + 4) + _maxalign(dups * TID / lists) * lists
        leaf_bytes = min(leaf_bytes, distinct * per_value)
    leaves = max(1, math.ceil(leaf_bytes / (USABLE * fillfactor)))
    fanout = max(2, USABLE // (_maxalign(8 + width) + 4))
    inner, level = 0, leaves
    while level > 1:
        level = math.ceil(level / fanout)
        inner += level
    return int((leaves + inner + 1) * PAGE)


def _distinct(cols: list[ColumnInfo | None], keys: tuple[IndexKey, ...], rows: float) -> float:
    """Distinct keys of the combination, between two bounds.

    One column: pg_stats' estimate, except that ANALYZE samples whole blocks,
    so on a table stored in key order (correlation near 1) it sees each key's
    duplicates together and under-counts the keys: the geometric mean with the
    row count is taken instead. Several columns: at least the most distinct
    one, at most the product (independence) or the rows; correlated columns
    (a part and its suppliers) sit in between, so the geometric mean of the
    two bounds.
    """
    each = []
    for c, k in zip(cols, keys, strict=True):
        if c is None or k.expression is not None or c.n_distinct is None:
            return rows          # unknown: assume unique, the conservative (larger) forecast
        d = max(distinct_count(c.n_distinct, c.reltuples), 1.0)
        if c.n_distinct > 0 and abs(c.correlation or 0.0) >= 0.9 and d >= 0.01 * rows:
            d = math.sqrt(d * rows)
        each.append(min(d, rows))
    if len(each) == 1:
        return each[0]
    low, high = max(each), min(math.prod(each), rows)
    return math.sqrt(low * high)
