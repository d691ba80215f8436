"""r22: health's bounded read leaves the caller's session with its own statement_timeout and lock_timeout.

bounded() sets both to 5s with set_config(…, true) inside conn.transaction(): in a caller's open transaction (a
library caller's connection without autocommit) that is a savepoint, and a released savepoint keeps a SET LOCAL to
the end of the caller's transaction: PG15, statement_timeout read '5s' (it was '1min') after one bounded read.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from pgtune.health.bounded import Read, bounded


def test_bounded_read_in_a_callers_transaction(db: str) -> None:
    with psycopg.connect(db) as c:           # not autocommit: the caller's transaction is open
        c.execute("SET statement_timeout = '1min'")
        c.execute("SET lock_timeout = '7s'")
        assert isinstance(bounded(c, sql.SQL("SELECT 1")), Read)
        assert c.execute("SHOW statement_timeout").fetchone() == ("1min",)
        assert c.execute("SHOW lock_timeout").fetchone() == ("7s",)
        assert bounded(c, sql.SQL("SELECT pg_sleep(6)")) is None        # still bounded
        assert c.execute("SHOW statement_timeout").fetchone() == ("1min",)


def test_bounded_read_in_autocommit(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SET statement_timeout = '1min'")
    assert bounded(conn, sql.SQL("SELECT pg_sleep(6)")) is None
    assert isinstance(bounded(conn, sql.SQL("SELECT 1")), Read)
    assert conn.execute("SHOW statement_timeout").fetchone() == ("1min",)
