"""Index build progress from pg_stat_progress_create_index, read on a second connection."""

from __future__ import annotations

import threading

import psycopg

from .. import catalog_sql
from .._text import Progress


class BuildMonitor:
    """Reports pg_stat_progress_create_index for one backend from a second connection."""

    def __init__(self, dsn: str | None, pid: int, name: str, say: Progress, interval: float) -> None:
        self.dsn, self.pid, self.name, self.say, self.interval = dsn, pid, name, say, interval
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def __enter__(self) -> BuildMonitor:
        if self.dsn:
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join()

    def _run(self) -> None:
        try:
            with psycopg.connect(self.dsn or "", autocommit=True, application_name="pgtune-monitor") as c:
                last = ""
                while not self.stop.wait(self.interval):
                    row = c.execute(catalog_sql.load("index_build_progress"), {"pid": self.pid}).fetchone()
                    if row is None:
                        continue
                    phase, done, total = row
                    pct = f" {100.0 * done / total:.0f}%" if total else ""
                    msg = f"building {self.name}: {phase}{pct}"
                    if msg != last:
                        self.say(msg)
                        last = msg
        except psycopg.Error:
            return   # progress is a courtesy; the build itself reports real errors
