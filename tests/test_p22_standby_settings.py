"""A config migration emitted on a hot standby (p22): apply there said "apply and rollback on the primary",
where ALTER SYSTEM would change the primary's settings and never the standby's (postgresql.auto.conf is
not replicated). pgtune cannot record its history on a standby, so the refusal now names the scripts to
run on the standby by hand, where ALTER SYSTEM works, and the scripts do work there."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import psycopg
from click.testing import CliRunner

from pgtune.cli import cli

from .helpers import primary_and_standby


def test_settings_of_a_standby_are_not_sent_to_the_primary(tmp_path: Path) -> None:
    folder = tmp_path / "settings"
    with primary_and_standby() as (primary, standby_dsn):
        with psycopg.connect(primary.dsn, autocommit=True) as c:
            c.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        time.sleep(1.0)
        runner = CliRunner()
        emitted = runner.invoke(cli, ["config", "--dsn", standby_dsn, "--memory", "16GB", "--cpus", "2",
                                      "--storage", "ssd", "--emit", str(folder)])
        assert emitted.exit_code == 0, emitted.output
        up = (folder / "01_up.sql").read_text()
        assert "ALTER SYSTEM SET random_page_cost" in up, up
        for command in ("apply", "rollback"):
            result = runner.invoke(cli, [command, str(folder), "--dsn", standby_dsn])
            assert result.exit_code == 2, result.output
            said = result.stderr.strip()
            assert "\n" not in said and "hot standby" in said, said
            assert "on the primary" not in said and "01_up.sql" in said and "by hand" in said, said
        # What the refusal says works: the script, run by hand on the standby, changes the standby's setting.
        psql = primary.bindir / "psql"
        out = subprocess.run([str(psql), "-X", "-v", "ON_ERROR_STOP=1", "-d", standby_dsn, "-f",
                              str(folder / "01_up.sql")], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        with psycopg.connect(standby_dsn, autocommit=True) as s:
            row = s.execute("SELECT current_setting('random_page_cost')").fetchone()
            assert row is not None and row[0] == "1.1"
        with psycopg.connect(primary.dsn, autocommit=True) as p:
            row = p.execute("SELECT current_setting('random_page_cost')").fetchone()
            assert row is not None and row[0] == "4"
