"""A session's SET search_path whose value pg_stat_statements did not keep is said, not passed over in silence.

PostgreSQL 18's pg_stat_statements records ``SET search_path TO $1``: the
schema the application's sessions chose cannot be read from it. Where the
statements' names also resolve through the role's configured path (a
``public.account`` beside ``app.account``), they are bound there, maybe to
the wrong table; the hints must say that the configured path alone was used.
On 15 the value is kept, and the hint names the path the sessions set.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from pgtune.snapshot import snapshot

SCHEMA = """
CREATE SCHEMA app;
CREATE TABLE app.account (id int PRIMARY KEY, email text NOT NULL);
CREATE TABLE public.account (id int PRIMARY KEY, email text NOT NULL);
GRANT USAGE ON SCHEMA app TO {role};
GRANT SELECT ON app.account, public.account TO {role};
"""


def test_a_session_path_without_its_value_is_said(db: str, conn: psycopg.Connection[Any]) -> None:
    role = f"app_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    conn.execute(sql.SQL(SCHEMA).format(role=sql.Identifier(role)))
    conn.execute("SELECT pg_stat_statements_reset()")
    with psycopg.connect(db, user=role, autocommit=True) as app:
        for i in range(20):
            app.execute('SET search_path TO "app"')
            app.execute("SELECT id FROM account WHERE email = %s", (f"a{i}",))
    hints = [h for h in snapshot(conn).hints() if f"role {role}:" in h]
    if conn.info.server_version >= 180000:
        assert any("kept no value" in h and "configured search_path (public) only" in h for h in hints), hints
    else:
        assert any('its sessions set (SET search_path TO "app"' in h for h in hints), hints
