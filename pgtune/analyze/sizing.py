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
  ~1352 bytes, each duplicate costing a 6-byte row pointer; under two rows a
  key, the duplicates are taken as pairs, each pair one tuple;
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
NONLEAF_FILLFACTOR = 0.70        # btree inner pages at CREATE INDEX
MAX_POSTING = 1352               # a posting list tuple at build time: half of BTMaxItemSize
TID = 6
NEAR_UNIQUE = 0.95               # distinct keys from this share of the rows on: no key sample counts them
IN_ORDER = 0.9                   # |pg_stats.correlation| from which a table is taken to be stored in a column's order
# Types whose btree operator class allows deduplication is the common case; these do not.
_NO_DEDUP = ("numeric", "real", "double precision", "float", "jsonb")
_FIXED = {"smallint": 2, "integer": 4, "bigint": 8, "date": 4, "boolean": 1, "real": 4, "double precision": 8,
          "uuid": 16, "oid": 4, "timestamp": 8, "time": 8, "money": 8, "interval": 16}


def maxalign(n: float) -> int:
    """``n`` bytes rounded up to the 8-byte boundary tuples are padded to (MAXALIGN)."""
    return int(math.ceil(n / 8.0) * 8)


def heap_forecast(rows: float, row_width: float, columns: int, fillfactor: int = 100) -> int:
    """Bytes a freshly written heap needs for ``rows`` of ``row_width`` (the columns' avg_width summed).

    Tuple header (23 bytes) and null bitmap padded to 8, the data padded to 8,
    a 4-byte line pointer; pages of 8168 usable bytes filled to the fillfactor.
    """
    tuple_bytes = maxalign(23 + math.ceil(columns / 8)) + maxalign(row_width) + 4
    per_page = (PAGE - 24) * fillfactor / 100
    return int(math.ceil(rows * tuple_bytes / per_page) * PAGE)


def _width(col: ColumnInfo | None, expression: bool) -> float:
    if col is None:
        return 8.0
    if expression:          # an expression's result has no statistics: at most its column's width
        return min(8.0, _width(col, False))
    for name, size in _FIXED.items():
        if col.type.startswith(name):
            return float(size)
    # avg_width is an integer average: half a byte more keeps a key at an 8-byte boundary honest.
    return col.avg_width + 0.5 if col.avg_width else 16.0


def exact(col: ColumnInfo | None) -> bool:
    """Is the column's width in an index tuple known without a sample: a fixed-width type, never NULL?

    Never NULL by its constraint, or by pg_stats (null_frac 0: ANALYZE's
    sample saw none). A key sample of such a column measures the type's own
    width; the NULLs ANALYZE missed are too rare to move the mean (TPC-H,
    loaded with no constraints: its integer and date columns were sampled
    for the tuple bytes the type gives, 16 of 49 sampled indexes a suggest).
    """
    return col is not None and (col.not_null or col.null_frac == 0.0) and any(
        col.type.startswith(name) for name in _FIXED)


def dedups(types: Iterable[str]) -> bool:
    """Can a btree on keys of these types deduplicate (its operator classes have equalimage)?"""
    return not any(t.startswith(_NO_DEDUP) or t.endswith(("[]", "range")) for t in types)


