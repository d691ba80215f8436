"""Errors raised by the pgtune library.

The library never prints or exits; the CLI maps these classes to one-line
messages and exit codes (1: a check failed, 2: usage or connection error, 130: interrupted).
"""

from __future__ import annotations

from typing import Any

from ._text import error_text


class PgtuneError(Exception):
    """Base class; ``exit_code`` is what the CLI returns for it."""

    exit_code = 2

    def with_exit(self, code: int) -> PgtuneError:
        """The same error with another exit code (instance-level)."""
        self.exit_code = code
        return self


class InputError(PgtuneError):
    """An input file or option cannot be used as given (exit 2: usage)."""


class ConnectionFailed(PgtuneError):
    """The server could not be reached or refused us (password already redacted)."""


class MissingCapability(PgtuneError):
    """An extension, setting or privilege pgtune needs is absent; the message names the fix."""


class UnsupportedServer(PgtuneError):
    """The server version cannot run what was asked (e.g. concurrent builds on 14.0-14.3)."""


class MigrationError(PgtuneError):
    """A migration folder is unreadable or inconsistent."""


class ChecksumMismatch(MigrationError):
    """A migration file was edited after emit; applying it would run unreviewed SQL."""

    exit_code = 1


class ApplyFailed(PgtuneError):
    """A statement failed while applying or rolling back; the history says which."""

    exit_code = 1


class LockBusy(PgtuneError):
    """Another pgtune applier holds the advisory lock on this database."""

    exit_code = 1


class ClusterError(PgtuneError):
    """A throwaway local cluster (demo, tests) could not be created or started."""


class ReadOnlyServer(PgtuneError):
    """The server is a hot standby (or read-only): changes go to the primary."""


class Interrupted(PgtuneError):
    """The user interrupted a run (Ctrl-C); what was half done has been cleaned up.

    130 (128 + SIGINT), as a shell reports a command Ctrl-C stopped: a script
    must not read an interruption as "a check failed" (1)."""

    exit_code = 130


_interrupts = 0      # SIGINTs the command's handler (count_interrupt) has seen in this process


def count_interrupt(signum: int, frame: Any) -> None:
    """The CLI's SIGINT handler: Python's own (KeyboardInterrupt), counted. Raised inside psycopg as it ends a
    pipeline, the KeyboardInterrupt becomes a psycopg.Error ("cannot exit pipeline mode with uncollected results")
    that a statement's error handling can take for that statement's failure; the count still says Ctrl-C came."""
    global _interrupts
    _interrupts += 1
    raise KeyboardInterrupt


def interrupts() -> int:
    """How many SIGINTs count_interrupt has seen (0 where it is not installed: a library caller's process)."""
    return _interrupts


def interrupted_by(exc: BaseException) -> bool:
    """Was ``exc`` raised while a Ctrl-C (KeyboardInterrupt) was unwinding? A cleanup's statement on a session the
    interrupt left mid-protocol (its pipeline half closed: "PQsendQuery not allowed in pipeline mode") fails, and
    that failure replaced the interrupt (c20). The interrupt is what happened."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        todo += [e.__context__, e.__cause__]
    return False


class DatabaseError(PgtuneError):
    """A server error that is not about one statement pgtune chose to skip.

    ``sqlstate`` keeps the server's code; the message is one line.
    """

    exit_code = 1

    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def from_psycopg(exc: Exception) -> PgtuneError:
    """One clear, classified error for a psycopg exception (never a traceback).

    The class decides the words and the exit code: a lost connection, a
    statement timeout or a missing privilege is about the environment (2); any
    other server error is reported with its SQLSTATE (1).
    """
    state = getattr(exc, "sqlstate", None)
    text = error_text(exc)
    if state is None or state.startswith("08") or state in ("57P01", "57P02", "57P03"):
        return ConnectionFailed(f"connection to the server lost: {text}; re-run to continue")
    if state == "57014":
        return DatabaseError(f"the server cancelled a statement ({text}): statement_timeout is too low for "
                             "pgtune's role, or someone cancelled it; raise it for this run, e.g. "
                             "PGOPTIONS='-c statement_timeout=0'", state).with_exit(2)
    if state == "55P03":
        return DatabaseError(f"gave up waiting for a lock ({text}): another session holds it; "
                             "retry when it is released", state)
    if state == "42501":
        return DatabaseError(f"permission denied: {text}", state).with_exit(2)
    if state == "25006":
        return ReadOnlyServer(f"read-only ({text}): on a standby, run this on the primary; on the primary, the "
                              "session's default_transaction_read_only is on (the role's or the connection's)")
    return DatabaseError(f"database error [{state}]: {text}", state)
