"""A long index build said nothing in a CI log (v39 open, r40): its percent was read only for a terminal.

``pgtune apply 2>build.log``: progress.py wrote a line as each phase started and ended, but the build monitor
(pg_stat_progress_create_index on a second connection) was opened only when stderr was a terminal, so minutes of
a big CREATE INDEX CONCURRENTLY were one silent phase. Now a log gets the build's percent too, as a plain line
at most every TICK_S seconds (10 by default; shorter here so a build of seconds shows it), never a carriage
return, never a line per percent.
"""

from __future__ import annotations

import itertools
import re
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune.cli import cli, progress

from .test_migration import emit

TICK = 1.5


def test_a_log_shows_a_long_build_now_and_then(db: str, conn: psycopg.Connection[Any], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    m = emit(conn, tmp_path / "mig")
    built = [ix.name for p in m.phases for ix in p.indexes if ix.table == "order"]
    assert built, m.phases
    # A build of several seconds: more rows, and a sort that spills (the apply's session reads the database's).
    conn.execute('INSERT INTO "order" SELECT g, 1 + (g::bigint * 7919) % 5000, \'paid\', g % 1000, '
                 "now() - g * interval '1 second' FROM generate_series(60001, 3000000) g")
    dbname = conn.info.dbname
    conn.execute(f'ALTER DATABASE "{dbname}" SET maintenance_work_mem = \'1MB\'')
    conn.execute(f'ALTER DATABASE "{dbname}" SET max_parallel_maintenance_workers = 0')
    monkeypatch.setattr(progress, "TICK_S", TICK)
    log = tmp_path / "apply.log"
    with log.open("w") as err:          # a file: no terminal, a real descriptor, as `2>apply.log`
        monkeypatch.setattr(sys, "stderr", err)
        code = cli.main(["apply", str(tmp_path / "mig"), "--dsn", db], prog_name="pgtune", standalone_mode=False)
        monkeypatch.undo()
    text = log.read_text()
    assert code in (0, None), text
    assert "\r" not in text and "\x1b" not in text, repr(text)
    stamped = [(float(t), msg) for t, msg in re.findall(r"^pgtune: \[([\d.]+) s\] (.*)$", text, re.M)]
    # A build line, with its percent where the phase has one (the CI caught "index validation: sorting tuples").
    ticks = [t for t, msg in stamped if msg.startswith("building ")]
    # Without the fix: no build line at all (the monitor ran for a terminal only).
    assert ticks, text
    # Never a line per percent: one per TICK seconds at most (as the log shows them: to 0.1 s, each rounded).
    assert all(round(b - a, 1) >= TICK - 0.1 for a, b in itertools.pairwise(ticks)), text
    assert any(re.search(r"phase 1 up: .*: done in", msg) for _, msg in stamped), text
