"""r22: status read on a hot standby while apply runs on the primary does not call the live applier dead.

history.died (p23, f20cdf8) calls a phase failed when a history row is newer than the phase's state and no session
holds pgtune's advisory lock. The rows replicate to a standby; the primary's locks do not show in the standby's
pg_locks: status there read the phase of an applier alive and building 'failed', exit 1 (PG15).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune.cli import cli

from .helpers import primary_and_standby
from .test_apply_safety import big_migration
from .test_hardening import PATIENCE, apply_waiting_mid_build


def _replayed(primary: psycopg.Connection[Any], standby_dsn: str) -> None:
    lsn = primary.execute("SELECT pg_current_wal_insert_lsn()").fetchone()
    assert lsn is not None
    deadline = time.monotonic() + PATIENCE
    with psycopg.connect(standby_dsn, autocommit=True) as s:
        while s.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn[0],)).fetchone() != (True,):
            assert time.monotonic() < deadline, "the standby never replayed"
            time.sleep(0.1)


def test_status_on_a_standby_while_the_primary_applies(tmp_path: Path) -> None:
    folder = tmp_path / "mig"
    with primary_and_standby() as (primary, standby_dsn), psycopg.connect(primary.dsn, autocommit=True) as conn:
        big_migration(conn, folder, lock_timeout="60s")
        with apply_waiting_mid_build(primary.dsn, conn, folder):
            _replayed(conn, standby_dsn)
            status = CliRunner().invoke(cli, ["status", str(folder), "--dsn", standby_dsn, "--format", "json"])
            phase = json.loads(status.stdout)["phases"][0]
            assert phase["state"] == "pending", status.output
