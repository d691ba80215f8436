"""p13: Prisma's ``has`` on an array column, ``"triggers" @> ARRAY[CAST($2::text AS "PipelineTriggers")]``.

The ``$n`` is one element inside an ARRAY constructor, which no value rule read: the statement was planned with a
generic ``$2``, whose default share made a GIN on ``triggers`` look selective. On a Formbricks-shaped database
every webhook fires on 'responseFinished', so that GIN (proposed, 1.6-2.0x) finds every row of the workspace.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import Options

from .helpers import suggest

HOOKS = ('SELECT "id", "url" FROM "Webhook" WHERE ("workspaceId" = $1 AND "triggers" @> '
         'ARRAY[CAST($2::text AS "PipelineTriggers")] AND "surveyIds" @> ARRAY[$3]::text[])')


@pytest.mark.needs_hypopg
def test_an_element_the_application_asks_an_array_to_hold_gets_a_value(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TYPE \"PipelineTriggers\" AS ENUM ('responseCreated', 'responseUpdated', 'responseFinished')")
    conn.execute('CREATE TABLE "Webhook" (id text PRIMARY KEY, url text NOT NULL, "workspaceId" text NOT NULL, '
                 'triggers "PipelineTriggers"[], "surveyIds" text[])')
    conn.execute('INSERT INTO "Webhook" SELECT \'wh\' || g, \'https://hooks.test/\' || g, \'ws\' || g % 2000, '
                 "(CASE WHEN g % 3 = 0 THEN '{responseFinished}' ELSE '{responseCreated,responseFinished}' END)"
                 '::"PipelineTriggers"[], ARRAY[\'sv\' || g % 20000, \'sv\' || (g * 7) % 20000] '
                 "FROM generate_series(1, 40000) g")
    conn.execute('VACUUM ANALYZE "Webhook"')
    conn.execute("SELECT pg_stat_statements_reset()")
    conn.execute("SELECT pg_qualstats_reset()")
    text = HOOKS.replace("$1", "%s").replace("$2", "%s").replace("$3", "%s")
    with psycopg.connect(db, autocommit=True, prepare_threshold=None) as app:
        for k in range(40):
            app.execute(text, (f"ws{k}", "responseFinished", f"sv{k}")).fetchall()
    advice = suggest(conn, options=Options(min_rows=100))
    st = next(s for s in advice.statements if '"triggers" @>' in s.query)
    params = {p.param: p for p in st.params}
    assert params["$2"].value in ("responseFinished", "responseCreated"), params["$2"]
    assert params["$3"].value is not None and params["$3"].value.startswith("sv"), params["$3"]
    assert not [i.name for i in advice.indexes if "triggers" in i.columns], [i.ddl for i in advice.indexes]
