"""p23: a build apply retried after lock timeouts is in the report's warnings, not only in progress lines.

The retries ('lock timeout …; retry 1/3 in 1.0s') were said on stderr when it is a terminal only: a CI run or
--format json saw every step 'done' with no note, though apply had waited through two lock timeouts on an
application's ALTER TABLE (12 s on a Midday-shaped database).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune.cli import cli

from .test_partitions_migration import migration


def test_lock_timeout_retries_are_warnings(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute("CREATE TABLE t (id int, k int); INSERT INTO t SELECT g, g % 100 FROM generate_series(1, 1000) g")
    folder = tmp_path / "mig"
    migration(conn, folder, ("t", "k"), lock_timeout="300ms")
    with psycopg.connect(db) as holder:
        holder.execute("LOCK TABLE t IN SHARE UPDATE EXCLUSIVE MODE")      # the application's DDL, say
        release = threading.Timer(1.0, holder.rollback)
        release.start()
        try:
            result = CliRunner().invoke(cli, ["apply", str(folder), "--dsn", db, "--format", "json",
                                              "--retries", "5"])
        finally:
            release.join()
    assert result.exit_code == 0, result.output
    warnings = json.loads(result.stdout)["warnings"]
    said = [w for w in warnings if w.startswith("lock timeout on CREATE INDEX CONCURRENTLY")]
    assert len(said) == 1 and "done on try " in said[0] and "(the last timeout: " in said[0], warnings
