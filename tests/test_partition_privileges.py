"""p14: pgtune run as the application's role reads no partition that role may not SELECT.

A role granted SELECT on a partitioned table reads its partitions through it, never directly (a Langfuse-shaped
database: the app's GRANT ... ON ALL TABLES predates the monthly partitions). Run with that login, suggest sampled
each leaf partition for a candidate's size forecast: 143 'permission denied for table observations_2026_..' ERRORs in
the server's log a suggest. Such a leaf is read as a table row security guards: not at all (Catalog.policed).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from pgtune import api
from pgtune.analyze import Options
from pgtune.capture import WorkloadFilter, read_catalog

from .helpers import login_roles
from .test_temporary_probes import errors, traced

GENERATIONS = ("SELECT id, name, start_time FROM obs.observations WHERE project_id = %s AND type = %s "
               "ORDER BY start_time DESC LIMIT 50")


@pytest.mark.needs_hypopg
def test_no_read_of_a_partition_the_role_reads_only_through_its_parent(db: str, conn: psycopg.Connection[Any]) -> None:
    with login_roles(conn, "app") as (app,):
        conn.execute("CREATE SCHEMA obs")
        conn.execute("CREATE TABLE obs.observations (id text NOT NULL, project_id text NOT NULL, type text NOT NULL, "
                     "name text, start_time timestamp NOT NULL, PRIMARY KEY (id, start_time)) "
                     "PARTITION BY RANGE (start_time)")
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA obs TO {0}; GRANT SELECT ON obs.observations TO {0}; "
                             "GRANT pg_read_all_stats TO {0}").format(sql.Identifier(app)))
        for m in range(1, 5):
            conn.execute(f"CREATE TABLE obs.observations_{m} PARTITION OF obs.observations "
                         f"FOR VALUES FROM ('2026-{m:02}-01') TO ('2026-{m + 1:02}-01')")
        conn.execute("INSERT INTO obs.observations SELECT 'ob' || g, 'p' || g % 300, "
                     "(ARRAY['SPAN', 'GENERATION', 'EVENT'])[1 + g % 3], md5(g::text), "
                     "timestamp '2026-01-01' + g * interval '30 seconds' FROM generate_series(1, 320000) g")
        conn.execute("VACUUM ANALYZE obs.observations")
        conn.execute("SELECT pg_stat_statements_reset()")
        with psycopg.connect(make_conninfo(db, user=app), autocommit=True) as c:
            for i in range(30):
                c.execute(GENERATIONS, (f"p{i}", "GENERATION")).fetchall()
        with psycopg.connect(make_conninfo(db, user=app), autocommit=True) as mine:
            catalog = read_catalog(mine)
            assert not catalog.policed(("obs", "observations"))     # the parent is the role's to read
            assert catalog.policed(("obs", "observations_1"))
            with traced(mine) as lines:
                options = api.SuggestOptions(indexes=Options(min_rows=0, workload=WorkloadFilter(roles=(app,))),
                                             constraints=False)
                advice = api.suggest(mine, options).indexes
    assert errors(lines) == [], errors(lines)[:3]
    assert advice.indexes and advice.indexes[0].forecast_bytes, advice.indexes
