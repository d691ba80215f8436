"""A what-if session's memory is read only where pgtune's role may read it: no ERROR in the server's log.

analyze.pool reads pg_backend_memory_contexts to recycle a grown what-if
session; PostgreSQL 15 grants the view to pg_read_all_stats only. A role
without it (a --queries run as the application's login) got a "permission
denied" ERROR per session in the server's log, where a DBA's alerting looks.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgtune.analyze.pool import backend_bytes

from .helpers import login_roles
from .test_temporary_probes import errors, traced


def test_a_role_that_may_not_read_backend_memory_is_not_asked(db: str, conn: psycopg.Connection[Any]) -> None:
    assert (backend_bytes(conn) or 0) > 0                 # the test's superuser may: the figure is there
    with login_roles(conn, "app") as [role]:
        params = conninfo_to_dict(db)
        params["user"] = role
        with psycopg.connect(make_conninfo("", **params), autocommit=True) as app, traced(app) as lines:
            assert backend_bytes(app) is None
        assert lines and not errors(lines), errors(lines)
