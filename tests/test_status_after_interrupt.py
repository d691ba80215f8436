"""An apply interrupted (Ctrl-C) part way through a phase leaves the phase failed, not as it was (c19).

The phase's state was written only when it completed or an ApplyFailed ended it: a Ctrl-C left it as the last run
had left it. Applied once and rolled back, then applied again and interrupted at its second index, the phase read
``rolled_back`` in status, the first index the interrupted run built shown as "built outside pgtune apply"; rollback
skipped the phase (rolled back already), left that index, told the DBA to run the down script by hand, and left the
second build's INVALID leftover, which no status line showed.
"""

from __future__ import annotations

import _thread
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune.apply import Applier
from pgtune.errors import Interrupted
from pgtune.history import PhaseState

from .test_apply_safety import big_migration
from .test_hardening import _snapshot_blocker


def _indexes(conn: psycopg.Connection[Any]) -> list[str]:
    return sorted(str(r[0]) for r in conn.execute(
        "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'events'::regclass"))


def test_a_phase_interrupted_after_a_rollback_is_failed_and_rolled_back_whole(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = big_migration(conn, tmp_path / "mig", lock_timeout="60s")
    [phase] = m.phases
    first, second = phase.indexes[0].name, phase.indexes[1].name
    Applier(conn, tmp_path / "mig").apply()
    Applier(conn, tmp_path / "mig").rollback()
    held: list[psycopg.Connection[Any]] = []

    def interrupt() -> None:
        """Once the second build runs, a reader it must wait for; then Ctrl-C, as a DBA tired of waiting."""
        deadline = time.monotonic() + 120
        with psycopg.connect(db, autocommit=True) as watch:
            while time.monotonic() < deadline:
                row = watch.execute("SELECT count(*) FROM pg_stat_progress_create_index WHERE relid = "
                                    "'events'::regclass").fetchone()
                built = watch.execute("SELECT count(*) FROM pg_index WHERE indrelid = 'events'::regclass").fetchone()
                if row and row[0] and built and built[0] >= 3:      # the key, the first index, the second building
                    break
                time.sleep(0.01)
            held.append(_snapshot_blocker(db))
            time.sleep(0.5)
            _thread.interrupt_main()
            if not answered.wait(60):       # the interrupt never came through: let the build end, and the test fail
                for blocker in held:
                    blocker.rollback()

    answered = threading.Event()
    thread = threading.Thread(target=interrupt)
    thread.start()
    try:
        with pytest.raises(Interrupted):
            Applier(conn, tmp_path / "mig").apply()
    finally:
        answered.set()
        thread.join()
        for blocker in held:
            blocker.rollback()
            blocker.close()
    assert _indexes(conn) == sorted(["events_pkey", f'"{first}"' if first != first.lower() else first, second])
    [st] = Applier(conn, tmp_path / "mig").status().phases
    assert st.state == PhaseState.FAILED, st              # was rolled_back, the state of the run before
    assert st.built_outside == [], st                      # was the first index, which this apply built
    assert any(second in s and "INVALID" in s for s in st.invalid), st
    report = Applier(conn, tmp_path / "mig").rollback()
    assert report.phases_run == [1] and not report.warnings, (report.phases_run, report.warnings)
    assert _indexes(conn) == ["events_pkey"]              # the built index and the INVALID leftover: gone
    [st] = Applier(conn, tmp_path / "mig").status().phases
    assert st.state == PhaseState.ROLLED_BACK and st.built_outside == [] and st.invalid == [], st
