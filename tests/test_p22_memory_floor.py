"""--memory below what a PostgreSQL server runs in (p22): `pgtune config --memory 0` proposed
effective_cache_size = '1kB' ("the server has 0 B"), `--profile oltp --memory 1MB` wrote shared_buffers = '1kB'
and maintenance_work_mem = '1kB' (PostgreSQL refuses both), and `--memory 16`, meant as 16GB, is 16 bytes.
Now each is one line, exit 2, before any work."""

from __future__ import annotations

from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune.cli import cli


def test_memory_below_a_servers_is_refused_in_one_line(conn: psycopg.Connection[Any]) -> None:
    runner = CliRunner()
    for args in (["--dsn", conn.info.dsn, "--memory", "0"], ["--dsn", conn.info.dsn, "--memory", "16"],
                 ["--profile", "oltp", "--memory", "1MB", "--cpus", "1", "--storage", "ssd"]):
        result = runner.invoke(cli, ["config", *args])
        assert result.exit_code == 2, (args, result.output)
        said = result.stderr.strip()
        assert "\n" not in said and "--memory" in said and "under 16MB" in said, said
        assert "1kB" not in result.output and "Traceback" not in result.output, result.output
    bare = runner.invoke(cli, ["config", "--dsn", conn.info.dsn, "--memory", "16"])
    assert "a bare number is bytes" in bare.stderr, bare.stderr
    fine = runner.invoke(cli, ["config", "--profile", "oltp", "--memory", "16GB", "--cpus", "4", "--storage", "ssd"])
    assert fine.exit_code == 0 and "shared_buffers = '4GB'" in fine.output, fine.output
