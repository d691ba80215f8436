"""verify on a hot standby: its own last-ANALYZE times are not the statistics its planner reads.

p16 (Papermark-shaped, analytics read on a streaming standby): verify --measure pointed at the standby after an
apply on the primary said "statistics of pm.View predate its new index: run ANALYZE pm.View" for every table
apply had analyzed: a standby's pg_stat_user_tables never shows an ANALYZE (it replays the primary's
statistics), and ANALYZE is refused there (cannot execute ANALYZE during recovery).
"""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
from click.testing import CliRunner

from pgtune import plan
from pgtune.capture import read_queries_file
from pgtune.cli import cli

from .helpers import primary_and_standby, suggest


def test_verify_on_a_standby_does_not_ask_for_an_analyze_the_primary_ran(tmp_path: Path) -> None:
    with primary_and_standby() as (primary, standby_dsn):
        folder = tmp_path / "mig"
        with psycopg.connect(primary.dsn, autocommit=True) as c:
            c.execute('CREATE TABLE "View" (id int PRIMARY KEY, "teamId" int, "viewedAt" timestamptz)')
            c.execute('INSERT INTO "View" SELECT g, g % 300, now() - g * interval \'1 min\' '
                      'FROM generate_series(1, 20000) g')
            c.execute('ANALYZE "View"')
            m = plan.build(suggest(c, read_queries_file('SELECT id FROM "View" WHERE "teamId" = 7')))
            plan.emit(m, folder)
        applied = CliRunner().invoke(cli, ["apply", str(folder), "--dsn", primary.dsn])
        assert applied.exit_code == 0, applied.stderr
        with psycopg.connect(primary.dsn, autocommit=True) as c:
            done = c.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]     # every record made so far
        on_primary = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", primary.dsn])
        assert on_primary.exit_code == 0, on_primary.output
        assert "predate its new index" not in on_primary.output      # apply analyzed it
        with psycopg.connect(standby_dsn, autocommit=True) as s:
            for _ in range(300):        # the build, its validation and its ANALYZE replayed
                if s.execute("SELECT count(*) FILTER (WHERE indisvalid), pg_last_wal_replay_lsn() >= %s "
                             "FROM pg_index WHERE indrelid = '\"View\"'::regclass", (done,)).fetchone() == (2, True):
                    break
                time.sleep(0.1)
        on_standby = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", standby_dsn])
        assert on_standby.exit_code == 0, on_standby.output
        assert "predate its new index" not in on_standby.output, on_standby.output
        assert "run ANALYZE" not in on_standby.output
