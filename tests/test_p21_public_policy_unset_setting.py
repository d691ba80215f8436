"""A tenant policy for PUBLIC binds pgtune's own session too: its setting is set when pgtune plans (p21).

Where pgtune may not SET ROLE to the application's role it plans a statement as itself. A policy written
for PUBLIC (``USING (account_id = current_setting('app.tenant')::int)``, the common form) applies to pgtune's
role as well, and pgtune planned without the setting: the planner's estimate of current_setting failed the
EXPLAIN, an ERROR ``unrecognized configuration parameter "app.tenant"`` in the server's log per statement,
and the statement went unplanned. Now the policy's setting gets the same value it would under SET ROLE.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
from click.testing import CliRunner
from psycopg import sql
from psycopg.conninfo import make_conninfo

from pgtune.cli import cli

from .helpers import steady_state

PAGE = ("SELECT m.id, m.body FROM messages AS m WHERE m.conversation_id = %s AND m.created_at < %s "
        "ORDER BY m.created_at DESC LIMIT 20")


def test_a_public_policy_is_planned_with_its_setting(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE messages (id bigint PRIMARY KEY, account_id int NOT NULL, conversation_id int NOT NULL, "
                 "created_at timestamptz NOT NULL, body text)")
    conn.execute("INSERT INTO messages SELECT g, CASE WHEN g % 2 = 0 THEN 1 ELSE g % 200 END, g % 20000, "
                 "now() - g * interval '1 minute', 'm' || g FROM generate_series(1, 60000) g")
    conn.execute("CREATE INDEX messages_account_id_idx ON messages (account_id)")
    conn.execute("CREATE INDEX messages_conversation_id_idx ON messages (conversation_id)")
    conn.execute("ALTER TABLE messages ENABLE ROW LEVEL SECURITY")
    conn.execute("CREATE POLICY tenant_isolation ON messages USING (account_id = current_setting('app.tenant')::int)")
    conn.execute("ANALYZE messages")
    app, me = f"p21app_{conn.info.dbname}", f"p21tune_{conn.info.dbname}"
    for role in (app, me):
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'p21'").format(sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT SELECT ON messages TO {}").format(sql.Identifier(role)))
    conn.execute(sql.SQL("GRANT pg_read_all_stats TO {}").format(sql.Identifier(me)))
    steady_state(conn)
    with psycopg.connect(make_conninfo(db, user=app, password="p21"), autocommit=True) as c:
        for i in range(12):
            with c.transaction():
                c.execute("SELECT set_config('app.tenant', %s, true)", (str(1 + i % 3),))
                c.execute(PAGE, (i * 7, "2030-01-01")).fetchall()
    out = CliRunner().invoke(cli, ["suggest", "--dsn", make_conninfo(db, user=me, password="p21"),
                                   "--no-constraints", "--format", "json"])
    assert out.exit_code == 0, out.output
    advice = json.loads(out.stdout)
    rows = [s for s in advice["statements"] if "conversation_id = $1" in s["query"]]
    assert len(rows) == 1, rows
    row = rows[0]
    assert row["planned_as"] is None and "may not SET ROLE" in " ".join(row["notes"]), row
    # Without the fix: settings {} and, the EXPLAIN having failed on current_setting('app.tenant') (an ERROR in
    # the server's log), cost_before null: the statement went unplanned.
    assert set(row["settings"]) == {"app.tenant"}, row
    if advice["method"] == "hypopg":
        assert row["cost_before"] is not None, row
