"""The catalog's pg_stats arrays: kept as the server's text, read as the same tuples, in a tenth of the memory.

benchmarks/speed.py at 20,000 statements over 2,000 tables held each value of
every histogram and most-common list as its own Python object: 145 MB of
suggest's peak (issue 28 asks for 500 MB in all).
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import psycopg
from psycopg.rows import dict_row

from pgtune.capture import ColumnStats, read_catalog

# Values the array text quotes and escapes: quotes, backslashes, commas, braces, blanks, the word NULL, ''.
AWKWARD = ['say "hi"', "back\\slash", "a,b", "{braced}", " padded ", "NULL", "null", "", "tab\there", "é ü",
           "new\nline", "x" * 40]


def _as_before(conn: psycopg.Connection[Any]) -> dict[tuple[str, str], tuple[tuple[Any, ...], ...]]:
    """Each column's arrays as the catalog read them before: cast to text[] (real[]) by the server, split by psycopg."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("""
            SELECT tablename, attname, most_common_vals::text::text[] AS mcv, most_common_freqs AS freqs,
                   histogram_bounds::text::text[] AS bounds
            FROM pg_stats WHERE schemaname = 'public'""").fetchall()
    return {(r["tablename"], r["attname"]): (tuple(r["mcv"] or ()), tuple(float(f) for f in r["freqs"] or ()),
                                             tuple(r["bounds"] or ())) for r in rows}


def test_statistics_read_as_the_server_gives_them(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE awkward (id int, word text, tags int[], at timestamptz, amount numeric, flag bool, "
                 "doc jsonb)")
    # Each awkward word common enough to be a most-common value, and a long tail of rarer ones for the histogram.
    conn.execute(r"""
        INSERT INTO awkward
        SELECT g, CASE WHEN g %% 3 = 0 THEN (%(a)s::text[])[1 + (g / 3) %% cardinality(%(a)s::text[])]
                       ELSE 'w "' || g || E'\\,{}' END,
               ARRAY[g %% 7, g %% 5], '2026-01-01'::timestamptz + g * interval '1 minute', g / 7.0, g %% 2 = 0,
               jsonb_build_object('k', g %% 4)
        FROM generate_series(1, 3000) g""", {"a": AWKWARD})
    conn.execute("ANALYZE awkward")
    expected = _as_before(conn)
    cat = read_catalog(conn)
    seen = 0
    for (table, column), (mcv, freqs, bounds) in expected.items():
        st = cat.column_stats[("public", table, column)]
        info = cat.table_columns(("public", table))[column]
        assert (st.most_common_vals, st.most_common_freqs, st.histogram_bounds) == (mcv, freqs, bounds), column
        assert (info.most_common_vals, info.most_common_freqs, info.histogram_bounds) == (mcv, freqs, bounds)
        seen += bool(mcv) + bool(bounds)
    words = cat.column_stats[("public", "awkward", "word")]
    assert set(AWKWARD) - {""} <= set(words.most_common_vals)     # '' sorts with them too, if common enough
    assert any('"' in b and "\\" in b and "," in b for b in words.histogram_bounds)
    assert seen >= 8
    # Given as tuples (tests, replays), the same reads.
    assert ColumnStats(1, 0.0, ("a",), (1.0,)) == ColumnStats(1, 0.0, b"{a}", b"{1}")


def test_statistics_of_many_columns_take_little_memory(conn: psycopg.Connection[Any]) -> None:
    """40 tables of 10 columns with full histograms: under 2 kB a column (about 8 kB split into tuples)."""
    for i in range(40):
        conn.execute(psycopg.sql.SQL(
            "CREATE TABLE {} AS SELECT g AS id, g * 7 AS a, g * 13 AS b, g % 100 AS c, g % 50 AS d, "
            "'name ' || g AS e, g::text AS f, g * 3 AS h, g % 300 AS j, g * 11 AS k "
            "FROM generate_series(1, 2000) g").format(psycopg.sql.Identifier(f"m{i}")))
    conn.execute("ANALYZE")
    # Read once first: its names are interned (sys.intern), and a resize of the interpreter's table of interned
    # strings, 1.9 MB at once, fell in the measure or not depending on what ran before (m15: 6,228 bytes a column
    # in the full suite's order, under 2,048 alone). The second read holds what a catalog holds.
    read_catalog(conn)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        cat = read_catalog(conn)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    columns = [c for c in cat.columns if c.table.startswith("m")]
    assert len(columns) == 400 and all(c.n_distinct is not None for c in columns)
    assert sum(len(c.histogram_bounds) + len(c.most_common_vals) for c in columns) >= 400 * 90
    assert held / len(cat.columns) < 2048, f"{held / len(cat.columns):.0f} bytes a column"
