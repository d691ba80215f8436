"""The synthetic workload of many small tables that benchmarks/speed.py and tests/test_pool.py both use.

Each table t<i> has the same columns and rows; each gets ten statement shapes
(equality, equality + ORDER BY ... LIMIT, a range, an IN list, a join to its
neighbour, an expression, GROUP BY, a correlated EXISTS, an UPDATE, a DELETE).
One builder, so the benchmark's figures and the test's answers are about the
same workload.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

ROWS = 2000


def shapes(t: str, n: str) -> list[str]:
    """Ten distinct statement shapes on table ``t`` (``n`` is its neighbour), with literal values."""
    return [
        f"SELECT id, c2 FROM {t} WHERE c1 = 5",
        f"SELECT id FROM {t} WHERE c2 = 3 ORDER BY c3 DESC LIMIT 10",
        f"SELECT count(*) FROM {t} WHERE c4 BETWEEN 10 AND 20",
        f"SELECT id FROM {t} WHERE c5 IN (1, 2, 3) AND c6 > 100",
        f"SELECT a.id, b.c1 FROM {t} a JOIN {n} b ON b.id = a.ref WHERE a.c7 = 9",
        f"SELECT id FROM {t} WHERE lower(name) = 'x'",
        f"SELECT c8, count(*) FROM {t} WHERE c1 = 2 GROUP BY c8",
        f"SELECT id FROM {t} a WHERE EXISTS (SELECT 1 FROM {n} b WHERE b.ref = a.id AND b.c2 = 4)",
        f"UPDATE {t} SET c8 = c8 + 1 WHERE c3 = 77",
        f"DELETE FROM {t} WHERE c6 < 0 AND c4 = 1",
    ]


def statements(tables: int, per: int = 10) -> list[tuple[int, int, str]]:
    """(table, shape, text) of the first ``per`` shapes of every table, table by table."""
    return [(i, k, q) for i in range(tables)
            for k, q in enumerate(shapes(f"t{i}", f"t{(i + 1) % tables}")[:per])]


def build(conn: psycopg.Connection[Any], tables: int, rows: int = ROWS, analyze: str = "VACUUM ANALYZE") -> None:
    """``tables`` tables t0.. of ``rows`` rows each, then ``analyze`` (the statistics every plan reads)."""
    for i in range(tables):
        t = sql.Identifier(f"t{i}")
        conn.execute(sql.SQL(
            "CREATE TABLE {t} (id int PRIMARY KEY, ref int, c1 int, c2 int, c3 int, c4 int, c5 int, c6 int, "
            "c7 int, c8 int, name text)").format(t=t))
        conn.execute(sql.SQL(
            "INSERT INTO {t} SELECT g, (g * 7) % {rows} + 1, g % 100, g % 50, g % 1000, g % 500, g % 10, g, "
            "g % 300, g % 7, 'n' || g FROM generate_series(1, {rows}) g").format(t=t, rows=sql.Literal(rows)))
    conn.execute(analyze)
