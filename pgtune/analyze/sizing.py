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
  812 bytes (CREATE INDEX's cap: a tenth of the page less a line pointer),
  each duplicate costing a 6-byte row pointer; under two rows a key, the
  duplicates are taken as pairs, each pair one tuple;
* leaf pages are filled as CREATE INDEX fills them: tuples are added while
  the page keeps the fillfactor's free space (819 bytes at 90), counting the
  last tuple's posting list as free (it is cut from the high key), and that
  last tuple moves to the next page. With a few big posting-list tuples a
  page holds 85-90%, not 90% (TPC-H orders (o_orderdate), 623 rows a date:
  9.8 MB forecast, 10.4 built); inner pages add one per fan-out of leaf
  pages; plus the metapage.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache

from ..capture import Catalog, ColumnInfo, TableKey, distinct_count
from ..ddl import IndexKey

PAGE = 8192
USABLE = PAGE - 24 - 16          # page header, btree special space
FILLFACTOR = 0.90                # btree leaf pages at CREATE INDEX
NONLEAF_FILLFACTOR = 0.70        # btree inner pages at CREATE INDEX
MAX_POSTING = 812                # a posting list tuple at build time: a tenth of the page less a line pointer
TID = 6
LEAF_ROOM = PAGE - 24 - 16 - 4 - 4   # a new leaf's free space as the build reads it: the high key's line pointer
#                                      is reserved, and one more line pointer is kept for the next tuple
FILL_TUPLES = 2_000              # tuples of a key's pattern laid out to learn a leaf's fill (~1 ms, once a pattern)
FULL_LAID = 64                   # full posting lists of a key laid out in _fill (more fill pages alike)
# Normal octiles' midpoints: rows a key spread by sqrt(rows) about the mean, as keys drawn at random are; in a
# mixed order, as neighbouring keys' counts are (sorted, the leaves' fill came out 1.5% lower than drawn keys').
SPREAD = (-1.53, 0.49, -0.49, 1.53, 0.16, -0.89, 0.89, -0.16)
NEAR_UNIQUE = 0.95               # distinct keys from this share of the rows on: no key sample counts them
IN_ORDER = 0.9                   # |pg_stats.correlation| from which a table is taken to be stored in a column's order
# A budget counted in forecast bytes is held this much under (advisor._budget): a DBA's budget is a ceiling, and
# the sets' forecasts came 0.04-0.37% under their built sizes on TPC-H SF1 (t15, 8 budgets: 500 MB built 500.06).
FORECAST_MARGIN = 0.005
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
             tuple_bytes: float | None = None, heavy: tuple[float, float] | None = None, unique: bool = False) -> int:
    """Forecast bytes of a btree index on ``table`` (``fraction``: the share of rows a partial one keeps).

    ``unique``: CREATE UNIQUE INDEX deduplicates nothing (nbtsort skips it for a unique index), so the
    NULLs of an optional unique column (Prisma's ``String? @unique``) each keep a tuple of their own.

    ``distinct``: the number of distinct keys, where known (sample_keys); else from pg_stats.
    ``heavy``: of those, the rows and keys of the part the sample saw most (key_sample's KeySample): each
    part is deduplicated by its own rows a key, not one mean over both.
    ``tuple_bytes``: a leaf tuple's mean size, where sampled (sample_keys); else from pg_stats' avg_width.
    A partitioned table's index is built once per leaf partition, each with the
    partition's own rows and statistics: the sum of their forecasts (``distinct``,
    known for the whole table only, is then left to each partition's statistics).
    """
    t = catalog.tables.get(table)
    if t is not None and t.partitioned:
        return sum(forecast(catalog, leaf, keys, include=include, fraction=fraction, fillfactor=fillfactor,
                            unique=unique) for leaf in catalog.leaf_partitions(table) if leaf != table)
    leaves, width = _leaves(catalog, table, keys, include, fraction, fillfactor, distinct, tuple_bytes, heavy,
                            unique)
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
            tuple_bytes: float | None, heavy: tuple[float, float] | None = None,
            unique: bool = False) -> tuple[int, float]:
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
    can = not include and not unique and dedups(types)
    full = int(PAGE * (100 - round(fillfactor * 100)) / 100)    # the free space a leaf keeps (819 bytes at 90)
    if heavy is not None and heavy[1] > 0:
        heavy_rows, heavy_keys = min(heavy[0] * share, rows), min(heavy[1] * share, distinct)
        pages = (_stored(rows - heavy_rows, distinct - heavy_keys, head, can, full)
                 + _stored(heavy_rows, heavy_keys, head, can, full))
    else:
        pages = _stored(rows, distinct, head, can, full)
    if tuple_bytes is not None and not include:
        width = tuple_bytes - 8        # inner pages' pivot tuples hold the keys as sampled too
    return max(1, math.ceil(pages)), width


