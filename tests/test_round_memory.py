"""A what-if session's Round of a statement keeps one script to send again, sharing its own transaction and settings
texts: it kept a second with the PREPARE (sent once) and new copies of both (issue 28's memory: a Round per
statement and session, 20,000 of them at benchmarks/speed.py's 20,000 statements)."""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.explain import Round
from pgtune.explain_script import Kept, Shared


def test_a_kept_statement_keeps_one_script_of_shared_texts(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE orders (id int PRIMARY KEY, status text, total numeric)")
    conn.execute("INSERT INTO orders SELECT g, 'open', g FROM generate_series(1, 1000) g")
    conn.execute("ANALYZE orders")
    kept = Kept()
    made = Round(conn, "SELECT total FROM orders WHERE id = $1 AND status = $2", [{"$1": "5", "$2": "open"}])
    costs = []
    try:
        for _ in range(3):
            shared = Shared()
            r = made.again()
            with conn.pipeline(), conn.cursor() as steps:
                r.send(conn, shared, kept, steps)
                shared.close(steps)
            costs.append(r.plans()[0].cost)
    finally:
        kept.clear(conn)
    assert len(set(costs)) == 1 and costs[0] > 0
    assert len(made._renamed) == 1, list(made._renamed)      # the form sent again, without its PREPARE
    (again,) = made._renamed.values()
    assert again.prepares == [] and "EXECUTE pgtune_kept_1(" in again.lasts[0][1], again.lasts
    assert again.setup is made.script.setup and again.begin is made.script.begin and again.end is made.script.end
