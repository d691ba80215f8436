"""A workload statement with ``FOR UPDATE OF alias`` and a ``$n`` stops suggest no more (p21, HIGH).

22facb4 kept FOR UPDATE OF's names out of the walk by giving LockingClause no node fields in
sqltext._CHILDREN, which printing's ancestor links (sqltext._link) read as well: the names were left
unlinked and pglast's printer failed on them ('RangeVar' object has no attribute 'ancestors'), an
internal error (exit 1) for the whole suggest run. A job queue's ``… FOR UPDATE OF jobs SKIP LOCKED``,
or the foreign keys' own ``SELECT 1 FROM ONLY … x WHERE … = $1 FOR KEY SHARE OF x`` that
pg_stat_statements records with ``track = all``, was enough.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune.cli import cli

from .helpers import steady_state


def test_for_update_of_alias_with_a_parameter(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE jobs (id bigint PRIMARY KEY, queue int NOT NULL, state text NOT NULL, body text)")
    conn.execute("INSERT INTO jobs SELECT g, g % 500, CASE WHEN g % 50 = 0 THEN 'ready' ELSE 'done' END, 'b' || g "
                 "FROM generate_series(1, 50000) g")
    conn.execute("ANALYZE jobs")
    steady_state(conn)
    for queue in range(12):
        conn.execute("SELECT j.id, j.body FROM jobs AS j WHERE j.queue = %s AND j.state = 'ready' "
                     "ORDER BY j.id LIMIT 5 FOR UPDATE OF j SKIP LOCKED", (queue,)).fetchall()
    result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--no-constraints", "--format", "json"])
    # Without the fix: exit 1, "internal error (AttributeError: 'RangeVar' object has no attribute 'ancestors')".
    assert result.exit_code == 0, result.stderr
    advice = json.loads(result.stdout)
    served = [ix for ix in advice["indexes"] if ix["table"].endswith("jobs")]
    assert served and served[0]["columns"][0] == "queue", advice["indexes"]
