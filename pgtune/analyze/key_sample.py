"""pgtune's own sample of a table, read for an index's keys: how many distinct keys, how wide a leaf tuple.

pg_stats knows single columns only, and its n_distinct comes from one
estimate over the whole sample; an index's size hangs on the keys of its
columns together and on how the rows spread over them, which the sample's
frequency profile shows (analyze.sizing turns them into bytes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import psycopg
from psycopg import sql

from ..capture import Catalog, TableKey, distinct_count
from ..connect import lost
from ..ddl import IndexKey
from ..explain_script import read_only
from ..readonly import why_not_read_only
from .key_counts import heavy_tail, light_keys, mixed
from .sizing import IN_ORDER, NEAR_UNIQUE, PAGE, maxalign, null_keys


def _sample(conn: psycopg.Connection[Any], query: sql.Composed, timeout_ms: int,
            check: bool) -> tuple[Any, ...] | None:
    """Run a sampling query read only and bounded in time; ``check``: only if it calls nothing but
    PostgreSQL's own functions (readonly). None when it cannot run or fails."""
    rows = _sample_all(conn, query, timeout_ms, check)
    return None if rows is None else (rows[0] if rows else None)


def _sample_all(conn: psycopg.Connection[Any], query: sql.Composed, timeout_ms: int,
                check: bool) -> list[tuple[Any, ...]] | None:
    """``_sample``, every row of the answer."""
    try:
        return _sample_or_cancel(conn, query, timeout_ms, check)
    except psycopg.errors.QueryCanceled:
        return None


def _sample_or_cancel(conn: psycopg.Connection[Any], query: sql.Composed, timeout_ms: int,
                      check: bool) -> list[tuple[Any, ...]] | None:
    """``_sample_all``, a statement_timeout raised (QueryCanceled) for the caller to tell from an error."""
    try:
        if check and why_not_read_only(conn, query.as_string(conn)):
            return None
        return read_only(conn, query, timeout_ms)       # one round trip
    except psycopg.errors.QueryCanceled:
        raise                          # an Error too: not the None below
    except (psycopg.Error, ValueError):
        if lost(conn):
            raise
        return None


@dataclass(frozen=True)
class KeySample:
    """What pgtune's own sample of a table says of an index's keys: the same rows every run (a fixed seed)."""

    distinct: float | None  # distinct keys in the table (Duj1 from the sample's frequency profile); None: not asked
    tuple_bytes: float | None  # a leaf tuple's mean bytes: header, null bitmap, aligned data, padded to 8 (row
    #                            by row); None: not asked (every column's width is its type's)
    rows: float = 0.0      # rows the sample held
    seen: float = 0.0      # distinct keys among them (0: not asked)
    lead_seen: float = 0.0  # distinct leading keys among them (0: not asked)
    heavy_rows: float = 0.0      # of the table's rows, those of the keys the sample saw three times or more (in
    #                              runs: twice or more; ``key_counts.mixed``)
    heavy_distinct: float = 0.0  # and how many keys they are (0: none; ``distinct`` counts them too)
    null_rows: tuple[float, ...] = ()   # of the table's rows, those whose key holds a NULL, by which columns are
    #                                     (``_masks``): not in ``distinct`` until ``with_nulls`` counts their keys


def sample_keys(conn: psycopg.Connection[Any], table: TableKey, keys: tuple[IndexKey, ...], reltuples: float,
                *, include: tuple[str, ...] = (), timeout_ms: int = 2_000) -> KeySample | None:
    """Distinct keys and the mean leaf tuple of an index, from a ~30,000-row sample.

    pg_stats knows single columns only (and nothing of an expression until its
    index exists); columns are often correlated (a part and its suppliers), so
    the product of their counts can be off by 10x. The sample's frequency
    profile (a fixed seed: the same answer every run) gives the estimate
    (Haas and Stokes' Duj1, as ANALYZE uses it: n·d / (n − f1 + f1·n/N)).
    Each sampled row's tuple is sized as the server lays it out (u2's R5):
    ``pg_column_size(ROW(keys))`` less the composite's header is the data with
    each column aligned; the index tuple's header is 8 bytes, 16 with a null
    bitmap, and the whole is padded to 8. pg_stats' avg_width, an integer
    mean from ANALYZE's random sample, moved a 4-column forecast by 15% when
    it read 11 one time and 12 the next. The query runs only when it calls
    nothing but PostgreSQL's own functions (readonly), read only and bounded
    in time; None when it cannot.
    """
    found = sample_keys_many(conn, table, [(keys, include)], reltuples, timeout_ms=timeout_ms)
    return found[0] if found else None


