"""What apply checks of the server before it changes anything: a primary, a session that may write, and a
version whose concurrent builds are safe."""

from __future__ import annotations

from typing import Any

import psycopg

from ..errors import ReadOnlyServer, UnsupportedServer


def check_server(conn: psycopg.Connection[Any]) -> None:
    check_version(conn.info.server_version)
    row = conn.execute("SELECT /* pgtune */ pg_catalog.pg_is_in_recovery()").fetchone()
    if row and row[0]:
        raise ReadOnlyServer("this server is a hot standby (in recovery): it cannot build indexes or "
                             "change constraints; apply and rollback on the primary")
    row = conn.execute("SELECT /* pgtune */ pg_catalog.current_setting('default_transaction_read_only')").fetchone()
    if row and row[0] == "on":
        # A primary, but this session may not write (the role's or the connection's setting): "run this on the
        # primary" would send the DBA looking for another server (u5).
        raise ReadOnlyServer("this session is read-only (default_transaction_read_only is on for this role or "
                             "connection): apply and rollback need a session that may write; connect as the "
                             "migration role, or set PGOPTIONS='-c default_transaction_read_only=off'")


def check_version(v: int) -> None:
    """Refuse concurrent builds where they can silently corrupt indexes."""
    if 140000 <= v < 140004:
        raise UnsupportedServer(
            f"PostgreSQL {v // 10000}.{v % 100} can corrupt indexes built CONCURRENTLY "
            "(fixed in 14.4): upgrade to 14.4 or later before applying")
