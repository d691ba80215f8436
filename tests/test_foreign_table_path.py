"""A foreign table and a plain table of the same name in two schemas: which one a statement reads is the one its
role's search_path finds first, as the server resolves it (c19).

The binder looked the name up among the plain tables only, so a foreign a.ft first on the path was passed over for
b.ft; and reasons.shape_skip matched foreign tables by bare name, in any schema, on the path or not.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgtune.capture import read_queries_file

from .helpers import steady_state, suggest

BY_OWNER = "SELECT id, body FROM ft WHERE owner = $1"


@pytest.mark.needs_hypopg
def test_the_table_a_role_reads_is_the_first_on_its_path(db: str, conn: psycopg.Connection[Any]) -> None:
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgres_fdw")
    except psycopg.errors.FeatureNotSupported:
        pytest.skip("postgres_fdw is not installed")
    conn.execute("CREATE SCHEMA a; CREATE SCHEMA b")
    conn.execute("CREATE TABLE b.ft (id bigint PRIMARY KEY, owner int NOT NULL, body text)")
    conn.execute("INSERT INTO b.ft SELECT g, g % 1000, 'b' || g FROM generate_series(1, 50000) g")
    conn.execute("CREATE TABLE public.remote_rows (id bigint PRIMARY KEY, owner int NOT NULL, body text)")
    conn.execute("INSERT INTO public.remote_rows SELECT g, g % 1000, 'r' || g FROM generate_series(1, 50000) g")
    info = conn.info
    conn.execute(sql.SQL("CREATE SERVER archive FOREIGN DATA WRAPPER postgres_fdw "
                         "OPTIONS (host {}, port {}, dbname {})").format(
        sql.Literal(info.host), sql.Literal(str(info.port)), sql.Literal(info.dbname)))
    conn.execute("CREATE FOREIGN TABLE a.ft (id bigint, owner int, body text) SERVER archive "
                 "OPTIONS (schema_name 'public', table_name 'remote_rows')")
    conn.execute("ANALYZE b.ft; ANALYZE public.remote_rows")
    roles = {}
    for path in ("a, b", "b, a"):
        role = roles[path] = f"r_{path[0]}_{conn.info.dbname}"
        conn.execute(sql.SQL("CREATE ROLE {0} LOGIN; ALTER ROLE {0} SET search_path = {1}; "
                             "GRANT USAGE ON SCHEMA a, b TO {0}; GRANT SELECT ON a.ft, b.ft TO {0}; "
                             "GRANT USAGE ON FOREIGN SERVER archive TO {0}")
                     .format(sql.Identifier(role), sql.SQL(path)))
        conn.execute(sql.SQL("CREATE USER MAPPING FOR {} SERVER archive OPTIONS (user {}, password_required 'false')")
                     .format(sql.Identifier(role), sql.Literal(info.user)))
    steady_state(conn)
    for role in roles.values():
        with psycopg.connect(db, user=role, autocommit=True) as app:
            for i in range(20):
                app.execute(BY_OWNER.replace("$1", "%s"), (i,), prepare=True).fetchall()
    advice = suggest(conn)
    users = {str(r[0]): str(r[1]) for r in conn.execute("SELECT rolname, oid FROM pg_roles")}
    by_role = {st.role: st for st in advice.statements}
    skipped = {s.queryid: s for s in advice.skipped}
    # Foreign first on the path: the server reads a.ft, which no index serves; it was bound to b.ft and analyzed.
    ids = {str(r[1]): int(r[0]) for r in conn.execute(
        "SELECT queryid, userid FROM pg_stat_statements WHERE query = %s", (BY_OWNER,))}
    first = skipped.get(ids[users[roles["a, b"]]])
    assert first is not None and roles["a, b"] not in by_role, [(st.role, st.indexes) for st in advice.statements]
    assert first.kind == "foreign-table" and "foreign table a.ft (server archive)" in first.reason, first.reason
    # The plain table first on the path: analyzed on it and served, not skipped as the foreign table of its name.
    plain = by_role.get(roles["b, a"])
    assert plain is not None and ids[users[roles["b, a"]]] not in skipped, advice.skipped
    assert [(ix.schema, ix.table, ix.columns) for ix in advice.indexes] == [("b", "ft", ["owner"])]
    assert plain.indexes == [advice.indexes[0].name]
    # A name that resolves to no table is unknown, not the foreign table of that name in another schema.
    gone = suggest(conn, read_queries_file("SELECT id FROM nowhere.ft WHERE owner = 1;"))
    assert [s.kind for s in gone.skipped] == ["unknown-table"], [(s.kind, s.reason) for s in gone.skipped]
