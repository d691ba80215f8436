"""pgtune's temporary probes on the user's server: made only where needed, never refused, never waiting long.

Two questions are answered with a temporary object in a transaction that is
rolled back: which operators a statement uses (readonly: a view over it) and
whether a CHECK someone added by hand is the planned rule (apply: a copy of
the table's columns). On a standby, in a READ ONLY session or for a role
without the TEMPORARY privilege the CREATE is refused, and every refusal is an
ERROR line in the server's log, where a production DBA's alerting looks (u5,
on a documenso-shaped database: 4-7 such lines per suggest). The libpq trace
of pgtune's own connection shows what the server answered, ErrorResponse
included.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgtune.analyze import sample_cost
from pgtune.analyze.extended_stats import Planned
from pgtune.analyze.trial import TrialFailed
from pgtune.apply.catalog import ObjectStates
from pgtune.capture import read_catalog
from pgtune.ddl import IndexKey, IndexMethod
from pgtune.errors import ApplyFailed
from pgtune.explain import Plan
from pgtune.readonly import why_not_read_only

from .helpers import exclusive_lock

CITEXT = """
CREATE EXTENSION citext;
CREATE TABLE users (id int PRIMARY KEY, email citext NOT NULL, name text NOT NULL);
INSERT INTO users SELECT g, 'U' || g || '@Example.com', 'n' || g FROM generate_series(1, 200) g;
"""
USER_OPERATOR = """
CREATE TYPE pair AS (a int, b int);
CREATE TABLE pairs (id int PRIMARY KEY, p pair);
CREATE FUNCTION pair_same(pair, pair) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1.a = $2.a';
CREATE OPERATOR = (LEFTARG = pair, RIGHTARG = pair, FUNCTION = pair_same);
"""


@contextmanager
def traced(conn: psycopg.Connection[Any]) -> Iterator[list[str]]:
    """The protocol messages of ``conn`` while the block runs (filled in at its end)."""
    lines: list[str] = []
    with tempfile.TemporaryFile() as f:
        conn.pgconn.trace(f.fileno())
        conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            yield lines
        finally:
            conn.pgconn.untrace()
            f.seek(0)
            lines.extend(f.read().decode(errors="replace").splitlines())


def errors(lines: list[str]) -> list[str]:
    return [line for line in lines if "ErrorResponse" in line]


def no_temp_role(conn: psycopg.Connection[Any], db: str) -> str:
    """The DSN of a new role that may not create temporary objects in this database (TEMPORARY revoked)."""
    role = f"notemp_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    conn.execute(sql.SQL("REVOKE TEMPORARY ON DATABASE {} FROM PUBLIC").format(sql.Identifier(conn.info.dbname)))
    conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(sql.Identifier(role)))
    params = conninfo_to_dict(db)
    params["user"] = role
    return make_conninfo("", **params)


def test_no_temporary_view_where_no_operator_would_be_refused(conn: psycopg.Connection[Any]) -> None:
    """citext's = passes either way: the statement's operators are not worth a catalog write on the user's server."""
    conn.execute(CITEXT)
    with traced(conn) as lines:
        for query in ["SELECT id FROM users WHERE email = $1", "SELECT name FROM users WHERE id > $1 ORDER BY email"]:
            assert why_not_read_only(conn, query) is None
    assert lines and not [line for line in lines if "TEMPORARY VIEW" in line], lines
    assert not errors(lines)


def test_a_read_only_session_tells_without_an_error_in_the_server_log(conn: psycopg.Connection[Any]) -> None:
    conn.execute(CITEXT + USER_OPERATOR)
    conn.execute("SET default_transaction_read_only = on")     # a reporting role's setting, or a standby's
    with traced(conn) as lines:
        why = why_not_read_only(conn, "SELECT id FROM users WHERE id = $1") or ""
    assert "= (public.pair_same)" in why, why       # cannot tell which = it uses: every = counts
    assert not errors(lines), errors(lines)


def test_a_role_without_temporary_tells_without_an_error_in_the_server_log(
        db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(CITEXT + USER_OPERATOR)
    with psycopg.connect(no_temp_role(conn, db), autocommit=True) as app:
        with traced(app) as lines:
            why = why_not_read_only(app, "SELECT id FROM users WHERE id = $1") or ""
        assert "= (public.pair_same)" in why, why
        assert not errors(lines), errors(lines)
    # where it may, the server still tells which = it uses: the plain one passes
    assert why_not_read_only(conn, "SELECT id FROM users WHERE id = $1") is None


HAND_CHECK = """
CREATE TABLE orders (id int PRIMARY KEY, qty int NOT NULL);
INSERT INTO orders SELECT g, g FROM generate_series(1, 100) g;
ALTER TABLE orders ADD CONSTRAINT orders_qty_pgtune_check CHECK (qty > 0) NOT VALID;
"""
ADD = "ALTER TABLE public.orders ADD CONSTRAINT orders_qty_pgtune_check CHECK (qty > 0) NOT VALID"


def test_a_hand_added_check_is_recognised_once_a_lock_on_its_table_is_released(
        db: str, conn: psycopg.Connection[Any]) -> None:
    """A lock on the table (a migration someone runs) is waited out and retried, not taken for another rule."""
    conn.execute(HAND_CHECK)
    # Held longer than one try's lock_timeout (2 s), shorter than the retries.
    with exclusive_lock(db, "orders", hold_s=2.5):
        said: list[str] = []
        assert ObjectStates(conn, say=said.append).same_check("public", "orders", "orders_qty_pgtune_check", ADD)
        assert any("waited" in s for s in said), said
    assert not ObjectStates(conn).same_check(
        "public", "orders", "orders_qty_pgtune_check", ADD.replace("qty > 0", "qty >= 0"))


def test_a_role_without_temporary_is_told_why_it_cannot_compare_a_check(
        db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(HAND_CHECK)
    with psycopg.connect(no_temp_role(conn, db), autocommit=True) as app:
        with traced(app) as lines, pytest.raises(ApplyFailed, match="may not create temporary tables"):
            ObjectStates(app).same_check("public", "orders", "orders_qty_pgtune_check", ADD)
        assert not errors(lines), errors(lines)


def test_a_read_only_session_makes_no_gin_sample_and_the_server_refuses_nothing(conn: psycopg.Connection[Any]) -> None:
    """The GIN sample (a temporary copy of the table) is not tried where it would be refused (u5: 2 refused
    CREATE TABLE AS and 4 refused DROP TABLE per suggest on a read-only session or a standby)."""

    conn.execute("CREATE TABLE posts (id int PRIMARY KEY, tags text[])")
    conn.execute("INSERT INTO posts SELECT g, ARRAY['t' || g % 50] FROM generate_series(1, 5000) g")
    conn.execute("ANALYZE posts")
    catalog = read_catalog(conn)
    conn.execute("SET default_transaction_read_only = on")
    statement = Planned("SELECT id FROM posts WHERE tags && $1", 1, 1, {"$1": "{t7}"})
    refused = pytest.raises(TrialFailed, match="no sample can be made: the transaction is READ ONLY")
    with traced(conn) as lines, refused:
        sample_cost.on_sample(conn, catalog, ("public", "posts"), IndexKey("tags"), IndexMethod.GIN, None,
                              [statement], [Plan(1000.0, frozenset())])
    assert errors(lines) == [], errors(lines)
