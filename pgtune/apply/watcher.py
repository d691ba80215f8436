"""A second connection that looks at one running statement from a thread of its own.

Both the build's progress report and the lock watch need the same thing: a
connection opened beside the statement (never delaying it when it cannot be
opened), polled every ``interval`` seconds while the statement runs, and shut
down when it ends. Any error on that connection ends the watching, never the
statement.
"""

from __future__ import annotations

import threading
from typing import Any, Self

import psycopg

from ..tracking import untrack_statements

WATCH_STATEMENT_TIMEOUT = "10s"     # one look must never hang the watcher itself


class Watcher:
    """The thread and connection; subclasses say what one look does (``look``) and when to stop (it returns False)."""

    application_name = "pgtune-watch"

    def __init__(self, dsn: str | None, interval: float) -> None:
        self.dsn, self.interval = dsn, interval
        self.available = False                   # the second connection is open and being polled
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.conn: psycopg.Connection[Any] | None = None

    def wanted(self) -> bool:
        return self.dsn is not None

    def __enter__(self) -> Self:
        if self.dsn is None or not self.wanted():
            return self
        try:
            self.conn = psycopg.connect(self.dsn, autocommit=True, application_name=self.application_name,
                                        connect_timeout=10)
            untrack_statements(self.conn)       # its looks take no pg_stat_statements entry either (6f3fe75, r20)
            self.conn.execute(f"SET /* pgtune */ statement_timeout = '{WATCH_STATEMENT_TIMEOUT}'")
        except psycopg.Error:
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            return self
        self.available = True
        self.started()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join()
        if self.conn is not None:
            self.conn.close()

    def _run(self) -> None:
        assert self.conn is not None
        try:
            while not self.stop.wait(self.interval):
                if not self.look(self.conn):
                    return
        except psycopg.Error:
            return      # the statement keeps running; watching is never worth failing it

    def started(self) -> None:
        """Called once the connection is open, before the first look."""

    def look(self, conn: psycopg.Connection[Any]) -> bool:
        raise NotImplementedError