KeySpec = tuple[tuple[IndexKey, ...], tuple[str, ...]]    # an index's keys and INCLUDE columns


@dataclass(frozen=True)
class Asked:
    """What a key sample works out beyond the distinct keys: the tuple bytes (a forecast reads them only where
    a column's width is not its type's: not ``exact``) and the distinct leading keys (``in_key_order`` reads them
    only on a table stored in the leading key's order: ``reads_lead``)."""

    sized: bool = True
    lead: bool = True
    distinct: bool = True    # False: no grouping by the keys (the forecast needs no count: ``sample_keys_many``)
    single: bool = False     # count the keys of one plain column too (footprint: pg_stats' count is likely short)


def _percent(reltuples: float) -> float:
    """The share of the table's pages a ~30,000-row sample reads (TABLESAMPLE SYSTEM's percent)."""
    return min(100.0, max(0.01, 3e6 / max(reltuples, 1.0)))


def _profile(source: sql.Composable, keys: tuple[IndexKey, ...], include: tuple[str, ...],
             grouped: bool = True, asked: Asked | None = None, ctid: str = "ctid") -> sql.Composed:
    """The sample's frequency profile of one index's keys: distinct keys, keys seen once, rows, tuple bytes,
    distinct leading keys; not ``grouped``: the rows and tuple bytes alone (NULL, NULL, rows, bytes, NULL),
    with no grouping by the keys. ``asked``: the tuple bytes and the distinct leading keys are worked out only
    where asked (NULL otherwise): each is a sixth of the statement's time on TPC-H's tables. The sixth column:
    the rows again, each key's counted once where they all sit in one page (``ctid``: the source's row address,
    or the name of its column holding that as a point: page, line); then, so counted, the keys seen twice and the
    sightings of the keys seen three times or more (``key_counts.mixed``); then the one-page keys holding their
    page's first line and those keys' rows (``_straddled``); last, the rows of the keys holding a NULL, which the
    key counts (all but the rows, bytes and leading keys) leave out (``with_nulls``); then the keys seen three
    times (``key_counts.heavy_tail``)."""
    asked = asked or Asked()
    cols = _columns(keys)
    size = _tuple_bytes(keys, include)
    if not grouped:
        return sql.SQL("SELECT /* pgtune */ NULL::float8, NULL::float8, count(*)::float8, "
                       "coalesce(sum({size}), 0)::float8, NULL::float8, NULL::float8, NULL::float8, NULL::float8, "
                       "NULL::float8, NULL::float8, NULL::float8[], NULL::float8 FROM {source}").format(
                           size=size, source=source)
    # A key whose sampled rows all sit in one page counts once (m = 1): ``_key_sample``.
    # ``ctid``: the row address (worked out per row), or a column already holding it as a point (page, line).
    at = sql.SQL("({}::text::point)").format(sql.Identifier(ctid)) if ctid == "ctid" else sql.Identifier(ctid)
    page, line = (sql.SQL("{}[{}]").format(at, sql.Literal(i)) for i in (0, 1))
    # A key holding a NULL (z: which of its columns are, as bits) is counted apart (``with_nulls``): only its
    # rows, by which columns are NULL (``_masks``), the eleventh column.
    return sql.SQL("SELECT /* pgtune */ (count(*) FILTER (WHERE NOT y))::float8, "
                   "(count(*) FILTER (WHERE m = 1 AND NOT y))::float8, "
                   "coalesce(sum(n), 0)::float8, {bytes}, {lead}, coalesce(sum(m) FILTER (WHERE NOT y), 0)::float8, "
                   "(count(*) FILTER (WHERE m = 2 AND NOT y))::float8, "
                   "coalesce(sum(m) FILTER (WHERE m >= 3 AND NOT y), 0)::float8, "
                   "(count(*) FILTER (WHERE m = 1 AND l0 = 1 AND NOT y))::float8, "
                   "coalesce(sum(n) FILTER (WHERE m = 1 AND NOT y), 0)::float8, "
                   "{masks}, (count(*) FILTER (WHERE m = 3 AND NOT y))::float8 "
                   "FROM (SELECT n, CASE WHEN p0 = p1 THEN 1 ELSE n END AS m, l0, z, z > 0 AS y{outer} "
                   "FROM (SELECT {first}count(*) AS n, min({page}) AS p0, max({page}) AS p1, min({line}) AS l0, "
                   "{null} AS z{b} FROM {source} GROUP BY {group}) AS k) AS s").format(
                       null=sql.SQL(" + ").join(sql.SQL("(CASE WHEN ({}) IS NULL THEN {} ELSE 0 END)").format(
                           c, sql.Literal(1 << i)) for i, c in enumerate(cols)), masks=_masks(len(cols)),
                       bytes=sql.SQL("coalesce(sum(b), 0)::float8" if asked.sized else "NULL::float8"),
                       lead=sql.SQL("(count(DISTINCT pgtune_lead))::float8" if asked.lead else "NULL::float8"),
                       outer=sql.SQL("".join([", b" if asked.sized else "", ", pgtune_lead" if asked.lead else ""])),
                       first=sql.SQL("{} AS pgtune_lead, ").format(cols[0]) if asked.lead else sql.SQL(""),
                       b=sql.SQL(", sum({}) AS b").format(size) if asked.sized else sql.SQL(""),
                       page=page, line=line, source=source, group=sql.SQL(", ").join(cols))


