"""p29: suggest on a hot standby tries no extended statistics: ANALYZE cannot run there.

On an Immich-shaped PostgreSQL 15 hot standby, each `pgtune suggest` left "ERROR: cannot execute ANALYZE during
recovery" in the standby's log (3 runs, 3 ERROR lines) and a hint quoting the server's error: the trial of
extended statistics on asset (CREATE STATISTICS, ANALYZE) was sent to a server that can write nothing.
"""

from __future__ import annotations

import time

import psycopg

from pgtune import api
from pgtune.analyze import Options

from .helpers import primary_and_standby
from .test_extended_statistics import COMMENTS, TASKS


def test_a_standby_is_not_sent_the_statistics_trial() -> None:
    with primary_and_standby() as (primary, standby_dsn):
        with psycopg.connect(primary.dsn, autocommit=True) as p:
            p.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            p.execute(TASKS)
        with psycopg.connect(standby_dsn, autocommit=True) as s:
            for _ in range(600):     # replayed: the table and its statistics are there
                if s.execute("SELECT count(*) FROM pg_stats WHERE tablename = 'Task'").fetchone() != (0,):
                    break
                time.sleep(0.1)
            s.execute("SELECT pg_stat_statements_reset()")
            for _ in range(20):
                s.execute(COMMENTS.replace("$1", "%s").replace("$2", "%s"), (5, 53)).fetchall()
            advice = api.suggest(s, api.SuggestOptions(Options(), constraints=False)).indexes
        log = (primary.root / "standby.log").read_text()
        assert "ERROR" not in log, log
        hints = [h for h in advice.hints if "extended statistics" in h]
        assert hints == ['extended statistics on public."Task" not tried: this server is a hot standby, where '
                         'CREATE STATISTICS and ANALYZE cannot run: run suggest on the primary, with this '
                         "server's workload by --workload-dsn"], advice.hints
