"""--workload-dsn reaching the primary itself is refused in one line (r21, follows p21's other-database check).

A replica's pg_stat_statements are merged in by queryid, calls and time added. Given the primary's own DSN (by
another host name, another application_name) every statement was merged with itself: on PG15 12 calls each
became 24 and workload_ms 121.6 -> 243.2, with no word, while the tables' write counters (the upkeep the reads
are weighed against) stayed as they were. A physical replica has the primary's system identifier but a
postmaster of its own: the same start time is the same server.
"""

from __future__ import annotations

from typing import Any

import psycopg
from click.testing import CliRunner
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgtune.cli import cli

from .helpers import ORDERS_BY_USER, run, shop


def test_the_primary_is_no_replica_of_itself(db: str, conn: psycopg.Connection[Any]) -> None:
    shop(conn)
    run(conn, ORDERS_BY_USER, [(1,)], times=4)
    again = make_conninfo(db, application_name="replica1")
    result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--workload-dsn", again, "--format", "json"])
    # Without the fix: exit 0, each statement's calls counted twice.
    assert result.exit_code == 2 and result.stdout == "", result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"reaches database '{conn.info.dbname}' of this same server, not a replica" in result.stderr
    assert (conninfo_to_dict(db).get("password") or "\0") not in result.stderr
