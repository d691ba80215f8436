"""Two roles run the same text on the same table (one queryid, two pg_stat_statements rows): one role's is
costed, the other's is skipped (its role-level search_path finds a foreign table of that name first: it ran
from its connection's options). The
workload's uncosted time is the skipped role's alone, and the skipped row carries its own time and role.

_count_uncosted matched by (queryid, text): the costed role's time was counted as uncosted too, and the skipped
row took whichever role's total came last."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from pgtune import api
from pgtune.analyze.model import SkipKind

from .helpers import steady_state

TEXT = "SELECT id FROM orders WHERE owner = $1"


def test_one_roles_skip_does_not_make_the_others_same_statement_uncosted(
        db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE orders (id int PRIMARY KEY, owner int NOT NULL, note text)")
    conn.execute("INSERT INTO orders SELECT g, g % 500, repeat('x', 40) FROM generate_series(1, 20000) g")
    conn.execute("CREATE SCHEMA elsewhere; CREATE FOREIGN DATA WRAPPER nowhere; "
                 "CREATE SERVER far FOREIGN DATA WRAPPER nowhere; "
                 "CREATE FOREIGN TABLE elsewhere.orders (id int, owner int) SERVER far")
    roles = {}
    for name, path in (("busy", "public"), ("rare", "elsewhere")):
        role = roles[name] = f"{name}_{conn.info.dbname}"
        conn.execute(sql.SQL("CREATE ROLE {0} LOGIN; ALTER ROLE {0} SET search_path = {1}; "
                             "GRANT USAGE ON SCHEMA public, elsewhere TO {0}; GRANT SELECT ON orders TO {0}")
                     .format(sql.Identifier(role), sql.Identifier(path)))
    conn.execute("ANALYZE orders")
    steady_state(conn)
    for name, runs in (("busy", 60), ("rare", 2)):
        # The path from the connection's options (no SET search_path that pg_stat_statements would show):
        # the rare role's own path finds the foreign table.
        with psycopg.connect(db, user=roles[name], autocommit=True, options="-c search_path=public") as app:
            for i in range(runs):
                app.execute(TEXT.replace("$1", "%s"), (i % 500,), prepare=True)
    advice = api.suggest(conn, api.SuggestOptions(constraints=False)).indexes
    oids = {r[0]: int(r[1]) for r in conn.execute("SELECT rolname, oid FROM pg_roles")}
    spent = {int(r[0]): float(r[1]) for r in conn.execute(
        "SELECT userid, total_exec_time FROM pg_stat_statements WHERE query = %s", (TEXT,))}
    busy, rare = oids[roles["busy"]], oids[roles["rare"]]
    assert set(spent) == {busy, rare}, spent
    assert advice.uncosted_statements == 1
    assert abs(advice.uncosted_ms - spent[rare]) < 1e-6, (advice.uncosted_ms, spent)
    [skip] = [s for s in advice.skipped if s.query == TEXT]
    assert skip.kind == SkipKind.FOREIGN_TABLE and abs(skip.total_ms - spent[rare]) < 1e-6, (skip, spent)
    assert skip.userid == rare
    assert [s.userid for s in advice.statements if s.query == TEXT] == [busy]
