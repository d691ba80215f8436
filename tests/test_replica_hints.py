"""check and suggest say where the workload is not all on the server they read.

p16 (Papermark-shaped, analytics on a streaming standby): suggest on the primary gave advice for the primary's
statements only (the replica's, 11% of the measured time, are in the replica's pg_stat_statements) and nothing
pointed to --workload-dsn; on the standby, check and suggest did not say it is one, while its advice must be built
on the primary. A DROP INDEX pgtune ran on the primary (0.27 s there) stalled the standby's replay 30 s and then
cancelled its query on the table ("User was holding a relation lock for too long"); apply and rollback now say so
when standbys stream.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import psycopg
from click.testing import CliRunner

from pgtune.cli import cli

from .helpers import standby

STREAMING = "standby connection(s) stream from this server"
IN_RECOVERY = "this server is a hot standby"


def test_check_suggest_and_rollback_name_a_standby(tmp_path: Path) -> None:
    from pgtune.cluster import LocalCluster

    primary = LocalCluster(settings={"listen_addresses": "''"}).start()
    try:
        with psycopg.connect(primary.dsn, autocommit=True) as c:
            c.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            c.execute("CREATE TABLE t (id int PRIMARY KEY, v int)")
            c.execute("INSERT INTO t SELECT g, g % 100 FROM generate_series(1, 5000) g")
            c.execute("ANALYZE t")
        alone = CliRunner().invoke(cli, ["check", "--dsn", primary.dsn, "--format", "json"])
        assert json.loads(alone.stdout)["standbys"] == 0
        assert not any(STREAMING in h for h in json.loads(alone.stdout)["hints"])
        with standby(primary) as standby_dsn:
            for _ in range(100):
                if CliRunner().invoke(cli, ["check", "--dsn", primary.dsn, "--format", "json"]).stdout.count(
                        '"standbys": 1'):
                    break
                time.sleep(0.1)
            on_primary = CliRunner().invoke(cli, ["check", "--dsn", primary.dsn])
            assert STREAMING in on_primary.stdout + on_primary.stderr, on_primary.output
            on_standby = CliRunner().invoke(cli, ["check", "--dsn", standby_dsn, "--format", "json"])
            facts = json.loads(on_standby.stdout)
            assert facts["in_recovery"] is True
            assert any(IN_RECOVERY in h and "on the primary" in h for h in facts["hints"]), facts["hints"]
            with psycopg.connect(primary.dsn, autocommit=True) as c:
                for _ in range(5):
                    c.execute("SELECT id FROM t WHERE v = 3").fetchall()
            told = CliRunner().invoke(cli, ["suggest", "--dsn", primary.dsn, "--min-rows", "0"])
            assert told.exit_code == 0, told.stderr
            assert STREAMING in told.output + told.stderr
            given = CliRunner().invoke(cli, ["suggest", "--dsn", primary.dsn, "--min-rows", "0",
                                             "--workload-dsn", standby_dsn])
            assert given.exit_code == 0, given.stderr
            assert STREAMING not in given.output + given.stderr
            folder = str(tmp_path / "mig")
            emitted = CliRunner().invoke(cli, ["suggest", "--dsn", primary.dsn, "--min-rows", "0", "--emit", folder])
            assert emitted.exit_code == 0, emitted.stderr
            built = CliRunner().invoke(cli, ["apply", folder, "--dsn", primary.dsn])
            assert built.exit_code == 0 and "ACCESS EXCLUSIVE" not in built.stderr, built.stderr   # builds only
            dropped = CliRunner().invoke(cli, ["rollback", folder, "--dsn", primary.dsn])
            assert dropped.exit_code == 0, dropped.stderr
            assert "the 1 DROP INDEX / REINDEX run here replay an ACCESS EXCLUSIVE lock there" in dropped.stderr
    finally:
        primary.stop()