MASKED = 4    # keys of up to this many columns have their NULL rows counted by which columns are NULL


def _masks(columns: int) -> sql.Composable:
    """The sample's rows whose key holds a NULL, as an array: by which columns are NULL (the element at mask − 1:
    bit i set for the i-th column) up to MASKED columns, else one element of them all."""
    if columns > MASKED:
        return sql.SQL("ARRAY[coalesce(sum(n) FILTER (WHERE y), 0)]::float8[]")
    return sql.SQL("ARRAY[{}]::float8[]").format(sql.SQL(", ").join(
        sql.SQL("coalesce(sum(n) FILTER (WHERE z = {}), 0)").format(sql.Literal(mask))
        for mask in range(1, 1 << columns)))


def _columns(keys: tuple[IndexKey, ...]) -> list[sql.Composable]:
    return [sql.SQL(k.expression) if k.expression is not None else sql.Identifier(k.column) for k in keys]


def _tuple_bytes(keys: tuple[IndexKey, ...], include: tuple[str, ...]) -> sql.Composed:
    """A sampled row's leaf tuple bytes in ``keys`` and ``include``'s index (``sample_keys``)."""
    row_of = sql.SQL("ROW({})").format(sql.SQL(", ").join(_columns(keys) + [sql.Identifier(c) for c in include]))
    natts = len(keys) + len(include)
    return sql.SQL("((CASE WHEN {row} IS NOT NULL THEN {plain} ELSE {nulls} END + pg_catalog.pg_column_size({row})"
                   " + 7) / 8 * 8)").format(row=row_of, plain=sql.Literal(8 - 24),
                                            nulls=sql.Literal(16 - maxalign(23 + math.ceil(natts / 8))))


def _flat(source: sql.Composable, specs: list[tuple[int, KeySpec]]) -> sql.Composed:
    """``_profile``'s rows (numbered) of indexes not grouped by their keys, all from one read of ``source``.

    Each of them asks the rows and the tuple bytes alone; read one by one,
    each read of the sample cost about what working out its bytes did (TPC-H:
    64 of 110 indexes sampled a suggest, 11 at once on lineitem).
    """
    sums = [sql.SQL("coalesce(sum({}), 0)::float8").format(_tuple_bytes(keys, include)) for _, (keys, include) in specs]
    rows = [sql.SQL("({}, NULL::float8, NULL::float8, a.n, a.{}, NULL::float8, NULL::float8, NULL::float8, "
                    "NULL::float8, NULL::float8, NULL::float8, NULL::float8[], NULL::float8)").format(
                        sql.Literal(i), sql.Identifier(f"b{j}"))
            for j, (i, _) in enumerate(specs)]
    return sql.SQL("SELECT v.* FROM (SELECT /* pgtune */ count(*)::float8 AS n, {} FROM {}) AS a, "
                   "LATERAL (VALUES {}) AS v").format(
                       sql.SQL(", ").join(sql.SQL("{} AS {}").format(e, sql.Identifier(f"b{j}"))
                                          for j, e in enumerate(sums)),
                       source, sql.SQL(", ").join(rows))


