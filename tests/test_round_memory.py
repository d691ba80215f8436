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


def test_a_round_holds_each_value_once(conn: psycopg.Connection[Any]) -> None:
    """A Round's quoted values live in its EXPLAIN texts only: it kept them a second time (its runs, to print the
    script again under a kept name), a quarter of a Round at speed.py's shapes, 20,000 Rounds at its largest."""
    import gc
    import tracemalloc

    conn.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
    value = "x" * 200_000
    scenarios = [{"$1": value}]
    Round(conn, "SELECT id FROM notes WHERE body = $1", scenarios)     # the texts' caches warm
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        made = Round(conn, "SELECT id FROM notes WHERE body = $1", scenarios)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert value in made.script.lasts[0][1]
    assert len(value) < held < 1.5 * len(value), held
    kept = Kept()
    try:
        with conn.pipeline(), conn.cursor() as steps:     # under a kept name: printed from the texts it holds
            shared = Shared()
            r = made.again()
            r.send(conn, shared, kept, steps)
            shared.close(steps)
        assert r.plans()[0].cost > 0
    finally:
        kept.clear(conn)
