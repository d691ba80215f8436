"""apply's wait for a long transaction is in its report, not only in progress lines (p20, Formbricks-shaped DB).

Under the application's load, with a transaction writing Survey held open 30 s,
``pgtune apply`` waited 21 s before building; run from a terminal it named
the transaction (pid, age, query) on stderr, but from CI (stderr not a
terminal) the table, and ``--format json``'s ``warnings`` and step notes, said
nothing of it: a slow apply with no reason given.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune.apply import Applier, waits

from .test_partitions_migration import migration, valid


def test_a_told_wait_is_a_warning_of_the_report(db: str, conn: psycopg.Connection[Any], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(waits, "IN_THE_WAY_SECONDS", 1)     # told after 1 s, not 5: a shorter test
    conn.execute("CREATE TABLE docs (id int PRIMARY KEY, k int); "
                 "INSERT INTO docs SELECT g, g % 100 FROM generate_series(1, 5000) g; ANALYZE docs")
    folder = tmp_path / "mig"
    migration(conn, folder, ("docs", "k"))
    app = psycopg.connect(db)
    pid = app.info.backend_pid
    try:
        app.execute("UPDATE docs SET k = k WHERE id = 1")        # a writer of the table, left open
        threading.Timer(3.0, app.rollback).start()
        messages: list[str] = []
        report = Applier(conn, folder, progress=messages.append, wait_for_transactions=30).apply()
    finally:
        app.close()
    assert report.phases_run == [1] and valid(conn, '"docs_k_idx"')
    assert any(f"pid {pid}" in m for m in messages), messages     # told as it waited
    told = [w for w in report.warnings if f"pid {pid}" in w]
    assert told and "waited" in told[0], report.warnings                           # and in the report