def _key_sample(row: tuple[Any, ...] | None, reltuples: float) -> KeySample | None:
    if not row or not row[2]:
        return None
    n = float(row[2])
    b = float(row[3]) / n if row[3] is not None else None
    if row[0] is None:
        return KeySample(None, b)
    d, f1 = float(row[0]), float(row[1])
    total = max(reltuples, n)
    masks = tuple(float(x) for x in row[10]) if len(row) > 10 and row[10] is not None else ()
    full, total = total, total * (n - sum(masks)) / n     # the keys counted here are those without a NULL
    nulls = tuple(x * full / n for x in masks)
    lead = float(row[4]) if row[4] is not None else 0.0
    # Duj1 over what the sample saw independently: the sample reads whole pages (TABLESAMPLE SYSTEM), and a key
    # whose rows it saw all in one page is one sighting, not that many duplicates (u10: Langfuse's three adjacent
    # rows a trace read as 806k keys for 3.4 million). Rows drawn at random sit in one page each: Duj1 as it was.
    seen, runs = float(row[5]), _run_share(row, f1)
    cut = _straddled(row, f1, n / full, runs)
    d, f1, seen = d - cut, f1 - cut, seen - cut
    duj1 = seen * d / max(seen - f1 + f1 * n / full, 1.0)
    # Keys stored in runs (most one-page keys' rows continue their predecessor's key) are whole keys, each one
    # sighting: Duj1 would read the few the sample saw across pages as duplication of every key (TPC-DS
    # store_sales (ss_ticket_number): 2 of 3,018 sampled tickets across two pages, 166k keys for 240k).
    if len(row) < 8 or row[6] is None or not (runs >= RUNS or mixed(f1, float(row[6]), float(row[7]))):
        return KeySample(min(duj1, total), b, n, d, lead, null_rows=nulls)
    q = n / full
    if runs >= RUNS:    # in runs: a key seen once is a whole key; the keys seen repeat, by their own sightings
        unique, repeat_rows = f1 / q, (seen - f1) / q
        return KeySample(min(total, unique + d - f1), b, n, d, lead, min(total, repeat_rows), d - f1, nulls)
    # Mixed: the keys seen three times or more are the heavy part, whole, their rows by their sightings; the rest
    # are counted by Duj1 over their own sightings (``key_counts.light_keys``).
    f2, s3 = float(row[6]), float(row[7])
    h1, h2 = heavy_tail(float(row[11]) if len(row) > 11 and row[11] is not None else 0.0, f1, f2)
    heavy, heavy_rows = d - f1 - f2 + h1 + h2, (s3 + h1 + 2.0 * h2) / q
    return KeySample(min(total, light_keys(f1 - h1, f2 - h2, q) + heavy), b, n, d, lead, min(total, heavy_rows),
                     heavy, nulls)


RUNS = 0.5    # the share of one-page keys' rows continuing their predecessor's key from which keys are in runs


def _run_share(row: tuple[Any, ...], f1: float) -> float:
    """Of the sample's one-page keys' rows, the share that are not their key's first: (rows − keys) / rows (0 for
    keys of one row each, (L − 1) / L for runs of L rows; 0 where not asked)."""
    if len(row) < 10 or row[8] is None or not row[9]:
        return 0.0
    return max(float(row[9]) - f1, 0.0) / float(row[9])


def _straddled(row: tuple[Any, ...], f1: float, q: float, g: float) -> float:
    """Of the sample's one-page keys (each one sighting), how many are the second part of a key the page before
    began: a key straddling two pages is seen from either, so the pages read count it twice as often as a key in
    one page.

    TPC-DS writes store_sales a ticket at a time (12 rows, 56 rows a page):
    about one page in five ends inside a ticket, and (ss_sold_date_sk,
    ss_customer_sk), one key a ticket, was counted 1.35x its keys (t14). A
    page's first tuple continues the page before's key as often as any tuple
    continues its predecessor's: among the one-page keys' rows, g = (rows −
    keys) / rows of them do (0 for keys of one row each, (L − 1) / L for runs
    of L: ``_run_share``). So of the one-page keys holding their page's first
    tuple, those whose page before was not read (else the key is not
    one-page): g·(1 − q) / (1 − g·q) of them.
    """
    if len(row) < 10 or row[8] is None:
        return 0.0
    return min(float(row[8]) * g * (1.0 - q) / max(1.0 - g * q, 1e-9), f1)


