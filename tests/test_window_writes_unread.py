"""When the workload's writes cannot be read, suggest says so in one hint (the tryouts' F2).

Index upkeep is charged from the writes the workload's own statements made in
pg_stat_statements' window (sql/write_statements.sql, through the extension's
schema); where that query fails, the tables' cumulative counters are used,
which may hold a load from before the window. That fallback was silent. Here
the extension lives in a schema the application's role may not use, behind a
view in public (the workload query reads the view, the writes query the
extension's own schema): the hint names the query and the server's reason,
never the password.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
from click.testing import CliRunner
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgtune.cli import cli

PASSWORD = "h5-Secret-pw"


def test_a_writes_query_that_fails_is_told_in_one_hint(db: str, conn: psycopg.Connection[Any]) -> None:
    role = f"app_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(PASSWORD)))
    conn.execute("DROP EXTENSION pg_stat_statements")
    conn.execute("CREATE SCHEMA monitoring; CREATE EXTENSION pg_stat_statements SCHEMA monitoring")
    conn.execute("CREATE VIEW public.pg_stat_statements AS SELECT * FROM monitoring.pg_stat_statements")
    conn.execute(sql.SQL("GRANT SELECT ON public.pg_stat_statements TO {}").format(sql.Identifier(role)))
    conn.execute("CREATE TABLE events (id bigint PRIMARY KEY, kind text NOT NULL, at timestamptz NOT NULL)")
    conn.execute("INSERT INTO events SELECT g, 'k' || g % 50, now() FROM generate_series(1, 20000) g; ANALYZE")
    conn.execute(sql.SQL("GRANT SELECT, INSERT ON events TO {}").format(sql.Identifier(role)))
    params = conninfo_to_dict(db)
    params.update(user=role, password=PASSWORD)
    app_dsn = make_conninfo("", **params)
    with psycopg.connect(app_dsn, autocommit=True) as app:
        for i in range(20):
            app.execute("SELECT id FROM events WHERE kind = %s", (f"k{i}",)).fetchall()
        app.execute("INSERT INTO events VALUES (900001, 'new', now())")
    out = CliRunner().invoke(cli, ["suggest", "--dsn", app_dsn, "--format", "json", "--no-constraints"])
    assert out.exit_code == 0, out.output
    hints = json.loads(out.stdout)["hints"]
    told = [h for h in hints if h.startswith("index upkeep is estimated from the tables' counters")]
    assert len(told) == 1, hints
    assert "write_statements.sql failed: permission denied for schema monitoring" in told[0], told
    assert PASSWORD not in out.output
    # The UPDATE statements are read through the extension's schema too: their HOT charge is left out, and said.
    assert any("HOT updates it would stop" in h and "update_statements.sql failed: permission denied" in h
               for h in hints), hints
