"""Index build progress from pg_stat_progress_create_index, read on a second connection."""

from __future__ import annotations

from typing import Any

import psycopg

from .. import catalog_sql
from .._text import Progress, Tick
from .watcher import Watcher


class BuildMonitor(Watcher):
    """Reports pg_stat_progress_create_index for one backend from a second connection (a courtesy: the build
    itself reports real errors)."""

    application_name = "pgtune-monitor"

    def __init__(self, dsn: str | None, pid: int, name: str, say: Progress, interval: float) -> None:
        super().__init__(dsn, interval)
        self.pid, self.name, self.say = pid, name, say
        self.last = ""

    def look(self, conn: psycopg.Connection[Any]) -> bool:
        with catalog_sql.uncompiled(conn):
            row = conn.execute(catalog_sql.load("index_build_progress"), {"pid": self.pid}).fetchone()
        if row is None:
            return True
        phase, done, total = row
        pct = f" {100.0 * done / total:.0f}%" if total else ""
        msg = f"building {self.name}: {phase}{pct}"
        if msg != self.last:
            self.say(Tick(msg))
            self.last = msg
        return True
