"""p14: a --queries file's unqualified names that the application's role resolves elsewhere are told.

On a Langfuse-shaped database the application's role has ``search_path = lf, public`` and a legacy
``public.traces`` it never reads sits beside ``lf.traces``. A new user's file of the application's statements
(unqualified, as Kysely writes them) run without --role was bound with pgtune's own ``"$user", public``: both
proposals went to public.traces, silently. Such a statement is now left out unless --role says whose it is, and the
advice names the role whose search_path reads another table, and --role.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgtune import api
from pgtune.analyze import Options
from pgtune.capture import read_queries_file
from pgtune.errors import InputError

from .helpers import login_roles, suggest

BY_NAME = "select s.id from lf.sessions s where s.name = 'n42';"
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
        conn.execute("CREATE TABLE lf.sessions (id int PRIMARY KEY, name text NOT NULL)")
        conn.execute("INSERT INTO lf.sessions SELECT g, 'n' || g FROM generate_series(1, 100000) g")
        conn.execute("ANALYZE")
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA lf TO {0}; ALTER ROLE {0} SET search_path = lf, public")
                     .format(sql.Identifier(app)))
        advice = suggest(conn, read_queries_file(BY_USER + "\n" + BY_NAME))
        me = conn.execute("SELECT current_user").fetchone()[0]
        told = [h for h in advice.hints if h.startswith(f"role {app}'s search_path")]
        assert told == [f"role {app}'s search_path (lf, public) reads traces: lf.traces, not public.traces "
                        "(pgtune's session's): the statements given that name it are not advised without --role; "
                        f"if the application runs them as {app}, give --role {app}; as {me}, give --role {me} "
                        "(docs/roles.md)"], advice.hints
        assert "1 of 2 statements given were left out: the table they read depends on the role that runs them" \
            in advice.hints
        # Neither traces is indexed: which one the statement reads depends on a role the file does not name.
        assert {ix.table for ix in advice.indexes} == {"sessions"}, advice.indexes
        chosen = api.suggest(conn, api.SuggestOptions(Options(), constraints=False),
                             statements=read_queries_file(BY_USER), role=app).indexes
        assert {(ix.schema, ix.table) for ix in chosen.indexes} == {("lf", "traces")}, chosen.indexes
        with pytest.raises(InputError, match=rf"^none of the 1 statements given is advised: role {app}'s search_path "
                           rf"\(lf, public\) reads traces: lf.traces, not public.traces \(pgtune's session's\): "
                           rf"give --role {app} \(or --role {me} for pgtune's own search_path\)$"):
            suggest(conn, read_queries_file(BY_USER))
