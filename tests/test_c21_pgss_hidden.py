"""Other roles' statements, <insufficient privilege> to a role without pg_read_all_stats, are counted apart (c21).

check's pg_stat_statements count (the statements that may hold predicates, which sizes pg_qualstats.max) counted
them as the role's own: their text hidden, neither pgtune's tag nor a utility statement could be told, so a role
seeing none of the application's statements was told pg_stat_statements tracks 3 (a reset among them).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from pgtune.capabilities import probe


def test_hidden_statements_are_counted_apart(db: str, conn: psycopg.Connection[Any]) -> None:
    role = f"c21_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    conn.execute("CREATE TABLE t (id int, k int)")
    conn.execute("SELECT pg_stat_statements_reset()")
    for i in range(3):      # the application's statements, as another role (the superuser here)
        conn.execute("SELECT * FROM t WHERE k = %s AND id > 3", (i,))
    conn.execute("SELECT * FROM t WHERE id = 5")
    with psycopg.connect(db, user=role, autocommit=True) as low:
        caps = probe(low)
    assert not caps.reads_all_stats
    assert caps.pgss_hidden is not None and caps.pgss_hidden >= 3, caps      # the reset and the two selects
    if caps.qualstats_installed:        # pg_stat_statements' statements that may hold predicates: counted there only
        assert caps.pgss_statements == 0, caps       # none it can read
        assert caps.pgss_tracked == caps.pgss_hidden     # pg_qualstats.max is still sized for them
    [missing] = [p for p in caps.problems() if p.startswith(f"role {role!r} sees only its own")]
    assert f"{caps.pgss_hidden:,} of pg_stat_statements' {caps.pgss_entries:,} statements are <insufficient " \
           "privilege> to it: counted apart" in missing, missing
