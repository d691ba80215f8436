"""u10 (Langfuse tryout): a boolean the application writes into its statement is valued as written.

Langfuse lists a dataset's latest items with ``di.is_deleted = false`` in its
SQL; pg_stat_statements keeps that as ``is_deleted = $5``, pg_qualstats keeps
no constant for it (the planner makes it ``NOT is_deleted``), and pgtune,
with pg_stats alone, took the value of "typical frequency": for a flag's two
common values, the rare one. The statement was planned as a call for the 2%
of deleted rows. pg_qualstats' example of the statement as sent holds the
``false``: each constant the application's text holds is its value.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune import api

pytestmark = pytest.mark.needs_qualstats

SCHEMA = """
CREATE TABLE dataset_items (
    id          text NOT NULL,
    project_id  text NOT NULL,
    dataset_id  text NOT NULL,
    valid_from  timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    valid_to    timestamp(3),
    is_deleted  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id, project_id, valid_from)
);
INSERT INTO dataset_items
SELECT 'c' || md5(g::text), 'p' || (g % 50), 'd' || (g % 150), now() - g * interval '1 minute',
       CASE WHEN g % 7 = 0 THEN now() END, g % 50 = 1
FROM generate_series(1, 30000) AS g;
ANALYZE dataset_items;
"""

LATEST = """
    SELECT di.id, di.valid_from FROM dataset_items di
    WHERE di.project_id = %s
      AND di.is_deleted = false
      AND di.valid_to IS NULL
      AND di.dataset_id = %s
    ORDER BY di.valid_from DESC, di.id ASC
    LIMIT %s OFFSET %s
"""


def test_a_boolean_the_application_wrote_is_valued_as_written(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    conn.execute("SELECT pg_stat_statements_reset(), pg_qualstats_reset()")
    with psycopg.connect(conn.info.dsn, autocommit=True) as application:
        for k in range(20):          # named prepared statements, as the application's driver sends them
            application.execute(LATEST, (f"p{k % 5}", f"d{k % 5}", 50, 0), prepare=True).fetchall()
    result = api.suggest(conn)
    [row] = [s for s in result.indexes.statements if "is_deleted" in s.query]
    [flag] = [p for p in row.params if p.use.startswith("is_deleted")]
    assert (flag.value, flag.source.value) == ("false", "example"), flag     # was ('t', 'stats'): the rare value
