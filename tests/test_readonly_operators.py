"""Which operators keep a statement from being measured: the ones it uses, not every one of the same symbol (u3's R1).

On rallly's database (citext installed for users.email) every statement with an ``=``
was "uses an operator backed by a user-defined function", so ``verify --measure``
measured nothing: citext's ``=`` matched by its symbol. An extension's operator that is
not VOLATILE is accepted; an operator the application's own code defines stays refused.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.readonly import measure, why_not_read_only

SETUP = """
CREATE EXTENSION citext;
CREATE TABLE users (id int PRIMARY KEY, email citext NOT NULL, name text NOT NULL);
INSERT INTO users SELECT g, 'U' || g || '@Example.com', 'n' || g FROM generate_series(1, 200) g;
CREATE TYPE pair AS (a int, b int);
CREATE TABLE pairs (id int PRIMARY KEY, p pair);
CREATE FUNCTION pair_same(pair, pair) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1.a = $2.a';
CREATE OPERATOR = (LEFTARG = pair, RIGHTARG = pair, FUNCTION = pair_same);
ANALYZE;
"""


def test_citexts_operators_and_the_plain_ones_beside_a_user_operator_are_measured(
        conn: psycopg.Connection[Any]) -> None:
    conn.execute(SETUP)
    for query in ["SELECT id FROM users WHERE id = $1", "SELECT id FROM users WHERE email = $1",
                  "SELECT id FROM users WHERE email = 'u7@example.com' ORDER BY email",
                  "SELECT name FROM users WHERE email LIKE 'u1%' AND name <> 'x'",
                  "SELECT p.id FROM pairs p JOIN users u ON u.id = p.id WHERE u.email = $1 LIMIT $2"]:
        assert why_not_read_only(conn, query) is None, (query, why_not_read_only(conn, query))
    timing, why = measure(conn, "SELECT id FROM users WHERE email = $1", values={"$1": "u7@example.com"})
    assert why is None and timing is not None, why


def test_an_operator_the_application_wrote_is_still_refused(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SETUP)
    for query in ["SELECT id FROM pairs WHERE p = ROW(1, 2)::pair", "SELECT id FROM pairs WHERE p = $1",
                  "SELECT 1 FROM pairs a JOIN pairs b ON a.p = b.p"]:
        why = why_not_read_only(conn, query) or ""
        assert "uses an operator backed by a user-defined or volatile function: = (public.pair_same)" in why, query
    assert why_not_read_only(conn, "SELECT id FROM pairs WHERE p = $1", trust_functions=True) is None
    # Where the server cannot say which operator it resolves (no temporary view in a READ ONLY session), every
    # operator of the symbol counts: the user's = on pair keeps even a plain = from running.
    conn.execute("SET default_transaction_read_only = on")
    why = why_not_read_only(conn, "SELECT id FROM users WHERE id = $1") or ""
    assert "= (public.pair_same)" in why and "citext" not in why, why
