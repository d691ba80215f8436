"""A suggest hint named a statement by its queryid alone ("queryid 4127…: meta ->> $2: …"), which sends the reader
to pg_stat_statements to learn which statement it is (c26, LOW): it names the text's start, then the queryid."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.helpers import run, steady_state, suggest


def test_a_normalized_key_expression_hint_names_the_statement_by_its_text(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SET pg_qualstats.enabled = off")      # no example of the text as sent: the hint's case
    conn.execute("CREATE TABLE doc (id int PRIMARY KEY, meta jsonb NOT NULL)")
    conn.execute("INSERT INTO doc SELECT g, jsonb_build_object('ref', 'r' || g) FROM generate_series(1, 20000) g")
    conn.execute("ANALYZE doc")
    steady_state(conn)
    run(conn, "SELECT id FROM doc WHERE meta->>'ref' = %s", [(f"r{i}",) for i in range(5)], times=10)
    advice = suggest(conn)
    [hint] = [h for h in advice.hints if "an expression index serves a query only when" in h]
    [queryid] = [s.queryid for s in advice.statements if "doc" in s.query]
    assert hint.startswith("SELECT id FROM doc WHERE meta->>$"), hint
    assert f"(queryid {queryid}): " in hint, hint
