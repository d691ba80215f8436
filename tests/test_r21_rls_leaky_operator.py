"""Heuristic mode keeps no key over a non-LEAKPROOF operator where row security filters the statement (r21).

p21 (a957620) cut a key over a function that is not LEAKPROOF (lower(email)) under a tenant policy, as the
planner applies such a filter after the policy, never through an index. An operator's function is judged the
same way: ``data ->> 'kind'`` (jsonb_object_field_text, not LEAKPROOF) was kept, and (account_id, (data ->>
'kind')) proposed for the application's role, whose plans filter ->> on the heap (shown below with the index
built) and would use the index for its account_id alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner
from psycopg import sql
from psycopg.conninfo import make_conninfo

from pgtune.cli import cli

QUERIES = "".join(f"SELECT id, name FROM contacts WHERE account_id = {7 + 2 * i} AND data ->> 'kind' = 'k{i}' "
                  "LIMIT 1;\n" for i in range(6))


def test_no_leaky_operator_key_under_row_security(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute("CREATE TABLE contacts (id int PRIMARY KEY, account_id int NOT NULL, data jsonb, name text)")
    conn.execute("INSERT INTO contacts SELECT g, CASE WHEN g % 2 = 0 THEN 1 ELSE g % 300 END, "
                 "jsonb_build_object('kind', 'k' || g % 5000), md5(g::text) FROM generate_series(1, 60000) g")
    conn.execute("ALTER TABLE contacts ENABLE ROW LEVEL SECURITY")
    conn.execute("CREATE POLICY tenant ON contacts USING (account_id = current_setting('app.tenant')::int)")
    conn.execute("ANALYZE contacts")
    app = f"r21leak_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {0} LOGIN PASSWORD 'r21'; GRANT SELECT ON contacts TO {0}")
                 .format(sql.Identifier(app)))
    queries = tmp_path / "q.sql"
    queries.write_text(QUERIES)
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(queries), "--role", app, "--no-hypopg",
                                   "--no-constraints", "--format", "json"])
    assert out.exit_code == 0, out.output
    advice = json.loads(out.stdout)
    keys = [ix["ddl"] for ix in advice["indexes"] if ix["table"] == "contacts"]
    # Without the fix: contacts (account_id, (data ->> 'kind')) was proposed.
    assert not [k for k in keys if "->>" in k], keys
    assert any("not LEAKPROOF (->>)" in h for h in advice["hints"]), advice["hints"]
    # What the cut rests on: with that index built, the role's plan filters ->> on the heap.
    conn.execute("CREATE INDEX contacts_kind_idx ON contacts (account_id, (data ->> 'kind'))")
    with psycopg.connect(make_conninfo(db, user=app, password="r21"), autocommit=True) as c:
        c.execute("SET app.tenant = '7'")
        plan = c.execute("EXPLAIN (FORMAT JSON) SELECT id FROM contacts WHERE account_id = 7 "
                         "AND data ->> 'kind' = 'k0'").fetchone()[0][0]["Plan"]
    nodes, stack = [], [plan]
    while stack:
        nodes.append(stack.pop())
        stack.extend(nodes[-1].get("Plans", ()))
    [scan] = [n for n in nodes if n.get("Index Name") == "contacts_kind_idx"]
    assert "->>" not in scan["Index Cond"], scan
    assert any("->>" in n.get("Filter", "") for n in nodes), nodes
