"""A chosen index that gives a LIMITed statement part of its ORDER BY gets the rest (the tie-breaker).

Found on Langfuse (q9, last session's tryouts): the latest items of a dataset,
``WHERE project_id = $1 AND dataset_id = $2 ORDER BY created_at DESC, id LIMIT
$3 OFFSET $4`` (Prisma). pgtune proposed (project_id, dataset_id, created_at
DESC): items uploaded together share one created_at, so the server read and
sorted every matching row before returning the first (incremental sort, one
group), 123 ms; with id as the last key the scan stops after the LIMIT's rows,
0.24 ms. The planner prices the sort from created_at's distinct values over
the whole table, so the what-if cost hardly told the two apart and selection
kept the smaller index.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze.bind import bind
from pgtune.analyze.candidates import Candidate
from pgtune.analyze.order_keys import complete
from pgtune.capture import read_catalog
from pgtune.ddl import IndexKey
from tests.helpers import all_visible, steady_state, suggest

SCHEMA = """
CREATE TYPE "DatasetStatus" AS ENUM ('ACTIVE', 'ARCHIVED');
CREATE TABLE dataset_items (id text NOT NULL, project_id text NOT NULL, dataset_id text NOT NULL,
  status "DatasetStatus" DEFAULT 'ACTIVE', input jsonb, expected_output jsonb, metadata jsonb,
  created_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (id, project_id));
CREATE INDEX dataset_items_created_at_idx ON dataset_items (created_at);
CREATE INDEX dataset_items_dataset_id_idx ON dataset_items USING hash (dataset_id);
-- 30 datasets over 10 projects: items added one at a time (a created_at each), but for the three
-- datasets a CSV upload filled, 5,000 items at a time (one created_at per upload)
INSERT INTO dataset_items (id, project_id, dataset_id, input, created_at, updated_at)
SELECT 'c' || md5(g::text), 'proj_' || (g % 30 % 10), 'ds_' || (g % 30), jsonb_build_object('q', g),
  CASE WHEN g % 30 < 3 THEN timestamp '2026-01-01' + (g / 15000) * interval '1 min'
       ELSE timestamp '2026-01-01' + g * interval '1 s' END, timestamp '2026-01-01' + g * interval '1 s'
FROM generate_series(1, 300000) g;
"""

LATEST = ('SELECT "public"."dataset_items"."id", "public"."dataset_items"."project_id", '
          '"public"."dataset_items"."dataset_id", "public"."dataset_items"."status"::text, '
          '"public"."dataset_items"."input", "public"."dataset_items"."created_at" FROM "public"."dataset_items" '
          'WHERE ("public"."dataset_items"."project_id" = %s AND "public"."dataset_items"."dataset_id" = %s) '
          'ORDER BY "public"."dataset_items"."created_at" DESC, "public"."dataset_items"."id" ASC LIMIT %s OFFSET %s')


@pytest.mark.needs_hypopg
def test_the_index_carries_the_tie_breaker(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    all_visible(conn, "dataset_items")
    steady_state(conn)
    for i in range(40):
        conn.execute(LATEST, (f"proj_{i % 10}", f"ds_{i % 30}", 50, 0), prepare=False).fetchall()
    advice = suggest(conn)
    (index,) = [s for s in advice.indexes if s.table == "dataset_items"]
    assert index.columns == ["project_id", "dataset_id", "created_at", "id"] or \
        index.columns == ["dataset_id", "project_id", "created_at", "id"], index.ddl
    assert index.descending[2:] == [True, False], index.ddl
    assert index.queries and index.cost_after is not None and index.cost_before is not None
    conn.execute(index.ddl)
    plan = "\n".join(r[0] for r in conn.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + LATEST,
                                                   ("proj_1", "ds_1", 50, 0)).fetchall())
    assert "Sort" not in plan, plan      # the scan gives the order: it stops after the LIMIT's rows
    assert "rows=50 loops=1" in plan.splitlines()[1], plan


def test_an_index_sorted_by_the_first_keys_gets_the_rest(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA.replace("300000", "3000"))
    conn.execute("ANALYZE dataset_items")
    catalog = read_catalog(conn)
    table = ("public", "dataset_items")
    three = Candidate(table, (IndexKey("project_id"), IndexKey("dataset_id"), IndexKey("created_at", True)), 2,
                      statements={0, 1, 2}, include=("id",))
    text = LATEST.replace("%s", "$1")
    latest = bind(text, catalog)
    backward = bind(text.replace("created_at\" DESC", "created_at\" ASC").replace("id\" ASC", "id\" DESC"),
                    catalog)
    nulls = bind(text.replace("DESC", "DESC NULLS LAST"), catalog)
    unlimited = bind(text.split(" LIMIT")[0], catalog)
    (done,) = complete([three], [latest], catalog)
    assert [(k.column, k.descending) for k in done.keys][2:] == [("created_at", True), ("id", False)]
    assert done.include == ()              # id is a key now
    (flipped,) = complete([three], [backward], catalog)      # read backward: the tie-breaker's direction flips too
    assert [(k.column, k.descending) for k in flipped.keys][2:] == [("created_at", True), ("id", False)]
    for shape in (nulls, unlimited):       # NULLS LAST as written; no LIMIT to stop early for
        assert complete([three], [shape], catalog) == [three]
    assert complete([three], [latest], catalog, fits=lambda s: False) == [three]      # over the budget
