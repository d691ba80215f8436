"""A key sample reads whole pages: a key whose rows sit together in a page is seen whole, not as a duplicate
of many unseen ones (u10's finding, Langfuse-shaped).

Duj1 takes the sample's keys seen once as the evidence of keys it did not
see. With rows drawn at random a key seen three times is one of the table's
frequent ones; read by pages (TABLESAMPLE SYSTEM), the three rows a loop
inserted together are one page's, and the sample holds every row of that key.
Langfuse's job executions (3.5M rows, three adjacent rows a trace) were
counted 806k keys for 3.4 million, and the index forecast at a third of its
built size.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import key_sample
from pgtune.ddl import IndexKey

KEYS = (IndexKey("trace_id"), IndexKey("project_id"))
TRACES = 200_000     # three rows each: 600,000 rows


@pytest.mark.parametrize("order", ["g", "md5(g::text)"])
def test_keys_whose_rows_share_a_page_are_counted_as_the_table_holds_them(conn: psycopg.Connection[Any],
                                                                           order: str) -> None:
    """``g``: a trace's three rows inserted together (one page); ``md5``: the same rows in random order, where
    Duj1 was right and stays so."""
    conn.execute("CREATE TABLE job (id bigint PRIMARY KEY, trace_id text NOT NULL, project_id int NOT NULL, "
                 "config int NOT NULL)")
    conn.execute(f"INSERT INTO job SELECT g, md5((g / 3)::text), (g / 3) % 7, g % 3 "
                 f"FROM generate_series(0, {3 * TRACES - 1}) g ORDER BY {order}")
    conn.execute("ANALYZE job")
    rows = conn.execute("SELECT reltuples FROM pg_class WHERE relname = 'job'").fetchone()
    assert rows is not None
    found = key_sample.sample_keys(conn, ("public", "job"), KEYS, float(rows[0]))
    assert found is not None and found.distinct is not None
    assert TRACES / 1.5 <= found.distinct <= TRACES * 1.5, found
    [together] = key_sample.sample_keys_many(conn, ("public", "job"), [(KEYS, ()), ((IndexKey("config"),), ())],
                                         float(rows[0]))[:1]
    assert together == found        # one read of the sample for several indexes: the same answer
