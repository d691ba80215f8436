"""SQL-level PREPARE, as drivers and poolers send it, is analyzed as its body (issue 24.6).

pg_stat_statements never records ``EXECUTE``: it charges each execution to the
prepared statement, whose text is the whole ``PREPARE name(types) AS …``, its
own constants normalized to further ``$n`` after the declared ones.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgtune.capture import read_queries_file
from pgtune.explain import explain

from .helpers import steady_state, suggest

SESSIONS = """
CREATE TABLE sessions (id bigint PRIMARY KEY, "userId" int NOT NULL, token text NOT NULL,
                       "expiresAt" timestamp NOT NULL);
INSERT INTO sessions
SELECT g, 1 + (g * 7919) % 20000, md5(g::text), localtimestamp + ((g % 720) - 360) * interval '1 hour'
FROM generate_series(1, 100000) AS g;
ANALYZE sessions;
"""
PREPARE = ('PREPARE sess(int) AS SELECT id, token FROM sessions WHERE "userId" = $1 '
           'AND "expiresAt" > localtimestamp ORDER BY "expiresAt" DESC LIMIT 1')
# $2 IS NULL alone tells the server nothing of $2's type: only the declared types make it plannable.
OPTIONAL = 'PREPARE pick(int, int) AS SELECT id FROM sessions WHERE "userId" = $1 AND ($2 IS NULL OR id > $2)'


@pytest.mark.needs_hypopg
def test_a_prepared_statement_from_pg_stat_statements_is_analyzed_as_its_body(db: str,
                                                                              conn: psycopg.Connection[Any]) -> None:
    conn.execute(SESSIONS)
    steady_state(conn)
    with psycopg.connect(db, autocommit=True) as app:           # the pooler's session
        app.execute(PREPARE)
        for k in range(60):
            app.execute(sql.SQL("EXECUTE sess({})").format(sql.Literal(1 + k * 331))).fetchall()
        app.execute("DEALLOCATE sess")
    advice = suggest(conn)
    [row] = [s for s in advice.statements if s.query.startswith("PREPARE sess")]
    assert row.calls == 60
    assert row.cost_before is not None and row.cost_after is not None and row.cost_after < row.cost_before / 10
    [ix] = [i for i in advice.indexes if i.table == "sessions"]
    assert ix.columns[0] == "userId", ix
    assert not [s for s in advice.skipped if "sess" in s.query]


@pytest.mark.needs_hypopg
def test_a_queries_file_counts_each_execute_for_its_prepare(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SESSIONS)
    text = PREPARE + ";\n" + "".join(f"EXECUTE sess({k});\n" for k in range(7)) + "EXECUTE other(1);\n"
    advice = suggest(conn, read_queries_file(text))
    [row] = advice.statements
    assert row.query.startswith("PREPARE sess") and row.calls == 7
    assert [i.columns[0] for i in advice.indexes] == ["userId"]


def test_declared_types_plan_what_inference_cannot(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SESSIONS)
    plan = explain(conn, OPTIONAL)
    assert plan.cost > 0
    custom = explain(conn, OPTIONAL, values={"$1": "42", "$2": "7"})
    assert custom.cost > 0


def test_a_prepared_select_is_measured_as_the_select_it_runs(conn: psycopg.Connection[Any]) -> None:
    from pgtune.readonly import measure

    conn.execute(SESSIONS)
    ms, why = measure(conn, PREPARE, values={"$1": "42", "$2": "1"})
    assert why is None and ms is not None