def in_key_order(catalog: Catalog, table: TableKey, keys: tuple[IndexKey, ...], sample: KeySample) -> KeySample:
    """``sample`` with its distinct keys scaled up from the sample's own when the table is stored in the
    order of the leading key and the sample shows each leading value's rows together: it then holds whole keys.

    The sample reads whole pages (TABLESAMPLE SYSTEM). Duj1 reads a key seen
    twice in it as one of many duplicates across the table, which holds for
    rows drawn at random; on a table written in the order of the leading key
    (pg_stats.correlation near 1) each key's rows sit together in one page,
    so every duplicate of a sampled key is in the sample, and the sample's
    share of the keys is its share of the rows. TPC-H's lineitem, written by
    l_orderkey, 4 rows an order, 55 a page: (l_orderkey, l_shipdate) was
    counted 827,000 keys where it has 5.9 million, and its index forecast at
    0.47x its built size. A key straddling two sampled-or-not pages is
    counted a little more often (1 + (rows a value − 1) / rows a page: 1.06
    there). Unchanged otherwise (a leading value spread over several pages,
    an expression, a table not in its order).

    Correlation near 1 and fewer rows a value than a page do not put a
    value's rows in one page (r7's review): order lines written round robin
    over 3,000 orders, an order's lines ~50 pages apart, have correlation
    0.99, and the sample then sees one line of most orders; scaled up, each
    order was counted once per line (279k keys for 141k, the index forecast
    at 1.24x). So the sample must show it: its rows per leading value seen
    (``lead_seen``) well above what rows drawn at random would give with
    pg_stats' rows a value (``_together``).
    """
    t = catalog.tables.get(table)
    per_value = _rows_per_value(catalog, table, keys)
    if (per_value is None or t is None or sample.distinct is None or not sample.rows or not sample.seen
            or t.reltuples <= sample.rows or not _together(sample, t.reltuples, per_value)):
        return sample
    scaled = min(t.reltuples, sample.seen * t.reltuples / sample.rows)
    if scaled <= sample.distinct:
        return sample
    return replace(sample, distinct=scaled, heavy_rows=0.0, heavy_distinct=0.0)   # whole keys: one part


def with_nulls(catalog: Catalog, table: TableKey, keys: tuple[IndexKey, ...], sample: KeySample) -> KeySample:
    """``sample`` with the keys of its rows holding a NULL counted (sizing.null_keys), as a part of their own
    (``heavy``): the sample reads them as other keys' duplicates would be, across pages it did not read."""
    if sample.distinct is None or sum(sample.null_rows) <= 0:
        return sample
    found = null_keys(catalog, table, keys, sample.null_rows)
    return replace(sample, distinct=sample.distinct + found, null_rows=(), heavy_rows=sample.heavy_rows
                   + sum(sample.null_rows), heavy_distinct=sample.heavy_distinct + found)


def near_unique(catalog: Catalog, table: TableKey, keys: tuple[IndexKey, ...]) -> bool:
    """Does a plain column of ``keys`` hold a distinct value nearly every row (pg_stats: NEAR_UNIQUE of the
    rows)? Its keys then have no duplicates worth a posting list: a key sample need not count them (TPC-H: 17
    of suggest's ~130 sampled indexes lead with a table's key). Not from half the rows, as it was: a key of
    1.9 rows is stored deduplicated (r11 F12)."""
    t, cols = catalog.tables.get(table), catalog.table_columns(table)
    return t is not None and t.reltuples > 0 and any(
        (c := cols.get(k.column)) is not None and k.expression is None and c.n_distinct is not None
        and distinct_count(c.n_distinct, c.reltuples) > NEAR_UNIQUE * t.reltuples for k in keys)


def reads_lead(catalog: Catalog, table: TableKey, keys: tuple[IndexKey, ...]) -> bool:
    """Can ``in_key_order`` scale a sample of ``keys`` up, so that it reads the sample's distinct leading keys?"""
    return _rows_per_value(catalog, table, keys) is not None


