"""u10 (Langfuse tryout): an IN list of long ids whose constant pg_qualstats cut short is still valued from it.

Langfuse counts an evaluator's job executions per status as Prisma sends it:
``WHERE ("job_configuration_id" IN ($1,$2,$3) AND "project_id" = $4) GROUP
BY …``. A custom plan folds the list into one array constant, and pg_qualstats
keeps a constant's first 79 bytes only: three 25-character cuids do not fit,
so the array had no closing brace and no value came of it. pgtune took the
project from pg_qualstats and the three configurations from pg_stats, each a
typical one of another project: the statement was planned (and timed at emit,
and verified) as a call that finds no row, 0.04 ms where the application's
calls took 351 ms. The whole elements before the cut are the list's values.
"""

from __future__ import annotations

import hashlib
from typing import Any

import psycopg
import pytest

from pgtune.analyze import bind
from pgtune.analyze.values import valued
from pgtune.capture import read_catalog
from pgtune.snapshot import read_constants

pytestmark = pytest.mark.needs_qualstats

SCHEMA = """
CREATE TABLE job_executions (
    id                   text PRIMARY KEY,
    project_id           text NOT NULL,
    job_configuration_id text NOT NULL,
    status               text NOT NULL
);
INSERT INTO job_executions
SELECT 'c' || substr(md5('je' || g), 1, 24), 'c' || substr(md5('proj' || (g % 200)), 1, 24),
       'c' || substr(md5('jc' || (g % 200) || '_' || (g / 200 % 3)), 1, 24),
       (ARRAY['COMPLETED', 'ERROR', 'PENDING'])[1 + g % 3]
FROM generate_series(1, 60000) AS g;
ANALYZE job_executions;
"""

JE = '"public"."job_executions"'
COUNTS = (f'SELECT COUNT(*) AS "_count$_all", {JE}."status", {JE}."job_configuration_id" FROM {JE} '
          f'WHERE ({JE}."job_configuration_id" IN (%s,%s,%s) AND {JE}."project_id" = %s) '
          f'GROUP BY {JE}."status", {JE}."job_configuration_id" OFFSET %s')


def cuid(seed: str) -> str:
    return "c" + hashlib.md5(seed.encode()).hexdigest()[:24]


def test_an_in_list_cut_short_by_pg_qualstats_is_valued_with_its_whole_elements(
        conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    conn.execute("SELECT pg_stat_statements_reset(), pg_qualstats_reset()")
    project = 7
    configs = [cuid(f"jc{project}_{k}") for k in range(3)]
    with psycopg.connect(conn.info.dsn, autocommit=True) as application:   # custom plans: constants recorded
        for _ in range(10):
            application.execute(COUNTS, (*configs, cuid(f"proj{project}"), 0)).fetchall()
    row = conn.execute("SELECT queryid, query FROM pg_stat_statements WHERE query LIKE %s",
                       ["%GROUP BY%job_configuration_id%"]).fetchone()
    assert row is not None
    queryid, query = row
    constants = read_constants(conn)[queryid]
    assert any(c.column == "job_configuration_id" and not c.value.rstrip().endswith("[]") for c in constants)
    catalog = read_catalog(conn)
    main = valued(bind(query, catalog), catalog, 5, constants).scenarios[0].values
    assert main["$4"] == cuid(f"proj{project}")
    listed = [main["$1"], main["$2"], main["$3"]]
    assert set(listed) <= set(configs), listed      # was: three configurations of other projects
    found = conn.execute("SELECT count(*) FROM job_executions WHERE job_configuration_id = ANY(%s) "
                         "AND project_id = %s", (listed, main["$4"])).fetchone()
    assert found is not None and found[0] > 0      # planned as a call that finds the rows the calls found
