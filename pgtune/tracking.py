"""pgtune's own statements kept out of pg_stat_statements, where the role may (p19)."""

from __future__ import annotations

from typing import Any

import psycopg

# pgtune's own statements must not take pg_stat_statements' entries either: at pg_stat_statements.max
# (dealloc > 0) every entry pgtune adds (its catalog reads, PREPAREs, BEGIN/ROLLBACK, set_config) evicts the
# least-used of the application's, so one suggest run cut a 141-entry workload to 22 entries (p19) and the next
# run read what was left. The setting is superuser-only (PGC_SUSET): turned off where the role may set it (a
# superuser, or on 15+ a GRANT SET ON PARAMETER), in sessions pgtune opens itself; a caller's own connection
# keeps what it tracks. CASE, not AND: has_parameter_privilege (15+) raises on a name the server does not know.
UNTRACKED = ("CASE WHEN pg_catalog.current_setting('pg_stat_statements.track', true) IS NULL THEN false "
             "WHEN (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN true "
             "ELSE {granted} END")


def _may_untrack(conn: psycopg.Connection[Any]) -> str:
    granted = ("pg_catalog.has_parameter_privilege('pg_stat_statements.track', 'SET')"
               if conn.info.server_version >= 150000 else "false")
    return UNTRACKED.format(granted=granted)


def untrack_statements(conn: psycopg.Connection[Any]) -> None:
    """Keep this pgtune session's statements out of pg_stat_statements where the role may (see UNTRACKED)."""
    conn.execute("SELECT /* pgtune */ pg_catalog.set_config('pg_stat_statements.track', 'none', false) "
                 f"WHERE {_may_untrack(conn)}")


def may_untrack(conn: psycopg.Connection[Any]) -> bool:
    """May this role keep its sessions' statements out of pg_stat_statements (UNTRACKED's condition)?"""
    row = conn.execute(f"SELECT /* pgtune */ {_may_untrack(conn)}").fetchone()
    return bool(row and row[0])