def forecast(catalog: Catalog, table: TableKey, keys: tuple[IndexKey, ...], *, include: tuple[str, ...] = (),
             fraction: float | None = None, fillfactor: float = FILLFACTOR, distinct: float | None = None,
             tuple_bytes: float | None = None, heavy: tuple[float, float] | None = None) -> int:
    """Forecast bytes of a btree index on ``table`` (``fraction``: the share of rows a partial one keeps).

    ``distinct``: the number of distinct keys, where known (sample_keys); else from pg_stats.
    ``heavy``: of those, the rows and keys of the part the sample saw repeat (key_sample's KeySample): each
    part is deduplicated by its own rows a key, not one mean over both.
    ``tuple_bytes``: a leaf tuple's mean size, where sampled (sample_keys); else from pg_stats' avg_width.
    A partitioned table's index is built once per leaf partition, each with the
    partition's own rows and statistics: the sum of their forecasts (``distinct``,
    known for the whole table only, is then left to each partition's statistics).
    """
    t = catalog.tables.get(table)
    if t is not None and t.partitioned:
        return sum(forecast(catalog, leaf, keys, include=include, fraction=fraction, fillfactor=fillfactor)
                   for leaf in catalog.leaf_partitions(table) if leaf != table)
    leaves, width = _leaves(catalog, table, keys, include, fraction, fillfactor, distinct, tuple_bytes, heavy)
    if not leaves:
        return PAGE              # an index on no rows is its metapage (an empty table, a predicate keeping none)
    fanout = max(2, USABLE // (maxalign(8 + width) + 4))
    inner, level = 0, leaves
    while level > 1:
        level = math.ceil(level / fanout)
        inner += level
    return int((leaves + inner + 1) * PAGE)


def height(catalog: Catalog, table: TableKey, keys: tuple[IndexKey, ...], *, include: tuple[str, ...] = (),
           fraction: float | None = None, distinct: float | None = None) -> int:
    """The levels above the leaves a freshly built btree will have (``bt_metap``'s level; 0: the root is a leaf).

    CREATE INDEX fills inner pages to 70% (BTREE_NONLEAF_FILLFACTOR); a pivot
    tuple holds the key (suffix truncation keeps it whole for a one-column key).
    For a partitioned table: the tallest of its partitions' indexes.
    """
    t = catalog.tables.get(table)
    if t is not None and t.partitioned:
        return max((height(catalog, leaf, keys, include=include, fraction=fraction)
                    for leaf in catalog.leaf_partitions(table) if leaf != table), default=0)
    leaves, width = _leaves(catalog, table, keys, include, fraction, FILLFACTOR, distinct, None)
    fanout = max(2, int(USABLE * NONLEAF_FILLFACTOR) // (maxalign(8 + width) + 4))
    levels, level = 0, leaves
    while level > 1:
        level = math.ceil(level / fanout)
        levels += 1
    return levels


def _leaves(catalog: Catalog, table: TableKey, keys: tuple[IndexKey, ...], include: tuple[str, ...],
            fraction: float | None, fillfactor: float, distinct: float | None,
            tuple_bytes: float | None, heavy: tuple[float, float] | None = None) -> tuple[int, float]:
    """Leaf pages of the index (0 on no rows) and its key width in bytes (a sampled tuple size wins)."""
    t = catalog.tables.get(table)
    rows = max(t.reltuples if t else 0.0, 0.0) * (fraction if fraction is not None else 1.0)
    if rows <= 0:
        return 0, 0.0
    cols = catalog.table_columns(table)
    key_cols = [cols.get(k.column) for k in keys]
    width = sum(_width(c, k.expression is not None) for c, k in zip(key_cols, keys, strict=True))
    width_all = width + sum(_width(cols.get(c), False) for c in include)
    head = tuple_bytes if tuple_bytes is not None else maxalign(8 + width_all)
    types = [c.type if c is not None and k.expression is None else "" for c, k in zip(key_cols, keys, strict=True)]
    share = fraction if fraction is not None else 1.0
    if distinct is not None:
        distinct = min(distinct * share, rows)
    else:
        distinct = _distinct(key_cols, keys, rows)
    can = not include and dedups(types)
    if heavy is not None and heavy[1] > 0:
        heavy_rows, heavy_keys = min(heavy[0] * share, rows), min(heavy[1] * share, distinct)
        leaf_bytes = (_stored(rows - heavy_rows, distinct - heavy_keys, head, can)
                      + _stored(heavy_rows, heavy_keys, head, can))
    else:
        leaf_bytes = _stored(rows, distinct, head, can)
    if tuple_bytes is not None and not include:
        width = tuple_bytes - 8        # inner pages' pivot tuples hold the keys as sampled too
    return max(1, math.ceil(leaf_bytes / (USABLE * fillfactor))), width


def _stored(rows: float, distinct: float, head: float, can: bool) -> float:
    """Leaf bytes of ``rows`` over ``distinct`` keys, each a ``head``-byte tuple; ``can``: deduplicated."""
    plain = head + 4
    leaf_bytes = rows * plain
    if rows <= 0:
        return 0.0
    if can and distinct > 0 and rows / distinct >= 2:
        dups = rows / distinct
        per_list = max(1, int(MAX_POSTING - head) // TID)
        lists = math.ceil(dups / per_list)
        per_value = lists * (head + 4) + maxalign(dups * TID / lists) * lists
        leaf_bytes = min(leaf_bytes, distinct * per_value)
    elif can and 0 < distinct < NEAR_UNIQUE * rows:   # (near_unique: none to count)
        # Under two rows a key the duplicates are deduplicated too: taken as pairs (the most tuples for that many
        # duplicates), each one tuple with two TIDs (r11 F12: 1.9 rows a key forecast 11.7 MB, built 8.1).
        leaf_bytes = distinct * plain + (rows - distinct) * maxalign(2 * TID)
    return leaf_bytes


def _distinct(cols: list[ColumnInfo | None], keys: tuple[IndexKey, ...], rows: float) -> float:
    """Distinct keys of the combination, between two bounds.

    One column: pg_stats' estimate, except that ANALYZE samples whole blocks,
    so on a table stored in key order (correlation near 1) it sees each key's
    duplicates together and under-counts the keys: the geometric mean with the
    row count is taken instead. Several columns (when no sample could be
    taken): the rows drawn at random into the product of the columns' counts
    (independence), n·(1 − e^(−rows/n)), at least any one column's count.
    """
    if rows <= 0:
        return 0.0
    each = []
    for c, k in zip(cols, keys, strict=True):
        if c is None or k.expression is not None or c.n_distinct is None:
            return rows          # unknown: assume unique, the conservative (larger) forecast
        d = max(distinct_count(c.n_distinct, c.reltuples), 1.0)
        if c.n_distinct > 0 and abs(c.correlation or 0.0) >= IN_ORDER and d >= 0.01 * rows:
            d = math.sqrt(d * rows)
        each.append(min(d, rows))
    if len(each) == 1:
        return each[0]
    bins = math.prod(each)      # never fewer than one column's own (a unique column's keys are all distinct)
    return min(rows, max(max(each), bins * -math.expm1(-rows / bins)))
