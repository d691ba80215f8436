"""Zero rows are an ordinary case (issue 24.2): an empty table, a partial predicate keeping no row."""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.analyze import Options, sizing
from pgtune.capture import read_catalog, read_queries_file
from pgtune.ddl import IndexKey

from .helpers import shop, suggest

# 'archived' is a status the column does not hold (every value is in most_common_vals): the predicate
# keeps no row, and the candidate ("userId", "createdAt") is multi-column.
ARCHIVED = ('SELECT id FROM "order" WHERE status = \'archived\' AND "userId" = $1 '
            'ORDER BY "createdAt" DESC LIMIT 20')


def test_a_partial_predicate_that_keeps_no_row_is_forecast_not_a_crash(conn: psycopg.Connection[Any]) -> None:
    shop(conn)
    advice = suggest(conn, read_queries_file(ARCHIVED + ";"))
    assert not [s for s in advice.skipped if s.kind == "cannot-plan"]
    assert all(i.forecast_bytes is not None and i.forecast_bytes > 0 for i in advice.indexes)


def test_forecasts_on_an_empty_table(conn: psycopg.Connection[Any]) -> None:
    """A table whose rows were all deleted keeps its statistics; VACUUM sets reltuples to 0."""
    shop(conn)
    conn.execute('DELETE FROM "order"')
    conn.execute('VACUUM "order"')
    cat = read_catalog(conn)
    assert cat.tables[("public", "order")].reltuples == 0
    keys = (IndexKey("userId"), IndexKey("createdAt", True))
    for fraction in (None, 0.0, 0.5):
        assert sizing.forecast(cat, ("public", "order"), keys, fraction=fraction) == sizing.PAGE
    assert sizing.forecast(cat, ("public", "order"), keys, distinct=0.0) == sizing.PAGE


def test_suggest_on_empty_tables_with_min_rows_zero(conn: psycopg.Connection[Any]) -> None:
    shop(conn)
    conn.execute('DELETE FROM "order"')
    conn.execute('VACUUM "order"')
    advice = suggest(conn, read_queries_file(ARCHIVED.replace("'archived'", "'pending'") + ";"),
                     Options(min_rows=0))
    assert not [s for s in advice.skipped if s.kind == "cannot-plan"]
