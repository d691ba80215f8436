"""A statement only a read replica runs is planned with the constants the replica's pg_qualstats saw.

p16 (Papermark-shaped, analytics on a streaming standby, --workload-dsn): a team's views over an interval, 30%
of the calls for one team holding 30% of the rows, ran only on the standby; pgtune read pg_qualstats on the
primary alone, so it planned the statement with pg_stats' small team: "planner cost 21.2x lower" for a 77 MB
index, where the application's own values measured no gain (36.6 -> 42.2 ms and 3.0 -> 2.6 ms a call).
"""

from __future__ import annotations

import json
import time

import psycopg
import pytest
from click.testing import CliRunner

from pgtune.cli import cli

from .helpers import standby

pytestmark = pytest.mark.needs_qualstats

STATEMENT = 'SELECT id FROM "View" WHERE "teamId" = %s AND "viewedAt" >= now() - interval \'7 days\''


def test_a_replica_only_statement_is_planned_with_the_replicas_constants() -> None:
    from pgtune.cluster import LocalCluster

    primary = LocalCluster(settings={"listen_addresses": "''"}).start()
    try:
        with psycopg.connect(primary.dsn, autocommit=True) as c:
            c.execute("CREATE EXTENSION pg_stat_statements; CREATE EXTENSION pg_qualstats")
            c.execute('CREATE TABLE "View" (id int PRIMARY KEY, "teamId" int NOT NULL, "viewedAt" timestamptz)')
            c.execute('INSERT INTO "View" SELECT g, CASE WHEN g % 10 < 3 THEN 1 ELSE 2 + g % 2000 END, '
                      "now() - g * interval '10 s' FROM generate_series(1, 60000) g")
            c.execute('CREATE INDEX ON "View" ("teamId"); ANALYZE "View"')
        with standby(primary) as standby_dsn:
            with psycopg.connect(standby_dsn, autocommit=True) as s:
                for _ in range(100):
                    if s.execute("SELECT to_regclass('\"View\"') IS NOT NULL").fetchone() == (True,):
                        break
                    time.sleep(0.1)
                s.execute("SELECT pg_stat_statements_reset(), pg_qualstats_reset()")
                for i in range(40):         # the big team in 3 calls of 4
                    s.execute(STATEMENT, (1 if i % 4 else 3 + i,)).fetchall()
            out = CliRunner().invoke(cli, ["suggest", "--dsn", primary.dsn, "--workload-dsn", standby_dsn,
                                           "--format", "json", "--min-rows", "0"])
            assert out.exit_code == 0, out.stderr
            [st] = [s for s in json.loads(out.stdout)["statements"] if '"teamId"' in s["query"]]
            assert st["calls"] == 40
            seen = {(x["source"], x["values"].get("$1")) for x in st["scenarios"]}
            assert ("qualstats", "1") in seen, st["scenarios"]
    finally:
        primary.stop()