def _stored(rows: float, distinct: float, head: float, can: bool, full: int) -> float:
    """Leaf pages of ``rows`` over ``distinct`` keys, each a ``head``-byte tuple; ``can``: deduplicated."""
    plain = head + 4
    if rows <= 0:
        return 0.0
    pages = rows * plain / _fill(((round(plain), 0),), full)
    if can and distinct > 0 and rows / distinct >= 2:
        pages = min(pages, _posting_pages(rows / distinct, head, full) * distinct)
    elif can and 0 < distinct < NEAR_UNIQUE * rows:   # (near_unique: none to count)
        # Under two rows a key the duplicates are deduplicated too: taken as pairs (the most tuples for that many
        # duplicates), each one tuple with two TIDs (r11 F12: 1.9 rows a key forecast 11.7 MB, built 8.1).
        pages = (distinct * plain + (rows - distinct) * maxalign(2 * TID)) / _fill(((round(plain), 0),), full)
    return pages


def _posting_lists(dups: int, head: float) -> tuple[int, tuple[tuple[float, float], ...]]:
    """The leaf tuples of one key with ``dups`` rows as CREATE INDEX writes them: posting lists filled to
    MAX_POSTING in turn, the last with the rest; each (bytes with its line pointer, bytes of its posting list),
    the full ones given once with their count. None of two rows fits under the cap (keys of ~800 bytes): one
    plain tuple a row."""
    per_list = int(MAX_POSTING - head) // TID
    while per_list >= 2 and maxalign(head + per_list * TID) > MAX_POSTING:
        per_list -= 1
    if per_list < 2:
        return max(1, dups), ((head + 4.0, 0.0),)
    whole, rest = divmod(dups, per_list)
    lists = [per_list] + ([rest] if rest > 0 else [])
    return whole, tuple((head + 4.0, 0.0) if n == 1 else (maxalign(head + n * TID) + 4.0, maxalign(head + n * TID)
                                                                                       - head) for n in lists)


