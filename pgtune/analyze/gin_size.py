"""A GIN index's size at full scale, from its builds on two samples: its keys do not grow with the rows.

A GIN index holds each distinct key once (an entry) and, per key, a
compressed list of the rows holding it (its postings). The postings grow with
the rows; the entries grow with the distinct keys, which a sample sees only
part of where keys repeat: p28's 4M rows hold 200k emails, each ~20 times; a
2.5% sample sees ~79k of them, mostly once, and its size scaled by the rows
forecast 185.3 MB for an index built at 60.0 MB.

So a part of the half sample is built once and with each of its rows TIMES
times: the same keys, TIMES times the postings. The growth is the postings'
bytes per row (several rows a key, as at scale: a list of one or two rows
pays its tuple's alignment); what is left of each sample's size is its
entries. How the entries grow from the half
sample to the whole one says how often a key repeats: a key held by k rows of
the table is in a share s of them with the chance 1 - exp(-k s), so the
entries of two samples (shares s and s/m) stand in the ratio
(1 - exp(-k s)) / (1 - exp(-k s / m)): m where keys are unique (the size
scales with the rows, as before), 1 where the sample saw every key. The
table's entries are the sample's over 1 - exp(-k s).
"""

from __future__ import annotations

import math
from typing import Any

import psycopg
from psycopg import sql

from .. import ddl
from ..ddl import IndexKey, IndexMethod
from .trial import opclass_with_extension

TIMES = 8          # a small part of the half sample is built once, and with each of its rows this many times
PART = 25          # that part: this percent of the half sample's rows


def postings_per_row(conn: psycopg.Connection[Any], half: str, key: IndexKey, extension: str | None,
                     timeout_ms: int) -> float | None:
    """Bytes a row adds to the GIN's postings where its keys are already there: a part of the half sample
    built once, then with each row TIMES times (the same entries, TIMES times the postings); rolled back."""
    part, many = f"{half}_part", f"{half}_many"
    with conn.transaction(force_rollback=True):
        conn.execute(sql.SQL("SET /* pgtune */ LOCAL statement_timeout = {}").format(sql.Literal(timeout_ms)))
        conn.execute(sql.SQL("CREATE /* pgtune */ TEMPORARY TABLE {} AS SELECT * FROM {} "
                             "TABLESAMPLE BERNOULLI ({}) REPEATABLE (0)").format(
            sql.Identifier(part), sql.Identifier("pg_temp", half), sql.Literal(PART)))
        conn.execute(sql.SQL("CREATE /* pgtune */ TEMPORARY TABLE {} AS SELECT p.* FROM {} AS p "
                             "CROSS JOIN pg_catalog.generate_series(1, {}) AS g").format(
            sql.Identifier(many), sql.Identifier("pg_temp", part), sql.Literal(TIMES)))
        if extension is not None:
            key = opclass_with_extension(conn, key, extension)
        sizes = []
        for name in (part, many):
            conn.execute(ddl.create_index("pg_temp", name, f"{name}_idx", (key,), concurrently=False,
                                          method=IndexMethod.GIN))
            sizes.append(conn.execute("SELECT /* pgtune */ pg_catalog.pg_relation_size(%s::regclass)",
                                      (ddl.qualified("pg_temp", f"{name}_idx"),)).fetchone())
        row = conn.execute(sql.SQL("SELECT /* pgtune */ count(*) FROM {}").format(
            sql.Identifier("pg_temp", part))).fetchone()
    once, repeated, rows = (int(sizes[0][0]) if sizes[0] else 0), (int(sizes[1][0]) if sizes[1] else 0), \
        (int(row[0]) if row else 0)
    if rows == 0 or repeated <= once:
        return None
    return (repeated - once) / ((TIMES - 1) * rows)


def whole_size(sizes: tuple[int, int], rows: tuple[float, float], per_row: float | None,
               table_rows: float) -> float | None:
    """The GIN's size on ``table_rows`` rows from its sizes on the sample and the half sample (``rows`` rows
    each) and the postings' bytes per row. None when these do not tell entries from postings."""
    whole, half = sizes
    n_whole, n_half = rows
    if per_row is None or n_half <= 0 or n_whole <= n_half:
        return None
    entries, entries_half = whole - per_row * n_whole, half - per_row * n_half
    if entries <= 0 or entries_half <= 0:
        return None
    m, ratio, share = n_whole / n_half, entries / entries_half, n_whole / table_rows
    if ratio >= m:                                      # keys unique: the entries grow with the rows
        seen = share
    elif ratio <= 1.0:                                  # the sample saw every key
        seen = 1.0
    else:
        seen = max(share, 1.0 - math.exp(-_repeats(ratio, m)))
    return entries / seen + per_row * table_rows


def _repeats(ratio: float, m: float) -> float:
    """x = k s where (1 - exp(-x)) / (1 - exp(-x / m)) = ratio (decreasing from m at 0 towards 1)."""
    low, high = 1e-9, 1.0
    while (1.0 - math.exp(-high)) / (1.0 - math.exp(-high / m)) > ratio and high < 1e4:
        high *= 2.0
    for _ in range(60):
        mid = (low + high) / 2.0
        if (1.0 - math.exp(-mid)) / (1.0 - math.exp(-mid / m)) > ratio:
            low = mid
        else:
            high = mid
    return (low + high) / 2.0
