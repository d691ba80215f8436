"""An expression over an SQL function not marked IMMUTABLE that the server inlines is indexable (r23).

``CREATE FUNCTION normalize_email(text) RETURNS text LANGUAGE sql AS 'SELECT lower(trim($1))'`` is VOLATILE by
default (its author forgot IMMUTABLE, as often). CREATE INDEX plans an index expression before its mutability
check, and the planner inlines such a function: ``((normalize_email(email)))`` builds, and HypoPG takes it too.
c25's pre-check (analyze.immutable) read the function's own provolatile from the view's tree and rejected the
candidate ("functions in index expression must be marked IMMUTABLE"): the index that serves
``WHERE normalize_email(email) = $1`` was no longer proposed (it was before c25), and heuristic mode cut it.
An SQL function's mutability is not told there: HypoPG (and CREATE INDEX) decide, as before c25.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import Options, immutable
from pgtune.analyze.candidates import Candidate
from pgtune.capture import Statement
from pgtune.ddl import IndexKey

from .helpers import suggest

SETUP = """
CREATE FUNCTION normalize_email(text) RETURNS text LANGUAGE sql AS 'SELECT lower(trim($1))';
CREATE FUNCTION stable_lower(text) RETURNS text LANGUAGE plpgsql STABLE AS 'BEGIN RETURN lower($1); END';
CREATE TABLE account (id int PRIMARY KEY, email text NOT NULL);
INSERT INTO account SELECT g, 'User' || g || '@Example.com ' FROM generate_series(1, 50000) g;
ANALYZE account;
"""
QUERY = "SELECT id FROM account WHERE normalize_email(email) = $1"


def test_an_inlined_sql_function_is_not_told_refused(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SETUP)
    table = ("public", "account")
    cands = [Candidate(table, (IndexKey("email", expression="normalize_email(email)"),), 1),
             Candidate(table, (IndexKey("email", expression="stable_lower(email)"),), 1),
             Candidate(table, (IndexKey("id"),), 1, where="normalize_email(email) = 'a'")]
    assert immutable.refusals(conn, cands) == {1: immutable.EXPRESSION}
    with conn.transaction(force_rollback=True):       # what the server does with each: builds the first
        conn.execute("CREATE INDEX ON account ((normalize_email(email)))")
        conn.execute("CREATE INDEX ON account (id) WHERE normalize_email(email) = 'a'")


def test_heuristic_mode_proposes_the_index_over_an_inlined_sql_function(conn: psycopg.Connection[Any]) -> None:
    """Before c25 heuristic mode proposed it; c25 cut it, saying the server refuses it. It builds, and serves."""
    conn.execute(SETUP)
    advice = suggest(conn, [Statement(query=QUERY, queryid=1, calls=1000, total_ms=50_000.0, mean_ms=50.0)],
                     Options(min_rows=100, use_hypopg=False))
    assert not [h for h in advice.hints if "refuses" in h], advice.hints
    [index] = [i for i in advice.indexes if i.expressions == ["normalize_email(email)"]]
    conn.execute(index.ddl)
    conn.execute("ANALYZE account")
    plan = conn.execute("EXPLAIN " + QUERY.replace("$1", "'user5@example.com'")).fetchall()
    assert index.name in str(plan), plan


@pytest.mark.needs_hypopg
def test_hypopg_mode_does_not_say_the_server_refuses_it(conn: psycopg.Connection[Any]) -> None:
    """HypoPG takes the index (its planner then does not match it to the inlined filter: no index is proposed,
    as before c25), but no candidate is listed as refused by the server."""
    conn.execute(SETUP)
    advice = suggest(conn, [Statement(query=QUERY, queryid=1, calls=1000, total_ms=50_000.0, mean_ms=50.0)],
                     Options(min_rows=100))
    assert not advice.rejected, advice.rejected
