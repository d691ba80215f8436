"""config verify without --window right after apply: the spills counted are all from before emit (c29, LOW).

pg_stat_statements counts from its last reset. Right after apply, without --window, verify judged a role's new
work_mem on the calls that made emit propose it: "FAIL … persists {"calls": 2, …}", exit 1, though no statement
had run with the setting, and still "persists" after the sort ran with it and wrote nothing. Nothing has run
since emit: one line says there is nothing to compare yet; once the statement runs again it is judged on what it
did since emit.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
from click.testing import CliRunner

from pgtune import api
from pgtune.cli import cli
from pgtune.cluster import LocalCluster, find_bindir

from .test_c29_config_verify_emptied import SORT, spilled_and_applied
from .test_config_symptoms import SETTINGS


def test_verify_right_after_apply_does_not_judge_the_setting_on_calls_from_before_emit(tmp_path: Path) -> None:
    bindir = os.environ.get("PGTUNE_PG_BINDIR")
    cluster = LocalCluster(Path(bindir) if bindir else find_bindir(), settings=dict(SETTINGS)).start()
    try:
        with psycopg.connect(cluster.dsn, autocommit=True) as c:
            spilled_and_applied(c, tmp_path / "m")
        out = CliRunner().invoke(cli, ["verify", str(tmp_path / "m"), "--dsn", cluster.dsn])
        assert not [line for line in out.output.splitlines() if line.startswith("FAIL")], out.output
        lines = [line for line in out.output.splitlines() if "nothing to compare" in line]
        assert len(lines) == 1 and lines[0].startswith(
            "nothing to compare for work_mem: the statements it was set for have not run since emit "
            "(pg_stat_statements counts since "), out.output
        assert out.exit_code == 1, out.output
        with psycopg.connect(cluster.dsn, autocommit=True) as c:
            c.execute(SORT).fetchone()                 # a session of the role: the new work_mem
            checked = api.config_verify(c, tmp_path / "m")
        work_mem = next(x for x in checked.checks if x.name == "work_mem")
        assert checked.emptied == "" and work_mem.outcome == "gone", work_mem
        assert work_mem.now == {"calls": 1, "temp_bytes": 0}, work_mem
    finally:
        cluster.stop()
