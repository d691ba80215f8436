"""check and suggest never read pg_file_settings where the role may not (p21, LOW).

A pg_monitor role (what docs/roles.md asks for; a managed server's monitoring role) may not read
pg_file_settings, superuser-only by default: the read of the list a restart will load was refused, and caught,
but the refusal was an ERROR in the server's log, twice per check and per suggest. The privilege is asked first.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from pgtune import capabilities
from pgtune.connect import connect


def test_a_monitoring_role_does_not_read_pg_file_settings(db: str, conn: psycopg.Connection[Any],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    me = f"p21mon_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'p21'; GRANT pg_monitor TO {}")
                 .format(sql.Identifier(me), sql.Identifier(me)))
    sent: list[str] = []
    real = psycopg.Connection.execute

    def recording(self: psycopg.Connection[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(query if isinstance(query, str) else repr(query))
        return real(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", recording)
    with connect(make_conninfo(db, user=me, password="p21")) as own:
        caps = capabilities.probe(own)
    assert caps.preload_pending is None and caps.preload_libraries
    # Without the fix: sql/preload_pending.sql was sent and refused (permission denied for view pg_file_settings).
    assert not [q for q in sent if "FROM pg_catalog.pg_file_settings" in q], sent
    sent.clear()
    caps = capabilities.probe(conn)        # a superuser still reads it
    assert [q for q in sent if "FROM pg_catalog.pg_file_settings" in q]
