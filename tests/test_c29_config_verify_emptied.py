"""verify of a config migration after a restart that emptied pg_stat_statements: one line, exit 1 (s32, LOW).

The restart that puts a setting in force empties pg_stat_statements where it does not save its entries
(``pg_stat_statements.save = off``, a crash). Without --window, verify then found none of the statements a
role's work_mem was set for, marked the row "ok … not-measured: the statements that spilled did not run in the
period" and exited 0, as if the spills had gone, with a period line that was not pg_stat_statements' own.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune import api
from pgtune.cli import cli
from pgtune.cluster import LocalCluster, find_bindir

from .test_config_restart import restart
from .test_config_symptoms import HARDWARE, SETTINGS

SORT = "SELECT count(*) FROM (SELECT t FROM big ORDER BY t OFFSET 1) s"



def spilled_and_applied(c: psycopg.Connection[Any], directory: Path) -> None:
    """A sort that spills twice, config's work_mem for it emitted to ``directory`` and its phase 1 applied."""
    c.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    c.execute("CREATE TABLE big AS SELECT g AS id, md5(g::text) AS t FROM generate_series(1, 300000) g")
    c.execute("SELECT pg_stat_statements_reset()")
    for _ in range(2):
        c.execute(SORT).fetchone()
    report = api.config(c, HARDWARE, emit=api.EmitOptions(directory=directory))
    assert any(p.setting == "work_mem" for p in report.proposals), report.proposals
    api.apply(c, directory, phase=1)

def test_verify_after_a_restart_that_emptied_pg_stat_statements_says_there_is_nothing_to_compare(
        tmp_path: Path) -> None:
    bindir = os.environ.get("PGTUNE_PG_BINDIR")
    cluster = LocalCluster(Path(bindir) if bindir else find_bindir(),
                           settings={**SETTINGS, "pg_stat_statements.save": "off"}).start()
    try:
        with psycopg.connect(cluster.dsn, autocommit=True) as c:
            spilled_and_applied(c, tmp_path / "m")     # the role's work_mem: nothing else to judge by
        before = CliRunner().invoke(cli, ["verify", str(tmp_path / "m"), "--dsn", cluster.dsn])
        assert "was emptied" not in before.output and "have not run since emit" in before.output, before.output
        time.sleep(1)   # the migration's stamp keeps whole seconds: a reset within emit's reads as before it
        restart(cluster)
        after = CliRunner().invoke(cli, ["verify", str(tmp_path / "m"), "--dsn", cluster.dsn])
        lines = [line for line in after.output.splitlines() if "nothing to compare" in line]
        assert len(lines) == 1, after.output
        assert lines[0].startswith("nothing to compare for work_mem: pg_stat_statements was emptied by the "
                                   "server's restart at "), lines[0]
        assert lines[0].endswith(" UTC, after emit, and the statements it was set for have not run since: run "
                                 "the workload, then verify again (or verify --window SECONDS while it runs)")
        assert after.exit_code == 1, after.output
        assert not [line for line in after.output.splitlines() if line.startswith("FAIL")], after.output
        # Once the statements run again, there is something to compare: the line goes, the row is judged.
        with psycopg.connect(cluster.dsn, autocommit=True) as c:
            c.execute(SORT).fetchone()
            checked = api.config_verify(c, tmp_path / "m")
        assert checked.emptied == ""
        assert next(x for x in checked.checks if x.name == "work_mem").outcome == "gone"
    finally:
        cluster.stop()
