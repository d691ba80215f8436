"""Health's guards and the HOT reading see names through the search_path the application's sessions SET.

u2's F8 taught suggest to resolve a role's statements through the ``SET search_path`` its sessions send
(Prisma's ?schema=, umami's rawQuery): roles.read_session_paths. health's guard (which statements' plans use an
index it would drop: health/workload_plans) and analyze.hot (which UPDATEs set which columns) read the roles
without it, so on such an application the guard found no plan using the index (the statements did not resolve:
"no workload plan uses it") and the HOT check saw no UPDATE. One builder of the roles' views now serves all three.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgtune.analyze import hot
from pgtune.capture import read_catalog
from pgtune.health.workload_plans import statements_using

SCHEMA = """
CREATE SCHEMA app;
CREATE TABLE app.account (id bigint PRIMARY KEY, email text NOT NULL, visits int NOT NULL DEFAULT 0);
INSERT INTO app.account SELECT g, 'a' || g || '@example.com', 0 FROM generate_series(1, 50000) g;
CREATE INDEX account_email_idx ON app.account (email);
ANALYZE app.account;
GRANT USAGE ON SCHEMA app TO {role};
GRANT SELECT, UPDATE ON app.account TO {role};
"""


PG18_SET = ("pg_stat_statements 18 records SET with its value as $1: a session's search_path cannot be read "
            "from it there")


def _app_workload(db: str, conn: psycopg.Connection[Any]) -> None:
    if conn.info.server_version >= 180000:
        pytest.skip(PG18_SET)
    role = f"app_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    conn.execute(sql.SQL(SCHEMA).format(role=sql.Identifier(role)))
    conn.execute("SELECT pg_stat_statements_reset()")
    with psycopg.connect(db, user=role, autocommit=True) as app:
        for i in range(1, 31):
            app.execute('SET search_path TO "app"')
            app.execute("SELECT id FROM account WHERE email = %s", (f"a{i}@example.com",))
            app.execute("UPDATE account SET visits = visits + 1 WHERE id = %s", (i,))


def test_the_drop_guard_plans_the_statements_in_their_sessions_search_path(db: str,
                                                                           conn: psycopg.Connection[Any]) -> None:
    _app_workload(db, conn)
    used = statements_using(conn, {("app", "account_email_idx")})
    assert [u.search_path for u in used] == [["app"]], [(u.statement.query, u.search_path) for u in used]
    assert "WHERE email = $1" in used[0].statement.query


def test_hot_reads_the_updates_in_their_sessions_search_path(db: str, conn: psycopg.Connection[Any]) -> None:
    _app_workload(db, conn)
    writes = hot.read(conn, read_catalog(conn))
    [update] = writes.updates[("app", "account")]
    assert update.columns == frozenset({"visits"}) and update.calls == 30