def _rows_per_value(catalog: Catalog, table: TableKey, keys: tuple[IndexKey, ...]) -> float | None:
    """pg_stats' rows a leading value of ``keys`` where the table is stored in that column's order and a
    value's rows fit in a page (what ``in_key_order`` asks of the catalog); None elsewhere."""
    t = catalog.tables.get(table)
    lead = keys[0] if keys else None
    if t is None or t.size_bytes <= 0 or lead is None or lead.expression is not None:
        return None
    col = catalog.table_columns(table).get(lead.column)
    if col is None or col.n_distinct is None or abs(col.correlation or 0.0) < IN_ORDER:
        return None
    per_page = t.reltuples / max(t.size_bytes / PAGE, 1.0)
    per_value = t.reltuples / max(distinct_count(col.n_distinct, col.reltuples), 1.0)
    return per_value if per_value <= per_page else None


def _together(sample: KeySample, reltuples: float, per_value: float) -> bool:
    """Does the sample see a leading value's rows together (in the pages it read), not one at a time?

    Rows drawn at random, a share q of the table, see a value of r rows
    r·q / (1 − (1 − q)^r) times on average once they see it at all (1.04 for
    TPC-H's lineitem's r = 15 by pg_stats at q = 0.5%); a value whose rows
    share a page is seen with all of them (3.8 there). Twice the random
    excess over 1 is the line: the round-robin lines above are seen 1.16
    times a value where random rows would give 1.16, and pg_stats' r can be
    several times too high on a table in key order (lineitem: 15 for 4),
    which raises the random figure.
    """
    if not sample.lead_seen:
        return False
    q = min(1.0, sample.rows / max(reltuples, 1.0))
    r = max(per_value, 1.0)
    at_random = r * q / max(-math.expm1(r * math.log1p(-q)), 1e-12) if q < 1.0 else r
    return sample.rows / sample.lead_seen - 1.0 >= 2.0 * (at_random - 1.0)


MANY_TIMEOUT_MS = 10_000


def sample_keys_many(conn: psycopg.Connection[Any], table: TableKey, specs: list[KeySpec], reltuples: float,
                     *, timeout_ms: int = 2_000, single_distinct: bool = True, asks: list[Asked] | None = None,
                     wheres: list[str | None] | None = None,
                     shares: list[float] | None = None) -> list[KeySample | None]:
    """``sample_keys`` of several indexes on one table, from one read of the same sample.

    ``single_distinct`` False: an index on one plain column gets its tuple
    bytes only (``distinct`` None: pg_stats has its count), with no grouping,
    a quarter of the time of the grouping on TPC-H's lineitem. ``asks``: per
    index, what else it works out (``Asked``; everything when not given).
    ``wheres``: per index, a partial index's predicate (pglast-printed from
    the statements' filters; the statement then runs only if it calls nothing
    but PostgreSQL's own functions): its keys are counted among the sampled
    rows it keeps, the table's rows taken as ``shares`` of ``reltuples``.

    The sample (the same pages: the same percent and seed as ``sample_keys``
    takes alone, so the same answers) is read once into a materialized CTE and
    each index's keys are grouped over it, all in one statement: one read of
    the table and one round trip where one query per index took ~40 ms each
    on TPC-H's lineitem (116 of them per suggest). If the statement fails as
    a whole (an expression that errors on some row), each index is sampled
    alone, so one bad key costs only its own answer; past its time bound
    (``timeout_ms`` an index, MANY_TIMEOUT_MS at most: a read-only statement
    holds its snapshot, and vacuum's horizon, while it runs) none is.
    """
    if not specs:
        return []
    asked = asks if asks is not None else [Asked()] * len(specs)
    where: list[str | None] = wheres if wheres is not None else [None] * len(specs)
    total = [reltuples * share for share in shares] if shares is not None else [reltuples] * len(specs)
    pct = sql.Literal(_percent(reltuples))
    grouped = [ask.distinct and (single_distinct or ask.single or len(keys) > 1 or keys[0].expression is not None
                                 or w is not None) for (keys, _), ask, w in zip(specs, asked, where, strict=True)]
    check = any(k.expression is not None for keys, _ in specs for k in keys) or any(w is not None for w in where)
    sample = sql.SQL("{} TABLESAMPLE SYSTEM ({}) REPEATABLE (1)").format(sql.Identifier(*table), pct)
    if len(specs) == 1:
        keys, include = specs[0]
        source = sample if where[0] is None else sql.SQL("{} WHERE ({})").format(sample, sql.SQL(where[0]))
        return [_key_sample(_sample(conn, _profile(source, keys, include, grouped[0], asked[0]), timeout_ms, check),
                            total[0])]
    query = _statement(sample, specs, grouped, asked, where, every_column=check)
    try:
        rows = _sample_or_cancel(conn, query, min(timeout_ms * len(specs), MANY_TIMEOUT_MS), check=check)
    except psycopg.errors.QueryCanceled:
        return [None] * len(specs)     # too slow together: alone each would be too (and hold a snapshot as long)
    if rows is None:
        return [sample_keys_many(conn, table, [spec], reltuples, timeout_ms=timeout_ms, single_distinct=single_distinct,
                                 asks=[ask], wheres=[w], shares=[n / max(reltuples, 1e-9)])[0]
                for spec, ask, w, n in zip(specs, asked, where, total, strict=True)]
    found = {int(r[0]): tuple(r[1:]) for r in rows}
    return [_key_sample(found.get(i), total[i]) for i in range(len(specs))]


