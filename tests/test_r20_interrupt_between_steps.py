"""A Ctrl-C that comes between a phase's steps leaves the phase failed, not as the run before left it (r20).

c19's fix (1fa1191) marked the phase failed only when the interrupt came inside a step's statement (apply's
Interrupted). One arriving anywhere else in the phase (after a build, as its history row is written, in the next
step's checks or its wait for transactions) left the raw KeyboardInterrupt, and the phase kept the state of the run
before. A CLI sweep of Ctrl-C over `pgtune apply` on a 20-table database (PostgreSQL 15) hit it at 3.65 s: "pgtune:
interrupted", three indexes built and recorded done, status "rolled_back" with those three "built outside pgtune
apply", and rollback "nothing to do", leaving them.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune.apply import Applier
from pgtune.apply import runner as apply_runner
from pgtune.errors import Interrupted
from pgtune.history import PhaseState

from .test_apply_safety import big_migration


def _indexes(conn: psycopg.Connection[Any]) -> list[str]:
    return sorted(str(r[0]) for r in conn.execute(
        "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'events'::regclass"))


def test_ctrl_c_after_a_step_leaves_the_phase_failed_and_rollback_undoes_it(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    m = big_migration(conn, tmp_path / "mig")
    [phase] = m.phases
    assert len(phase.indexes) >= 2
    Applier(conn, tmp_path / "mig").apply()
    Applier(conn, tmp_path / "mig").rollback()
    assert _indexes(conn) == ["events_pkey"]

    original = apply_runner.Applier._run_step
    done: list[object] = []

    def step_then_ctrl_c(self: apply_runner.Applier, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        if "CREATE INDEX" in result.statement:
            done.append(result)
        if len(done) == 1 and "CREATE INDEX" in result.statement:
            signal.raise_signal(signal.SIGINT)      # a real SIGINT, as the first build has just been recorded
        return result

    monkeypatch.setattr(apply_runner.Applier, "_run_step", step_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        Applier(conn, tmp_path / "mig").apply()
    monkeypatch.undo()
    assert len(done) == 1 and len(_indexes(conn)) == 2, _indexes(conn)      # the key and the first index

    [st] = Applier(conn, tmp_path / "mig").status().phases
    # Without the fix: rolled_back (the run before's), the first index "built outside pgtune apply".
    assert st.state == PhaseState.FAILED, st
    assert st.built_outside == [], st
    report = Applier(conn, tmp_path / "mig").rollback()
    # Without the fix: phases_run [] ("nothing to do"), the index this apply built left standing.
    assert report.phases_run == [1], (report.phases_run, report.warnings)
    assert _indexes(conn) == ["events_pkey"]


def test_a_rollback_interrupted_in_a_drop_says_to_run_rollback_again(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big_migration(conn, tmp_path / "mig")
    Applier(conn, tmp_path / "mig").apply()
    original = apply_runner.Applier._execute

    def ctrl_c_in_the_drop(self: apply_runner.Applier, step: Any) -> None:
        if "DROP INDEX" in step.text:
            signal.raise_signal(signal.SIGINT)      # a real SIGINT as the DROP starts
        original(self, step)

    monkeypatch.setattr(apply_runner.Applier, "_execute", ctrl_c_in_the_drop)
    with pytest.raises(Interrupted) as caught:
        Applier(conn, tmp_path / "mig").rollback()
    # Without the fix: "… re-run apply to continue", which would build again what the DBA was taking down.
    assert "re-run rollback to continue" in str(caught.value), str(caught.value)
