"""Row security, found on a documenso-shaped production database (u5): two harms.

1. A CHECK is proven over the rows row security lets pgtune's role see: on a
   FORCE ROW LEVEL SECURITY table whose owner's policy hides soft-deleted rows,
   ``"pageCount" >= 0`` was proposed "high" although the hidden rows hold -1;
   its NOT VALID phase then refused updates of those rows and VALIDATE failed.
   The prover runs with row_security off, and asks row_security_active()
   first: the candidate is left unproven with the reason, no query sent.
2. bind.py prefixes a policy's column with the statement's alias on the tree
   ``sqltext.expression`` returns, which is a piece of parse()'s lru-cached tree:
   every later reader of the same policy text gets ``d."userId"`` (sample_cost's
   security_barrier view failed: "missing FROM-clause entry for table d").
   bind now qualifies a copy.
"""

from __future__ import annotations

from typing import Any

import psycopg
from pglast.stream import RawStream
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgtune import api
from pgtune.capture import Statement
from pgtune.constraints import ConstraintOptions, propose
from pgtune.roles import read_protected
from pgtune.sqltext import expression


def _as(db: str, role: str) -> str:
    params = conninfo_to_dict(db)
    params["user"] = role
    return make_conninfo("", **params)


def test_a_check_is_not_proven_over_rows_row_security_hides(db: str, conn: psycopg.Connection[Any]) -> None:
    owner = f"own_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(owner)))
    conn.execute(sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(sql.Identifier(owner)))
    with psycopg.connect(_as(db, owner), autocommit=True) as app:
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
        checks = [p for p in advice.constraints if p.table == "docs"]
    assert not [p for p in checks if "pageCount" in str(p)], checks
    assert any(s.table == "docs" and "not every row is visible" in s.reason for s in advice.unproven), advice.unproven
    # Asked first (row_security_active), not tried: a proof sent with row_security off would fail on the server, an
    # ERROR line in its log per suggest (u6, FORCE ROW LEVEL SECURITY on documenso's "Recipient").
    asked = conn.execute("SELECT count(*) FROM pg_stat_statements WHERE query LIKE %s",
                         ("%row_security = off%",)).fetchone()
    assert asked == (0,)


def test_binding_a_policy_leaves_the_cached_policy_text_unqualified(db: str, conn: psycopg.Connection[Any]) -> None:

    conn.execute(f"""
        CREATE TABLE docs (id int PRIMARY KEY, "userId" int NOT NULL, title text);
        INSERT INTO docs SELECT g, g % 300, 't' || g FROM generate_series(1, 5000) g;
        ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
        CREATE ROLE app_{conn.info.dbname};
        GRANT SELECT ON docs TO app_{conn.info.dbname};
        CREATE POLICY mine ON docs TO app_{conn.info.dbname} USING ("userId" = 7);
        ANALYZE docs;
    """)
    [table] = [t for k, t in read_protected(conn).items() if k == ("public", "docs")]
    using = table.policies[0].using            # the text bind() parses (pg_get_expr's)
    assert using is not None
    before = RawStream()(expression(using))
    row = conn.execute("SELECT oid FROM pg_roles WHERE rolname = %s", (f"app_{conn.info.dbname}",)).fetchone()
    assert row is not None
    api.suggest(conn, api.SuggestOptions(constraints=False), statements=[
        Statement("SELECT d.title FROM docs d WHERE d.id > $1", calls=100, userid=int(row[0]))])
    assert RawStream()(expression(using)) == before, (before, RawStream()(expression(using)))


def test_a_table_the_role_may_not_read_leaves_its_rules_unproven_and_the_advice_whole(
        db: str, conn: psycopg.Connection[Any]) -> None:
    """u5: without SELECT on one table, suggest with constraints ended in "permission denied" (exit 2) and
    every index advice was lost; now that table's rules are unproven with the server's reason."""
    role = f"app_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    conn.execute("""
        CREATE TABLE docs (id int PRIMARY KEY, "pageCount" int NOT NULL, owner int);
        INSERT INTO docs SELECT g, g % 30, g % 400 FROM generate_series(1, 5000) g;
        CREATE TABLE secret (id int PRIMARY KEY, amount int);
        INSERT INTO secret SELECT g, g FROM generate_series(1, 5000) g;
        ANALYZE;
    """)
    conn.execute(sql.SQL("GRANT SELECT ON docs TO {}").format(sql.Identifier(role)))
    with psycopg.connect(_as(db, role), autocommit=True) as app:
        result = api.suggest(app, api.SuggestOptions(), statements=[
            Statement("SELECT id FROM docs WHERE owner = $1", queryid=1, calls=500)])
    assert [ix.columns for ix in result.indexes.indexes] == [["owner"]]
    assert [s.table for s in result.constraints.unproven] == ["secret"]
    # 63bf5d9 (p14): a table the role may not SELECT is not read at all (Catalog.policed): no ERROR in the log
    assert "or it may not SELECT it" in result.constraints.unproven[0].reason
