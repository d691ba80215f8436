"""p14: a --queries file's unqualified names that the application's role resolves elsewhere are told.

On a Langfuse-shaped database the application's role has ``search_path = lf, public`` and a legacy
``public.traces`` it never reads sits beside ``lf.traces``. A new user's file of the application's statements
(unqualified, as Kysely writes them) run without --role was bound with pgtune's own ``"$user", public``: both
proposals went to public.traces, silently. The advice now names the role whose search_path reads another table,
and --role.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgtune.capture import read_queries_file

from .helpers import login_roles, suggest

BY_USER = ("select t.id, t.\"timestamp\" from traces t where t.project_id = 'p9' and t.user_id = 'user42' "
           "order by t.\"timestamp\" desc limit 50;")


@pytest.mark.needs_hypopg
def test_a_name_the_application_s_role_reads_in_another_schema_is_told(conn: psycopg.Connection[Any]) -> None:
    with login_roles(conn, "app") as (app,):
        conn.execute("CREATE SCHEMA lf")
        for schema, rows in (("lf", 200_000), ("public", 20_000)):
            conn.execute(sql.SQL("CREATE TABLE {}.traces (id text PRIMARY KEY, project_id text NOT NULL, "
                                 "user_id text, \"timestamp\" timestamp NOT NULL)").format(sql.Identifier(schema)))
            conn.execute(sql.SQL("INSERT INTO {}.traces SELECT 'tr' || g, 'p' || g % 100, 'user' || g % 5000, "
                                 "timestamp '2026-01-01' + g * interval '1 minute' FROM generate_series(1, {}) g")
                         .format(sql.Identifier(schema), sql.Literal(rows)))
        conn.execute("ANALYZE")
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA lf TO {0}; ALTER ROLE {0} SET search_path = lf, public")
                     .format(sql.Identifier(app)))
        advice = suggest(conn, read_queries_file(BY_USER))
        told = [h for h in advice.hints if h.startswith(f"role {app}'s search_path")]
        assert told == [f"role {app}'s search_path (lf, public) reads traces: lf.traces, not public.traces, where "
                        "the statements given were bound with pgtune's own: if the application runs them as "
                        f"{app}, give --role {app} (docs/roles.md)"], advice.hints
        assert {ix.schema for ix in advice.indexes} == {"public"}     # bound as told: pgtune's own search_path
