"""Partial indexes from a statement's own filters: status values, column comparisons, NULL tests."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest

from pgtune.analyze import bind
from pgtune.analyze.candidates import from_shape
from pgtune.capture import Catalog, ColumnStats, Table, read_queries_file
from pgtune.explain import explain

from .helpers import steady_state, suggest

SHIPPING = """
CREATE TABLE "order" (id bigint PRIMARY KEY, placed date NOT NULL);
CREATE TABLE shipment (
    id bigint PRIMARY KEY, "orderId" bigint NOT NULL, mode text NOT NULL,
    "committedOn" date NOT NULL, "receivedOn" date NOT NULL, "lostAt" timestamptz
);
INSERT INTO "order" SELECT g, date '2025-01-01' + g % 365 FROM generate_series(1, 50000) AS g;
INSERT INTO shipment
SELECT g, 1 + g % 50000, (ARRAY['AIR', 'MAIL', 'SHIP', 'RAIL', 'TRUCK', 'FOB', 'REG AIR'])[1 + g % 7],
       date '2025-01-01' + g % 365,
       date '2025-01-01' + g % 365 + CASE WHEN g % 10 < 8 THEN 3 ELSE -2 END,   -- 80% arrive late
       CASE WHEN g % 1000 = 0 THEN now() END
FROM generate_series(1, 300000) AS g;
ANALYZE;
"""

LATE_MAIL = ('SELECT s.mode, count(*) FROM "order" o JOIN shipment s ON s."orderId" = o.id '
             "WHERE s.mode IN ('MAIL', 'SHIP') AND s.\"committedOn\" < s.\"receivedOn\" "
             "AND s.\"receivedOn\" >= date '2025-03-01' AND s.\"receivedOn\" < date '2025-04-01' GROUP BY s.mode")


@pytest.mark.needs_hypopg
def test_status_values_and_a_column_comparison_make_one_predicate(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SHIPPING)
    steady_state(conn)
    advice = suggest(conn, read_queries_file(LATE_MAIL + ";"))
    [ix] = [i for i in advice.indexes if i.table == "shipment"]
    # Both filters, AND-ed: 2 modes of 7 and the late ones (80%): 23% of the rows.
    assert ix.where == "\"committedOn\" < \"receivedOn\" AND mode IN ('MAIL', 'SHIP')"
    row = advice.statements[0]
    assert row.cost_after is not None and row.cost_before is not None and row.cost_after < row.cost_before / 2
    # The planner guesses a third for "committedOn" < "receivedOn"; the sample says 80%.
    share = re.search(r"\(([\d.]+)% of rows", ix.reason)
    assert share is not None and 20 <= float(share.group(1)) <= 26, ix.reason
    conn.execute(ix.ddl)
    size = conn.execute("SELECT pg_relation_size(%s::regclass)", (f'"{ix.name}"',)).fetchone()
    assert size is not None and ix.forecast_bytes is not None
    assert 1 / 1.5 <= ix.forecast_bytes / size[0] <= 1.5, (ix.forecast_bytes, size[0])
    # The real index serves the statement as written ("order" first), not only the reordered text.
    assert ix.name in explain(conn, LATE_MAIL).indexes


@pytest.mark.needs_hypopg
def test_a_rare_null_test_is_a_predicate_and_a_common_one_is_not(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SHIPPING)
    steady_state(conn)
    lost = 'SELECT id FROM shipment WHERE "lostAt" IS NOT NULL ORDER BY "receivedOn" DESC LIMIT 20;'
    found = 'SELECT id FROM shipment WHERE "lostAt" IS NULL AND "orderId" = 42;'
    advice = suggest(conn, read_queries_file(lost + "\n" + found))
    wheres = {tuple(i.columns): i.where for i in advice.indexes if i.table == "shipment"}
    assert wheres == {("receivedOn",): '"lostAt" IS NOT NULL', ("orderId",): None}


def catalog(n_distinct: float, mcv: tuple[str, ...], freqs: tuple[float, ...]) -> Catalog:
    table = Table("public", "shipment", ("id", "mode", "orderId"), ("bigint", "character(10)", "bigint"),
                  reltuples=1000)
    return Catalog(tables={table.key: table}, search_path=("public",),
                   column_stats={("public", "shipment", "mode"): ColumnStats(n_distinct, 0.0, mcv, freqs)})


MODES = ("AIR       ", "MAIL      ", "SHIP      ", "RAIL      ")   # char(10): pg_stats keeps the padding


@pytest.mark.parametrize("values,stats,expected", [
    ("'MAIL', 'SHIP'", (4, MODES, (0.5, 0.25, 0.15, 0.1)), 0.25 + 0.15),
    # A value the column does not hold (every value is listed): it keeps no rows.
    ("'MAIL', 'AIR MAIL'", (4, MODES, (0.5, 0.25, 0.15, 0.1)), 0.25),
    # A value beyond the listed ones, on a column with more: no reliable share, no predicate.
    ("'MAIL', 'BARGE'", (9, MODES, (0.4, 0.3, 0.2, 0.05)), None),
    # Not status-like: an identifier's values never make a predicate.
    ("'MAIL', 'SHIP'", (-0.5, MODES, (0.4, 0.3, 0.2, 0.1)), None),
])
def test_in_list_share(values: str, stats: tuple[float, tuple[str, ...], tuple[float, ...]],
                       expected: float | None) -> None:
    cat = catalog(*stats)
    shape = bind(f"SELECT id FROM shipment WHERE mode IN ({values}) AND \"orderId\" = $1", cat)
    partial = [c for c in from_shape(shape, 0, cat) if c.where is not None]
    if expected is None:
        assert partial == []
    else:
        assert {c.where for c in partial} == {f"mode IN ({values})"}
        assert all(c.where_fraction == pytest.approx(expected) for c in partial)
