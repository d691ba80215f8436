"""A foreign key whose column leads a btree_gist exclusion constraint is indexed (p20 on a Formbricks-shaped DB).

``EXCLUDE USING gist ("organizationId" WITH =, period WITH &&)`` keeps an
organization's billing periods apart, the usual way; its GiST index finds the
rows of one organization by equality, and the check a delete on the parent
runs plans a scan of it. health called the key unindexed (a warning, exit 1)
and its fix, like suggest's, built a b-tree beside it that only costs writes.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

SCHEMA = """
CREATE TABLE orgs (id text PRIMARY KEY, name text NOT NULL);
CREATE TABLE billing (id bigserial PRIMARY KEY, org_id text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
                      period tstzrange NOT NULL, plan text NOT NULL DEFAULT 'free',
                      EXCLUDE USING gist (org_id WITH =, period WITH &&));
INSERT INTO orgs SELECT 'o' || i, 'org ' || i FROM generate_series(1, 4000) i;
INSERT INTO billing (org_id, period)
SELECT 'o' || o, tstzrange(timestamptz '2026-01-01' + m * interval '30 days',
                           timestamptz '2026-01-31' + m * interval '30 days')
FROM generate_series(1, 4000) o, generate_series(0, 5) m;
ANALYZE;
"""


def _btree_gist(conn: psycopg.Connection[Any]) -> None:
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    except psycopg.Error:
        pytest.skip("btree_gist is not available on this server")


def test_exclusion_index_serves_the_foreign_key(conn: psycopg.Connection[Any]) -> None:
    from pgtune import api

    _btree_gist(conn)
    conn.execute(SCHEMA)
    conn.execute("DELETE FROM orgs WHERE id = 'o5'")        # the parent sees deletes
    conn.execute("SET enable_seqscan = off")
    plan = conn.execute("EXPLAIN SELECT 1 FROM ONLY billing x WHERE org_id = 'o7' FOR KEY SHARE OF x").fetchall()
    conn.execute("RESET enable_seqscan")
    assert any("billing_org_id_period_excl" in r[0] for r in plan), plan     # the server finds them through it
    report = api.health(conn, only=["foreign-key-without-index"])
    assert [f for f in report.findings if f.table == "billing"] == [], report.findings


def test_gist_on_a_column_without_equality_does_not_serve(conn: psycopg.Connection[Any]) -> None:
    """A GiST index whose opclass has no ``=`` (tsvector's: ``@@`` only) leading with the key serves no check."""
    from pgtune import api

    conn.execute("""
        CREATE TABLE words (v tsvector PRIMARY KEY);
        CREATE TABLE hits (id bigserial PRIMARY KEY, v tsvector NOT NULL REFERENCES words (v) ON DELETE CASCADE);
        INSERT INTO words SELECT ('w' || i)::tsvector FROM generate_series(1, 3000) i;
        INSERT INTO hits (v) SELECT ('w' || i)::tsvector FROM generate_series(1, 3000) i, generate_series(1, 3) k;
        CREATE INDEX hits_v_gist ON hits USING gist (v);
        ANALYZE;
    """)
    conn.execute("DELETE FROM words WHERE v = 'w5'::tsvector")
    report = api.health(conn, only=["foreign-key-without-index"])
    assert [f.table for f in report.findings if f.fix] == ["hits"], report.findings
