"""r22: a server answering in another language still gets its untyped $n statements planned (c23's retry).

param_types reads the type a PREPARE refusal names from the server's message ("operator does not exist: integer =
text"). A server whose lc_messages is German (initdb takes it from the host's locale) says "Operator existiert
nicht: integer = text": the retry found no type, and the statement stayed "cannot plan" (PG15, de_DE.utf8:
UndefinedFunction from explain). pgtune's sessions now read the server's messages in English where the role may
set lc_messages.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgtune.connect import connect
from pgtune.explain import explain

GERMAN = "de_DE.utf8"


def test_untyped_array_is_planned_on_a_german_server(db: str, conn: psycopg.Connection[Any]) -> None:
    try:
        conn.execute(sql.SQL("SET lc_messages = {}").format(sql.Literal(GERMAN)))
    except psycopg.errors.InvalidParameterValue:
        pytest.skip(f"no {GERMAN} locale on the server's host (localedef -i de_DE -f UTF-8 de_DE.UTF-8)")
    conn.execute("RESET lc_messages")
    dbname = conn.info.dbname
    conn.execute(sql.SQL("ALTER DATABASE {} SET lc_messages = {}").format(sql.Identifier(dbname), sql.Literal(GERMAN)))
    conn.execute("CREATE TABLE r22_events (id bigint PRIMARY KEY, account_id int NOT NULL)")
    with psycopg.connect(db, autocommit=True) as app, pytest.raises(psycopg.errors.UndefinedFunction) as refused:
        app.execute("PREPARE p AS SELECT 1 FROM r22_events e JOIN unnest(ARRAY[$1, $2]) AS u(x) ON e.account_id = u.x")
    if "Operator existiert nicht" not in str(refused.value):
        pytest.skip(f"the server has no German messages: {refused.value}")
    with connect(db) as c:
        # A text of its own: param_types remembers the types a text took once retyped in this process.
        plan = explain(c, "SELECT e.id FROM r22_events e JOIN unnest(ARRAY[$1, $2]) AS r22(x) ON e.account_id = r22.x")
        assert plan.cost > 0
        assert c.execute("SHOW lc_messages").fetchone() == ("C",)
