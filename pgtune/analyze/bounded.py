"""A read of a table's rows health makes before it emits a step (a rebuild, a VALIDATE), bounded in time.

Counting the rows that would break a step can read a whole table: it runs under a short statement_timeout and
lock_timeout of its own, and what it could not learn in time is not known (the step is emitted as before).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import errors, pq, sql

from .._text import error_text
from ..connect import lost

CHECK_TIMEOUT = "5s"     # the read's statement_timeout (and lock_timeout)
_LIMITS = ("SELECT /* pgtune */ pg_catalog.current_setting('statement_timeout'), "
           "pg_catalog.current_setting('lock_timeout'), pg_catalog.set_config('statement_timeout', %(limit)s, true), "
           "pg_catalog.set_config('lock_timeout', %(limit)s, true)")
_RESTORE = ("SELECT /* pgtune */ pg_catalog.set_config('statement_timeout', %(statement)s, true), "
            "pg_catalog.set_config('lock_timeout', %(lock)s, true)")


@dataclass(frozen=True)
class Read:
    """The read ran in time: its first row (None: it returned none)."""

    row: tuple[Any, ...] | None


def bounded(conn: psycopg.Connection[Any], query: sql.Composed | sql.SQL) -> Read | str | None:
    """``query``'s first row within CHECK_TIMEOUT; None when it took longer or was refused (a lock, a privilege);
    the server's error text when computing a row failed (a division by zero, a cast)."""
    # In a caller's transaction this one is a savepoint, whose SET LOCAL would last to the caller's end (r22).
    outer = conn.info.transaction_status != pq.TransactionStatus.IDLE
    try:
        with conn.transaction():
            row = conn.execute(_LIMITS, {"limit": CHECK_TIMEOUT}).fetchone()
            read = Read(conn.execute(query).fetchone())
            if outer and row is not None:
                conn.execute(_RESTORE, {"statement": row[0], "lock": row[1]})
            return read
    except (errors.QueryCanceled, errors.LockNotAvailable, errors.InsufficientPrivilege):
        return None
    except psycopg.Error as exc:
        if lost(conn):
            raise
        return error_text(exc)
