"""A step whose lock the application queues behind is not asked for while a long transaction holds the table.

ADD CONSTRAINT … NOT VALID takes ACCESS EXCLUSIVE for an instant. Asked
while a reporting transaction holds the table, the request waits its whole
lock_timeout in the lock queue, and every read of the table waits behind it,
at each retry (u's finding F2: six reads stalled 5 s each, the blocker not
named). Apply now names the transactions first and waits for them outside
the queue, as it does for its concurrent builds.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner
from psycopg import sql

from pgtune.apply import Applier
from pgtune.cli import cli

from .helpers import writer_latencies
from .production import long_transaction
from .test_constraints import fixture

SUBSCRIPTIONS = sql.Identifier("subscriptions")   # its column-order CHECK is written (value sets, money: listed only)


def _emit(db: str, conn: psycopg.Connection[Any], folder: Path) -> None:
    fixture(conn)
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", "-", "--emit", str(folder), "--constraints",
                                   "--lock-timeout", "2s"], input="SELECT 1;")
    assert out.exit_code == 0, out.output
    text = "".join(p.read_text() for p in folder.glob("*.sql"))
    assert 'ALTER TABLE public.subscriptions ADD CONSTRAINT' in text, text


def _read(conn: psycopg.Connection[Any], i: int) -> None:
    conn.execute("SELECT status FROM subscriptions WHERE id = %s", (1 + i % 10000,)).fetchone()


def test_a_constraint_is_not_asked_for_behind_a_long_transaction(db: str, conn: psycopg.Connection[Any],
                                                                 tmp_path: Path) -> None:
    folder = tmp_path / "mig"
    _emit(db, conn, folder)
    with long_transaction(db, seconds=30, table=SUBSCRIPTIONS) as txn, writer_latencies(db, _read) as latencies:
        time.sleep(6)                          # older than IN_THE_WAY_SECONDS: apply names it
        out = CliRunner().invoke(cli, ["apply", str(folder), "--dsn", db, "--wait-for-transactions", "3"])
    assert out.exit_code == 1, out.output
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert f"pid {txn.pid}" in out.stderr and "was not started" in out.stderr, out.stderr
    assert "queue" in out.stderr, out.stderr
    assert len(latencies) > 50
    assert max(latencies) < 1.0, f"a read of subscriptions waited {max(latencies):.3f}s behind apply's lock request"
    checks = conn.execute("SELECT count(*) FROM pg_constraint WHERE contype = 'c' AND conrelid = ANY(ARRAY["
                          "'accounts'::regclass, 'payments'::regclass, 'subscriptions'::regclass])").fetchone()
    assert checks == (0,)                      # nothing of the phase ran, on any of its tables
    assert conn.execute("SELECT count(*) FROM pgtune.phases WHERE status = 'failed'").fetchone() == (0,)


def test_apply_waits_for_the_transaction_then_adds_the_constraint(db: str, conn: psycopg.Connection[Any],
                                                                  tmp_path: Path) -> None:
    folder = tmp_path / "mig"
    _emit(db, conn, folder)
    messages: list[str] = []
    with long_transaction(db, seconds=14, table=SUBSCRIPTIONS) as txn, writer_latencies(db, _read) as latencies:
        time.sleep(6)
        report = Applier(conn, folder, progress=messages.append, wait_for_transactions=60).apply()
    assert report.phases_run, report
    assert any(f"pid {txn.pid}" in m and "without asking for the lock" in m for m in messages), messages
    assert max(latencies) < 1.0, f"a read of subscriptions waited {max(latencies):.3f}s"
    row = conn.execute("SELECT count(*) FILTER (WHERE convalidated), count(*) FROM pg_constraint "
                       "WHERE conrelid = 'subscriptions'::regclass AND contype = 'c'").fetchone()
    assert row is not None and row[0] == row[1] > 0
