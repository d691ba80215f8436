"""Errors raised by the pgtune library.

The library never prints or exits; the CLI maps these classes to one-line
messages and exit codes (1: a check failed, 2: usage or connection error).
"""

from __future__ import annotations


class PgtuneError(Exception):
    """Base class; ``exit_code`` is what the CLI returns for it."""

    exit_code = 2


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
