"""--workload-dsn naming another database of the same cluster is refused in one line (p21, MEDIUM).

A replica's pg_stat_statements are merged in by queryid. A DSN reaching a staging database beside the
application's (same server, same table names) was merged all the same: on the chatwoot-shaped trial the
workload went from 36,061 to 158,402 calls, staging's traffic advising production's indexes, with no word.
A physical replica has the primary's system identifier and the same database names; another database of
the same cluster is told apart by its name.
"""

from __future__ import annotations

from typing import Any

import psycopg
from click.testing import CliRunner
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgtune.cli import cli

from .helpers import ORDERS_BY_USER, run, shop


def test_another_database_of_this_cluster_is_no_replica(db: str, conn: psycopg.Connection[Any]) -> None:
    shop(conn)
    run(conn, ORDERS_BY_USER, [(1,)], times=4)
    other = f"{conn.info.dbname}_staging"
    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(other)))
    try:
        staging = make_conninfo(db, dbname=other)
        with psycopg.connect(staging, autocommit=True) as s:
            s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--workload-dsn", staging, "--format", "json"])
        # Without the fix: exit 0, the staging database's statements counted as this one's.
        assert result.exit_code == 2 and result.stdout == "", result.output
        assert result.stderr.count("\n") == 1 and f"reaches database '{other}' of this same cluster" in result.stderr
        assert (conninfo_to_dict(db).get("password") or "\0") not in result.stderr
    finally:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(other)))
