"""A reading command never queues behind another session's lock (u5, a production-shaped database).

suggest's table read (pg_table_size), its EXPLAINs and health's catalog reads
take ACCESS SHARE locks. Behind a migration's ACCESS EXCLUSIVE they waited as
long as it was held (90 s in u5's run), pgtune's backend stalled without a
word. Now they give up after a short lock_timeout and say who holds the lock;
the caller's own lock_timeout comes back after.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest

from pgtune import api
from pgtune.capture import Statement
from pgtune.connect import no_lock_queue
from pgtune.errors import DatabaseError

from .helpers import exclusive_lock


def _load(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE orders (id int PRIMARY KEY, customer int, note text)")
    conn.execute("INSERT INTO orders SELECT g, g % 500, 'n' FROM generate_series(1, 20000) g")
    conn.execute("ANALYZE orders")


@pytest.mark.parametrize("command", ["suggest", "health"])
def test_a_reading_command_gives_up_on_a_held_lock_and_names_its_holder(
        db: str, conn: psycopg.Connection[Any], command: str) -> None:
    _load(conn)
    conn.execute("SET lock_timeout = '7min'")
    with exclusive_lock(db, "orders") as pid:
        start = time.monotonic()
        with pytest.raises(DatabaseError) as raised:
            if command == "suggest":
                api.suggest(conn, api.SuggestOptions(constraints=False), statements=[
                    Statement("SELECT note FROM orders WHERE customer = $1", queryid=1, calls=500)])
            else:
                api.health(conn)
        waited = time.monotonic() - start
    assert waited < 10, waited
    assert raised.value.exit_code == 2
    message = str(raised.value)
    assert f"pid {pid} holds ACCESS EXCLUSIVE on public.orders" in message, message
    assert "\n" not in message
    row = conn.execute("SHOW lock_timeout").fetchone()
    assert row == ("7min",), row                # the caller's setting is back


def test_without_a_lock_suggest_still_answers_and_leaves_the_setting(conn: psycopg.Connection[Any]) -> None:
    _load(conn)
    result = api.suggest(conn, api.SuggestOptions(constraints=False), statements=[
        Statement("SELECT note FROM orders WHERE customer = $1", queryid=1, calls=500)])
    assert [ix.columns for ix in result.indexes.indexes] == [["customer"]], result.indexes.hints
    assert conn.execute("SHOW lock_timeout").fetchone() == ("0",)


def test_a_caller_in_a_transaction_gets_its_setting_back(db: str) -> None:
    """The caller's lock_timeout comes back on a connection that is not in autocommit (its transaction open)."""
    with psycopg.connect(db) as conn:
        conn.execute("SET lock_timeout = '7min'")
        with no_lock_queue(conn):
            conn.execute("SELECT 1")
        conn.commit()
        assert conn.execute("SHOW lock_timeout").fetchone() == ("7min",)
        # A SET LOCAL of the caller's stays its transaction's: it does not become the session's (r7).
        conn.execute("SET LOCAL lock_timeout = '30s'")
        with no_lock_queue(conn):
            assert conn.execute("SHOW lock_timeout").fetchone() == ("2s",)
        assert conn.execute("SHOW lock_timeout").fetchone() == ("30s",)
        conn.commit()
        assert conn.execute("SHOW lock_timeout").fetchone() == ("7min",)
