"""A read of a table's rows health makes before it emits a step (a rebuild, a VALIDATE), bounded in time.

Counting the rows that would break a step can read a whole table: it runs under a short statement_timeout and
lock_timeout of its own, and what it could not learn in time is not known (the step is emitted as before).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import errors, sql

from .._text import error_text
from ..connect import lost

CHECK_TIMEOUT = "5s"     # the read's statement_timeout (and lock_timeout)


@dataclass(frozen=True)
class Read:
    """The read ran in time: its first row (None: it returned none)."""

    row: tuple[Any, ...] | None


def bounded(conn: psycopg.Connection[Any], query: sql.Composed | sql.SQL) -> Read | str | None:
    """``query``'s first row within CHECK_TIMEOUT; None when it took longer or was refused (a lock, a privilege);
    the server's error text when computing a row failed (a division by zero, a cast)."""
    try:
        with conn.transaction():
            for setting in ("statement_timeout", "lock_timeout"):
                conn.execute("SELECT /* pgtune */ pg_catalog.set_config(%s, %s, true)", (setting, CHECK_TIMEOUT))
            return Read(conn.execute(query).fetchone())
    except (errors.QueryCanceled, errors.LockNotAvailable, errors.InsufficientPrivilege):
        return None
    except psycopg.Error as exc:
        if lost(conn):
            raise
        return error_text(exc)
