"""The CHECK prover gives up on a table whose policies filter its role before it asks, not by an ERROR.

u6 (documenso-shaped, FORCE ROW LEVEL SECURITY on "Recipient"): each suggest
left 'ERROR: query would be affected by row-level security policy for table
"Recipient"' in the server's log, the prover's query with row_security off
failing as designed. row_security_active() says so first: same reason, nothing
sent (pg_stat_statements keeps the SET of a transaction that asked).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgtune.constraints import ConstraintOptions, propose


def test_a_table_row_security_filters_is_left_unproven_without_asking(db: str, conn: psycopg.Connection[Any]) -> None:
    owner = f"own_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(owner)))
    conn.execute(sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(sql.Identifier(owner)))
    params = conninfo_to_dict(db)
    params["user"] = owner
    try:
        with psycopg.connect(make_conninfo("", **params), autocommit=True) as app:
            app.execute("""
                CREATE TABLE docs (id int PRIMARY KEY, "pageCount" int, "deletedAt" timestamptz);
                INSERT INTO docs SELECT g, CASE WHEN g % 20 = 0 THEN -1 ELSE g % 30 END,
                                        CASE WHEN g % 20 = 0 THEN now() END FROM generate_series(1, 5000) g;
                ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
                ALTER TABLE docs FORCE ROW LEVEL SECURITY;
                CREATE POLICY live ON docs USING ("deletedAt" IS NULL);
                ANALYZE docs;
            """)
            conn.execute("SELECT pg_stat_statements_reset()")
            advice = propose(app, ConstraintOptions())
        assert not [p for p in advice.constraints if p.table == "docs"]
        assert any(s.table == "docs" and "not every row is visible" in s.reason for s in advice.unproven)
        asked = conn.execute("SELECT count(*) FROM pg_stat_statements WHERE query LIKE %s",
                             ("%row_security = off%",)).fetchone()
        assert asked == (0,)       # no proof query sent to fail on the server
    finally:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(owner)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(owner)))
