"""The session-level advisory lock that keeps two appliers apart, waited for with a deadline.

``pgtune baseline`` takes it too: it times the tables without the migration's indexes, which an apply of the
same migration would be building meanwhile (k37).

A transaction-level lock cannot be used: CREATE INDEX CONCURRENTLY waits for
every older transaction, including the one holding the lock, and would hang.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg

from .. import catalog_sql
from .._text import Progress, one_line
from ..connect import lost
from ..errors import LockBusy

WAIT_HINT = "wait for it to finish (apply --wait SECONDS waits for it)"


class AdvisoryLock:
    """Held for the life of the ``with`` block; waits up to ``wait`` seconds, naming the holder; ``hint``: what
    the one refused can do (apply's and rollback's: wait)."""

    def __init__(self, conn: psycopg.Connection[Any], key: int, *, wait: float, say: Progress,
                 on_acquired: Callable[[], None] | None = None, hint: str = WAIT_HINT) -> None:
        self.conn, self.key, self.wait, self.say, self.on_acquired = conn, key, wait, say, on_acquired
        self.hint = hint

    def __enter__(self) -> None:
        conn = self.conn
        deadline = time.monotonic() + max(self.wait, 0.0)
        said = ""
        while True:
            row = conn.execute("SELECT /* pgtune */ pg_try_advisory_lock(%s)", (self.key,)).fetchone()
            if row and row[0]:
                break
            with catalog_sql.uncompiled(conn):
                holder = conn.execute(catalog_sql.load("advisory_lock_holder"), {"key": self.key}).fetchone()
            who = (f" (backend pid {holder[0]}, running: {one_line(holder[1] or '?', 80)})" if holder else "")
            if time.monotonic() >= deadline:
                waited = f" after waiting {self.wait:.0f}s" if self.wait else ""
                raise LockBusy(f"another pgtune apply, rollback or baseline is running on this database{who}"
                               f"{waited}; {self.hint}")
            if who != said:
                self.say(f"waiting for another pgtune applier{who}")
                said = who
            time.sleep(min(0.5, max(deadline - time.monotonic(), 0.01)))
        if self.on_acquired is not None:
            self.on_acquired()

    def __exit__(self, *exc: object) -> None:
        if not lost(self.conn):
            self.conn.execute("SELECT /* pgtune */ pg_advisory_unlock(%s)", (self.key,))
