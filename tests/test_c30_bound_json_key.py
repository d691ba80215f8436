"""A JSON key the application sends as a bind parameter is not called "a constant the application wrote" (p28).

Typebot's ChatSession lookup ``state->>$2 = $1`` sends the key as a parameter.
suggest's hint said pg_stat_statements "keeps a constant the application wrote
there as a $n": wrong, nothing was written there. pg_qualstats' example of the
statement as sent holds the same $n, which tells a bound key apart: the hint now
says the key is sent as a parameter, and what pgtune does then (no expression
index: each call may read another key). Without an example the text cannot tell
the two apart, and the hint says so.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune import api
from pgtune.analyze import written

from .helpers import steady_state

DOCS = """
CREATE TABLE "Session" (id int PRIMARY KEY, state jsonb NOT NULL);
INSERT INTO "Session" SELECT g, jsonb_build_object('typebotId', 't' || g % 500, 'ref', 'r' || g)
FROM generate_series(1, 20000) AS g;
ANALYZE "Session";
"""
BOUND = 'SELECT id FROM "Session" WHERE state->>%s = %s'     # psycopg binds both: state->>$1 = $2


def _hint(result: api.Suggestion) -> str:
    hints = [h for h in result.indexes.hints if ": state ->> $1:" in h]
    assert len(hints) == 1, result.indexes.hints
    (hint,) = hints
    return hint


@pytest.mark.needs_qualstats
def test_a_json_key_bound_as_a_parameter_is_said_to_be_one(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(DOCS)
    conn.execute("SET pg_qualstats.enabled = off")
    conn.execute("SET pg_qualstats.sample_rate = 1")
    steady_state(conn)
    conn.execute("SELECT pg_qualstats_reset()")     # room for the example: the suite fills pg_qualstats.max
    with psycopg.connect(db, autocommit=True) as app:
        app.execute("SET pg_qualstats.sample_rate = 1")
        for n in (7, 977, 4242, 15000):
            app.execute(BOUND, ("ref", f"r{n}")).fetchall()
    held = conn.execute("SELECT query FROM pg_stat_statements WHERE query LIKE '%state%' "
                        "AND query NOT LIKE '%pg_stat_statements%'").fetchall()
    assert held == [('SELECT id FROM "Session" WHERE state->>$1 = $2',)]
    examples = conn.execute("SELECT query FROM pg_qualstats_example_queries() "
                            "WHERE query LIKE 'SELECT id FROM%Session%'").fetchall()
    assert examples == [('SELECT id FROM "Session" WHERE state->>$1 = $2',)], examples
    result = api.suggest(conn, api.SuggestOptions(constraints=False))
    hint = _hint(result)
    assert "constant the application wrote" not in hint, hint            # main: "keeps a constant ... wrote"
    assert "sends the key as a bind parameter" in hint and "none is proposed" in hint, hint
    assert not [ix for ix in result.indexes.indexes if ix.table == "Session" and ix.expressions], result.indexes


def test_without_an_example_the_hint_says_a_constant_and_a_parameter_look_the_same() -> None:
    query = 'SELECT id FROM "Session" WHERE state->>$2 = $1'
    (hint,) = written.hints([(11, query, {})], {}, from_server=True)
    assert "a constant the application wrote, or a parameter it binds" in hint, hint
    sent = 'SELECT id FROM "Session" WHERE state->>$2 = $1'
    (bound,) = written.hints([(11, query, {})], {11: sent}, from_server=True)
    assert "sends the key as a bind parameter" in bound, bound
    written_key = "SELECT id FROM \"Session\" WHERE state->>'ref' = $1"
    assert written.hints([(11, query, written.key_constants(query, written_key))], {11: written_key},
                         from_server=True) == []
