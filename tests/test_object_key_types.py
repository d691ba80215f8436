"""A statement whose ``$n`` are keys of json(b)_build_object is planned, and typed, with every ``$n`` valued.

Prisma's relationJoins build each related row as ``JSONB_BUILD_OBJECT('id', "t0"."id", …)``, and
pg_stat_statements normalizes the keys to ``$n``. The function takes "any", so the server cannot type such a
``$n``: once every ``$n`` had a value (pg_qualstats' example), the PREPARE of the whole text failed ("could not
determine data type of parameter $1", an ERROR line in the server's log) and the statement, the costliest of
p18's Cal.com-shaped workload (44% of its time), was left out as "cannot plan". The keys are declared text now
(explain.object_key_types), in what-if costing's Rounds and in the types emit reads for verify.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.baseline import param_types
from pgtune.explain import explain_scenarios

QUERY = ('SELECT b.id, e."__data" FROM "Booking" b LEFT JOIN LATERAL (SELECT JSONB_BUILD_OBJECT($1, t.id, $2, t.title) '
         'AS "__data" FROM "EventType" t WHERE t.id = b."eventTypeId" LIMIT $3) AS e ON true '
         'WHERE b."userId" = $4 ORDER BY b.id LIMIT $5')


def test_json_object_keys_are_typed_text(conn: psycopg.Connection[Any]) -> None:
    conn.execute('CREATE TABLE "EventType" (id int PRIMARY KEY, title text NOT NULL)')
    conn.execute('CREATE TABLE "Booking" (id int PRIMARY KEY, "userId" int NOT NULL, "eventTypeId" int)')
    conn.execute('INSERT INTO "EventType" SELECT g, \'t\' || g FROM generate_series(1, 100) g')
    conn.execute('INSERT INTO "Booking" SELECT g, g % 50, 1 + g % 100 FROM generate_series(1, 5000) g')
    conn.execute('ANALYZE "EventType", "Booking"')
    values = {"$1": "id", "$2": "title", "$3": "1", "$4": "7", "$5": "10"}
    [plan] = explain_scenarios(conn, QUERY, [values])
    assert plan.cost > 0
    assert param_types(conn, QUERY) == ["text", "text", "bigint", "integer", "bigint"]


def test_any_arguments_are_typed_text(conn: psycopg.Connection[Any]) -> None:
    """r19: a JSON object's value, an array's element, concat's and format's pieces, json_object_agg's
    arguments take "any" too: each such $n made the PREPARE fail and the statement was left out. A $n the
    statement also compares with an integer column stays the server's to type."""
    conn.execute("CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, name text NOT NULL)")
    conn.execute("INSERT INTO users SELECT g, 'u' || g || '@x.org', 'n' || g FROM generate_series(1, 2000) g")
    conn.execute("ANALYZE users")
    cases = [
        ("SELECT jsonb_build_object($2, id, $3, $4) FROM users WHERE email = $1",
         {"$1": "u7@x.org", "$2": "id", "$3": "kind", "$4": "user"}, ["text", "text", "text", "text"]),
        ("SELECT id FROM users WHERE name ILIKE concat($1, $2::text, $3)",
         {"$1": "%", "$2": "n7", "$3": "%"}, ["text", "text", "text"]),
        ("SELECT json_build_array($1, id), concat_ws($2, name, $3) FROM users WHERE id = $4",
         {"$1": "a", "$2": ",", "$3": "b", "$4": "7"}, ["text", "text", "text", "integer"]),
        ("SELECT json_object_agg($1, name) FROM users WHERE id < $2", {"$1": "k", "$2": "10"}, ["text", "integer"]),
        ("SELECT format($1, name) FROM users WHERE email = $2", {"$1": "%s", "$2": "u7@x.org"}, ["text", "text"]),
        # An application's own $1, used twice: typed by "id" = $1, not declared text (id = text would fail).
        ("SELECT id FROM users WHERE id = $1 AND name <> concat($1, name)", {"$1": "7"}, ["integer"]),
    ]
    for query, values, types in cases:
        [plan] = explain_scenarios(conn, query, [values])
        assert plan.cost > 0, query
        assert param_types(conn, query) == types, query
