"""A key sample (analyze.key_sample) is one round trip: its READ ONLY transaction, timeout, query and ROLLBACK go in
one pipeline (explain_script.read_only), not five (issue 28: 2,500 round trips at speed.py's 5,000 statements).
A timeout is still raised as the server's QueryCanceled (key_sample tells it from other failures), without psycopg's
"error ignored terminating" warning, and leaves no transaction open; inside a caller's transaction the caller's
work stays."""

from __future__ import annotations

import logging
import tempfile
from typing import Any

import psycopg
import pytest
from psycopg import pq, sql

from pgtune.analyze.key_sample import _sample_or_cancel


def round_trips(conn: psycopg.Connection[Any], fn: Any) -> int:
    """The messages libpq sends while ``fn`` runs that the server answers at once: a simple Query, a Sync."""
    with tempfile.TemporaryFile("w+") as trace:
        conn.pgconn.trace(trace.fileno())
        try:
            fn()
        finally:
            conn.pgconn.untrace()
        trace.seek(0)
        return sum(1 for line in trace if "\tF\t" in line and ("\tSync" in line or "\tQuery\t" in line))


def test_a_key_sample_is_one_round_trip(conn: psycopg.Connection[Any], caplog: pytest.LogCaptureFixture) -> None:
    conn.execute("CREATE TABLE k (id int PRIMARY KEY, a int)")
    conn.execute("INSERT INTO k SELECT g, g % 7 FROM generate_series(1, 1000) g")
    query = sql.SQL("SELECT count(DISTINCT a), max(a) FROM {} TABLESAMPLE SYSTEM (100) REPEATABLE (1)").format(
        sql.Identifier("k"))
    got: list[Any] = []
    assert round_trips(conn, lambda: got.append(_sample_or_cancel(conn, query, 2000, check=False))) == 1
    assert got == [[(7, 6)]]
    assert conn.info.transaction_status == pq.TransactionStatus.IDLE

    slow = sql.SQL("SELECT count(*) FROM {}, pg_catalog.pg_sleep(1)").format(sql.Identifier("k"))
    with caplog.at_level(logging.WARNING, logger="psycopg"), pytest.raises(psycopg.errors.QueryCanceled):
        _sample_or_cancel(conn, slow, 50, check=False)
    assert not [r for r in caplog.records if "error ignored" in r.getMessage()]
    assert conn.info.transaction_status == pq.TransactionStatus.IDLE
    assert conn.execute("SHOW statement_timeout").fetchone() != ("50ms",)

    with conn.transaction(force_rollback=True):      # a caller's transaction: a savepoint stands for its own
        conn.execute("INSERT INTO k VALUES (0, 100)")
        assert _sample_or_cancel(conn, query, 2000, check=False) == [(8, 100)]
        assert conn.execute("SELECT count(*) FROM k").fetchone() == (1001,)


def test_the_read_only_check_of_a_sample_reads_a_relation_in_one_round_trip(conn: psycopg.Connection[Any]) -> None:
    """An expression key's sample is checked first (readonly): its functions, then each relation it reads. Outside a
    transaction the relation's query is its own (2 round trips in all, not 4: BEGIN and COMMIT around it); inside
    a caller's transaction a savepoint still stands for it."""
    from pgtune.readonly import why_not_read_only

    conn.execute("CREATE TABLE w (id int PRIMARY KEY, b text)")
    reasons: list[Any] = []
    query = "SELECT max(pg_catalog.length(lower(b))) FROM w"
    assert round_trips(conn, lambda: reasons.append(why_not_read_only(conn, query))) == 2
    assert reasons == [None]
    gone = "SELECT 1 FROM nowhere"
    assert "does not exist here" in (why_not_read_only(conn, gone) or "")
    assert conn.info.transaction_status == pq.TransactionStatus.IDLE
    with conn.transaction(force_rollback=True):     # a caller's transaction: its work stays
        conn.execute("INSERT INTO w VALUES (1, 'x')")
        assert why_not_read_only(conn, query) is None
        assert "does not exist here" in (why_not_read_only(conn, gone) or "")
        assert conn.execute("SELECT count(*) FROM w").fetchone() == (1,)
