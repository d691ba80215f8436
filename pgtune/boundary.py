"""The library's boundary (pgtune.api): what leaves a call is a pgtune error, or Ctrl-C with the session settled."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

import psycopg

from . import catalog_sql
from .connect import force_session_settings, lost
from .errors import Interrupted, from_psycopg, interrupted_by, interrupts

P = ParamSpec("P")
R = TypeVar("R")


def library_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """The library raises pgtune.errors only: a server error leaves as one classified PgtuneError.

    The connection a call is given becomes a pgtune session first (connect.force_session_settings):
    whoever opened it, pgtune's statements read literals as pglast does and never feed pg_qualstats.
    """
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        conn = args[0] if args and isinstance(args[0], psycopg.Connection) else None
        before = interrupts()
        try:
            if conn is not None:
                force_session_settings(conn)
            result = fn(*args, **kwargs)
        except KeyboardInterrupt:
            _settle(conn)
            raise
        except Interrupted:
            raise                       # said already what Ctrl-C left (apply: the phase, its leftover)
        except Exception as exc:
            # Ctrl-C came: what failed since is its aftermath (a cleanup's statement, or the next one, on a session
            # the interrupt left mid-protocol: "PQsendQuery not allowed in pipeline mode", exit 2; psycopg's
            # "pop from an empty deque", an internal error), not the error to report (c20).
            if interrupted_by(exc) or interrupts() != before:
                _settle(conn, broken=True)
                raise KeyboardInterrupt from None
            if isinstance(exc, psycopg.Error):
                raise from_psycopg(exc) from None
            raise
        if interrupts() != before:      # psycopg turned it into an error a statement's handling took as its own
            _settle(conn, broken=True)
            raise KeyboardInterrupt
        return result
    return wrapper


def without_jit(fn: Callable[Concatenate[psycopg.Connection[Any], P], R]
                ) -> Callable[Concatenate[psycopg.Connection[Any], P], R]:
    """A command that reads and plans, times nothing: all its statements with JIT off (catalog_sql.uncompiled).

    Its catalog reads are priced far over jit_above_cost on a big catalog, and compiling them was most of
    their time; its EXPLAINs' plans are the same with JIT off. A command that times the workload's statements
    (verify --measure, suggest's baselines) turns it off around its catalog reads only.
    """
    @functools.wraps(fn)
    def wrapper(conn: psycopg.Connection[Any], /, *args: P.args, **kwargs: P.kwargs) -> R:
        with catalog_sql.uncompiled(conn):
            return fn(conn, *args, **kwargs)
    return wrapper


def _settle(conn: psycopg.Connection[Any] | None, broken: bool = False) -> None:
    """After Ctrl-C: the caller's connection usable or closed. Interrupted inside psycopg, a session can be left in
    libpq's pipeline mode with psycopg's pipeline gone, or with a result unread, where its next statement fails
    ("PQsendQuery not allowed in pipeline mode"); such a session is closed (c20)."""
    if conn is None or lost(conn):
        return
    if broken or conn.pgconn.pipeline_status != psycopg.pq.PipelineStatus.OFF or \
            conn.info.transaction_status in (psycopg.pq.TransactionStatus.ACTIVE, psycopg.pq.TransactionStatus.UNKNOWN):
        conn.close()
