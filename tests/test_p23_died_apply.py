"""p23: an apply killed with SIGKILL mid-build: status and rollback must see the run that died.

Before the fix, the history's 'running' row was ignored: status showed the phase as it was before (pending or
rolled_back), did not name the INVALID index the server left when it cancelled the orphaned build, and exited 0;
rollback said 'nothing to do' and left that index in place.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune.cli import cli

from .test_apply_safety import big_migration, invalid_indexes
from .test_hardening import PATIENCE, _blocker_once_a_build_runs, _pgtune, _wait_for_build, apply_waiting_mid_build


def _kill_mid_build(db: str, conn: psycopg.Connection[Any], folder: Path) -> None:
    """SIGKILL pgtune apply while its build waits for a reader's snapshot; the server then cancels the build."""
    held: list[psycopg.Connection[Any]] = []
    thread = _blocker_once_a_build_runs(db, held)
    try:
        proc = _pgtune("apply", str(folder), "--dsn", db)
        pid = _wait_for_build(conn, proc)
        thread.join()
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + PATIENCE
        while conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone() != (0,):
            assert time.monotonic() < deadline, "the orphaned build kept running"
            time.sleep(0.1)
    finally:
        thread.join()
        for blocker in held:
            blocker.rollback()
            blocker.close()


def test_status_and_rollback_after_a_killed_apply(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    big_migration(conn, tmp_path / "mig", lock_timeout="60s")
    _kill_mid_build(db, conn, tmp_path / "mig")
    assert invalid_indexes(conn) == 1          # the cancelled build's leftover

    status = CliRunner().invoke(cli, ["status", str(tmp_path / "mig"), "--dsn", db, "--format", "json"])
    assert status.exit_code == 1, status.output          # a phase whose run died is a failure, not pending

    phase = json.loads(status.stdout)["phases"][0]
    assert phase["state"] == "failed", phase
    assert len(phase["invalid"]) == 1 and "(INVALID, left by a failed build" in phase["invalid"][0], phase
    assert phase["built_outside"] == [], phase

    rollback = CliRunner().invoke(cli, ["rollback", str(tmp_path / "mig"), "--dsn", db])
    assert rollback.exit_code == 0, rollback.output
    assert "nothing to do" not in rollback.output, rollback.output
    assert invalid_indexes(conn) == 0          # pgtune's own leftover is gone
    again = CliRunner().invoke(cli, ["status", str(tmp_path / "mig"), "--dsn", db, "--format", "json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["phases"][0]["state"] == "rolled_back"


def test_status_while_an_apply_runs_is_not_failed(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """A 'running' row of an applier alive (it holds the lock) is no dead run."""
    big_migration(conn, tmp_path / "mig", lock_timeout="60s")
    with apply_waiting_mid_build(db, conn, tmp_path / "mig"):
        status = CliRunner().invoke(cli, ["status", str(tmp_path / "mig"), "--dsn", db, "--format", "json"])
        assert json.loads(status.stdout)["phases"][0]["state"] == "pending", status.output


def test_rollback_drops_what_a_killed_apply_built(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """Killed after its build finished, before it recorded the index's OID: the index is this migration's (apply
    again adopts it as 'built by this migration'), so rollback drops it instead of calling it someone else's."""
    big_migration(conn, tmp_path / "mig", lock_timeout="60s")
    proc = _pgtune("apply", str(tmp_path / "mig"), "--dsn", db)
    deadline = time.monotonic() + PATIENCE
    # events' own build: the history's tables, made as apply starts, show in the progress view too (CI once
    # stopped pgtune there, before its build began, and found no index at all)
    building = "SELECT count(*) FROM pg_stat_progress_create_index WHERE relid = 'events'::regclass"
    while conn.execute(building).fetchone() == (0,):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.01)
    proc.send_signal(signal.SIGSTOP)          # its session stays open: the build runs to its end
    try:
        while conn.execute(building).fetchone() != (0,):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    # The build's last step (marking the index valid) can come just after its progress row is gone (PG18 CI once).
    while (built := conn.execute("SELECT count(*) FROM pg_index WHERE indrelid = 'events'::regclass AND indisvalid "
                                 "AND NOT indisprimary").fetchone()) != (1,) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert built == (1,)
    status = CliRunner().invoke(cli, ["status", str(tmp_path / "mig"), "--dsn", db, "--format", "json"])
    assert status.exit_code == 1 and json.loads(status.stdout)["phases"][0]["state"] == "failed", status.output
    rollback = CliRunner().invoke(cli, ["rollback", str(tmp_path / "mig"), "--dsn", db])
    assert rollback.exit_code == 0, rollback.output
    assert "was not created by this migration" not in rollback.output, rollback.output
    assert conn.execute("SELECT count(*) FROM pg_index WHERE indrelid = 'events'::regclass "
                        "AND NOT indisprimary").fetchone() == (0,)
    again = CliRunner().invoke(cli, ["status", str(tmp_path / "mig"), "--dsn", db, "--format", "json"])
    assert again.exit_code == 0 and json.loads(again.stdout)["phases"][0]["built_outside"] == [], again.output