def _posting_pages(dups: float, head: float, full: int) -> float:
    """Leaf pages one key of ``dups`` rows (a mean) takes deduplicated: its bytes as even posting lists under
    MAX_POSTING; the leaves' fill from keys whose rows spread as drawn at random (SPREAD), so that their last
    posting lists differ in size as they do on disk."""
    lists = math.ceil(dups / max(1, int(MAX_POSTING - head) // TID))
    keys = [_posting_lists(max(1, round(dups + z * math.sqrt(dups))), head) for z in SPREAD]
    # The bytes a key too, over the spread keys: each posting list is padded to 8 and a key of one row is a plain
    # tuple, so a mean key of 4 rows weighs less than keys of 1 to 7 do on average (TPC-H lineitem (l_orderkey):
    # 44 bytes a key against 46; 0.95x of built once its keys were counted right).
    per_key = sum(whole * key[0][0] + sum(w for w, _ in key[1:]) for whole, key in keys) / len(keys) \
        if lists == 1 else lists * (head + 4) + maxalign(dups * TID / lists) * lists
    # A key of many full lists is laid out as a few of them, its last list left out: the leaves hold full lists.
    laid = [t for whole, key in keys for t in ([key[0]] * FULL_LAID if whole > FULL_LAID else
                                               [key[0]] * whole + list(key[1:] if whole else key[-1:]))]
    return per_key / _fill(tuple((round(w), round(p)) for w, p in laid), full)


@lru_cache(maxsize=4096)
def _fill(tuples: tuple[tuple[int, int], ...], full: int) -> float:
    """The bytes a leaf page holds, laid out as CREATE INDEX does with ``tuples`` over and over.

    A tuple goes on the page while the room left, with the last tuple's
    posting list counted as free, keeps ``full`` bytes and the tuple fits;
    else the page is closed and its last tuple moves to the next page (it
    becomes the high key). Small tuples fill the page to the fillfactor;
    posting lists of ~800 bytes leave up to one of them free.
    """
    room, credit, on_page, last, held, closed, laid = LEAF_ROOM, 0, 0, 0, 0, 0, 0
    while laid < FILL_TUPLES or closed < 2:
        width, posting = tuples[laid % len(tuples)]
        if room < width + 4 or (on_page >= 2 and room + credit < full):
            held, closed = held + LEAF_ROOM - room - last, closed + 1
            room, on_page = LEAF_ROOM - last, 1
        room, credit, on_page, last, laid = room - width, posting, on_page + 1, width, laid + 1
    return held / closed


def undercounted(col: ColumnInfo, rows: float) -> bool:
    """Is pg_stats' count of a column's values likely short because ANALYZE read its sample in whole blocks of a
    table stored in the column's order (a count, not a share of the rows, and not a few values): ``_distinct``
    then guesses the geometric mean with the rows, and a forecast samples the keys where it can (footprint)."""
    return (col.n_distinct is not None and col.n_distinct > 0 and abs(col.correlation or 0.0) >= IN_ORDER
            and max(distinct_count(col.n_distinct, col.reltuples), 1.0) >= 0.01 * rows)


COMMON_SHARE = 0.1     # pg_stats' common values' share of the rows from which its count of the rest may be short


def common_beside(col: ColumnInfo) -> bool:
    """Is pg_stats' count of a column's values likely short because its common values hold a tenth of the rows
    or more beside a tail of ten times as many values (a count, not a share of the rows)? ANALYZE's Duj1 reads
    the common values' repeats as duplicates of every value (key_counts.mixed), and a forecast samples the keys
    where it can (footprint). A Hoppscotch-shaped UserHistory ("userUid"), 50 users of 20,000 rows beside
    200,000 of 10: 47,766 values counted, its index forecast 21.7 MB where it built 30.0 (0.72x)."""
    return (col.n_distinct is not None and col.n_distinct > 0 and sum(col.most_common_freqs) >= COMMON_SHARE
            and col.n_distinct > 10 * len(col.most_common_freqs))


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
        if undercounted(c, rows):
            d = math.sqrt(d * rows)
        each.append(min(d, rows))
    if len(each) == 1:
        return each[0]
    bins = math.prod(each)      # never fewer than one column's own (a unique column's keys are all distinct)
    return min(rows, max(max(each), bins * -math.expm1(-rows / bins)))



def null_keys(catalog: Catalog, table: TableKey, keys: tuple[IndexKey, ...], rows: tuple[float, ...]) -> float:
    """Distinct keys among the table's rows whose key holds a NULL (a btree stores NULLs as keys): ``rows`` by
    which columns are NULL (element mask − 1: bit i for the i-th key), or all of them in one element.

    Such a key is its other columns' values: it repeats wherever they do, in
    rows a key sample reads far apart. TPC-DS writes store_sales a ticket at
    a time, and its NULLs fall row by row: (ss_sold_date_sk, NULL) is one
    key a date, seen once a ticket, which the sample read as 57k unique keys
    for 1,823 (with the others, (ss_sold_date_sk, ss_customer_sk) was
    counted 340k keys for 285k, forecast 1.10x of built). Each pattern's m
    rows take a random subset's share of its other columns' D keys over the
    table's N rows (``_distinct``): D·(1 − (1 − m/N)^(N/D)); a unique column
    leaves every such row its own key. One element (keys of many columns):
    split as pg_stats' null fractions would give, taken as independent.
    """
    t, cols = catalog.tables.get(table), catalog.table_columns(table)
    info = [cols.get(k.column) for k in keys]
    masks = range(1, 1 << len(keys))
    if len(rows) != len(masks):
        frac = [max(min(c.null_frac or 0.0, 1.0), 1e-6) if c is not None else 0.5 for c in info]
        weight = [math.prod(f if mask >> i & 1 else 1.0 - f for i, f in enumerate(frac)) for mask in masks]
        rows = tuple(sum(rows) * w / (sum(weight) or 1.0) for w in weight)
    total = max(t.reltuples if t else 0.0, sum(rows), 1.0)
    found = 0.0
    for mask, m in zip(masks, rows, strict=True):
        rest = [(c, k) for i, (c, k) in enumerate(zip(info, keys, strict=True)) if not mask >> i & 1]
        d = max(_distinct([c for c, _ in rest], tuple(k for _, k in rest), total), 1.0) if rest else 1.0
        found += min(m, d * -math.expm1(total / d * math.log1p(-min(m / total, 1.0 - 1e-12)))) if m > 0 else 0.0
    return found