def _statement(sample: sql.Composed, specs: list[KeySpec], grouped: list[bool], asked: list[Asked],
               where: list[str | None], every_column: bool) -> sql.Composed:
    """``sample_keys_many``'s one statement: each grouped index's profile over the sample read once (materialized),
    the others' all in one pass (``_flat``); ``every_column``: the sample keeps every column (an expression or a
    predicate may read any), else only the indexes' own."""
    flat = [(i, spec) for i, spec in enumerate(specs) if not grouped[i]]
    if len(flat) == len(specs):         # nothing grouped: one read of the sample as it is
        return _flat(sample, flat)
    parts = [sql.SQL("SELECT {}, p.* FROM ({}) AS p").format(
        sql.Literal(i), _profile(_kept(where[i]), keys, include, True, asked[i], "pgtune_at"))
        for i, (keys, include) in enumerate(specs) if grouped[i]]
    parts += [_flat(sql.Identifier("pgtune_s"), flat)] if flat else []
    # Each row's address is worked out once, in the sample, not per index (min and max): a third of the
    # statement's time on TPC-H's customer with 7 indexes (EXPLAIN ANALYZE 1.0 s -> 0.7 s). Only the indexes'
    # columns are kept where nothing else is read: lineitem's rows are 16 columns wide.
    used = list(dict.fromkeys(c for keys, include in specs for c in [k.column for k in keys] + list(include)))
    kept = sql.SQL("*") if every_column else sql.SQL(", ").join(map(sql.Identifier, used))
    return sql.SQL("WITH pgtune_s AS MATERIALIZED (SELECT ctid::text::point AS pgtune_at, {} "
                   "FROM {}) SELECT * FROM ({}) AS u").format(kept, sample, sql.SQL(" UNION ALL ").join(parts))


def _kept(where: str | None) -> sql.Composable:
    """The materialized sample, or the rows of it a partial index's predicate keeps."""
    source = sql.Identifier("pgtune_s")
    return source if where is None else sql.SQL("{} WHERE ({})").format(source, sql.SQL(where))


def sample_fraction(conn: psycopg.Connection[Any], table: TableKey, predicate: str, reltuples: float,
                    timeout_ms: int = 2_000) -> float | None:
    """The share of rows a partial index's predicate keeps, from a ~30,000-row sample.

    pg_stats knows a constant's frequency, but not how often one column of a
    row is below another (``commitdate < receiptdate``): the planner guesses a
    third, and the index on disk holds what the rows say. ``predicate`` is
    printed by pglast from the statement's own filters (columns, constants,
    comparison operators, NULL tests). Read only and bounded in time; None
    when it cannot run.
    """
    percent = _percent(reltuples)
    query = sql.SQL("SELECT /* pgtune */ count(*)::float8, (count(*) FILTER (WHERE {pred}))::float8 "
                    "FROM {tab} TABLESAMPLE SYSTEM ({pct}) REPEATABLE (1)").format(
                        pred=sql.SQL(predicate), tab=sql.Identifier(*table), pct=sql.Literal(percent))
    row = _sample(conn, query, timeout_ms, check=True)
    if not row or not row[0]:
        return None
    return float(row[1]) / float(row[0])
