"""p14: no sample of a table whose row security applies to pgtune's own role (a Langfuse-shaped database).

Run with the application's own login (``DATABASE_URL`` of the app, as a new user does), pgtune reads under the
application's policies. A GIN candidate on ``traces.tags`` (Prisma's ``has``) was costed on a sample copied from the
table: the policy's ``current_setting('app.project_id')`` without missing_ok failed the copy, in each parallel
worker too, an ERROR in the server's log for every trial (and the trial lost anyway). docs/roles.md says pgtune
reads no sample of such a table; the catalog's ``policed`` tells it, as it does for the key samples.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from pgtune import api
from pgtune.analyze import Options
from pgtune.capture import WorkloadFilter

from .helpers import login_roles
from .test_temporary_probes import errors, traced

TAGGED = ('SELECT id, name FROM lf.traces WHERE project_id = %s AND tags @> ARRAY[%s]::text[] '
          'ORDER BY "timestamp" DESC LIMIT 50')


@pytest.mark.needs_hypopg
def test_no_sample_of_a_table_the_application_s_policy_guards(db: str, conn: psycopg.Connection[Any]) -> None:
    with login_roles(conn, "app") as (app,):
        conn.execute("CREATE SCHEMA lf")
        conn.execute('CREATE TABLE lf.traces (id text PRIMARY KEY, project_id text NOT NULL, name text, '
                     '"timestamp" timestamp NOT NULL, tags text[] NOT NULL DEFAULT \'{}\')')
        conn.execute("INSERT INTO lf.traces SELECT 'tr' || g, 'p' || g % 40, 'chat', "
                     "timestamp '2026-01-01' + g * interval '1 minute', "
                     "CASE WHEN g % 97 = 0 THEN ARRAY['needs-review'] WHEN g % 2 = 0 THEN ARRAY['prod'] "
                     "ELSE '{}' END FROM generate_series(1, 120000) g")
        conn.execute("ANALYZE lf.traces")
        conn.execute("ALTER TABLE lf.traces ENABLE ROW LEVEL SECURITY")
        conn.execute(sql.SQL("CREATE POLICY project ON lf.traces TO {} "
                             "USING (project_id = current_setting('app.project_id'))").format(sql.Identifier(app)))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA lf TO {0}; GRANT SELECT ON lf.traces TO {0}; "
                             "GRANT pg_read_all_stats TO {0}").format(sql.Identifier(app)))
        # the copy of a sample in parallel, as on p14's 500,000 traces: a worker has no stand-in setting
        conn.execute(sql.SQL("ALTER ROLE {} SET parallel_setup_cost = 0; ALTER ROLE {} SET parallel_tuple_cost = 0; "
                             "ALTER ROLE {} SET min_parallel_table_scan_size = 0")
                     .format(sql.Identifier(app), sql.Identifier(app), sql.Identifier(app)))
        conn.execute("SELECT pg_stat_statements_reset()")
        with psycopg.connect(make_conninfo(db, user=app)) as c:
            for i in range(40):
                with c.transaction():
                    c.execute("SELECT set_config('app.project_id', %s, true)", (f"p{i % 40}",))
                    c.execute(TAGGED, (f"p{i % 40}", "needs-review")).fetchall()
        with psycopg.connect(make_conninfo(db, user=app), autocommit=True) as mine, traced(mine) as lines:
            options = api.SuggestOptions(indexes=Options(min_rows=0, workload=WorkloadFilter(roles=(app,))),
                                         constraints=False)
            advice = api.suggest(mine, options).indexes
    assert errors(lines) == [], errors(lines)
    (gin,) = [h for h in advice.hints if h.startswith("gin (tags)")]
    assert "row security" in gin, gin        # not 'the sample came back empty': the policy filtered it
