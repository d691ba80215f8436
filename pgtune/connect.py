"""Opening connections the libpq way, without ever leaking a password.

Order of precedence: an explicit ``--dsn``; else ``DATABASE_URL``; else an empty
conninfo, which lets libpq read ``PG*`` variables, the service file and ``.pgpass``.
"""

from __future__ import annotations

import os
import re
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from ._text import error_text
from .errors import ConnectionFailed, from_psycopg

APPLICATION_NAME = "pgtune"


def resolve_dsn(dsn: str | None) -> str:
    """Return the conninfo to use: the given one, DATABASE_URL, or '' (libpq defaults)."""
    if dsn:
        return dsn
    return os.environ.get("DATABASE_URL", "")


def _secrets(dsn: str) -> list[str]:
    """Every password-like string that could appear in an error about ``dsn``."""
    found: list[str] = []
    try:
        pw = conninfo_to_dict(dsn).get("password")
        if pw:
            found.append(str(pw))
    except Exception:
        pass
    # An unparsable DSN still may carry one: URL userinfo or a password= pair.
    m = re.search(r"://[^:/@\s]*:([^@\s]*)@", dsn)
    if m and m.group(1):
        found.append(m.group(1))
    m = re.search(r"password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", dsn)
    if m:
        found.append(m.group(1).strip("'"))
    env_pw = os.environ.get("PGPASSWORD")
    if env_pw:
        found.append(env_pw)
    return sorted({s for s in found if s}, key=len, reverse=True)


def redact(text: str, dsn: str) -> str:
    """Replace any password of ``dsn`` (or PGPASSWORD) found in ``text`` by ``***``."""
    for secret in _secrets(dsn):
        text = text.replace(secret, "***")
    return text


def describe(dsn: str) -> str:
    """A short, password-free label for where we connect: ``user@host:port/dbname``."""
    try:
        params: dict[str, Any] = conninfo_to_dict(dsn)
    except Exception:
        return "(unparsable DSN)"
    host = params.get("host") or os.environ.get("PGHOST") or "local socket"
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    user = params.get("user") or os.environ.get("PGUSER") or ""
    db = params.get("dbname") or os.environ.get("PGDATABASE") or user
    return f"{user}@{host}:{port}/{db}" if user else f"{host}:{port}/{db}"


def connect(dsn: str | None = None, *, autocommit: bool = True, connect_timeout: int = 10) -> psycopg.Connection[Any]:
    """Connect, turning every failure into one redacted line.

    Autocommit is the default: pgtune runs CREATE INDEX CONCURRENTLY, which
    refuses to run inside a transaction block.
    """
    conninfo = resolve_dsn(dsn)
    try:
        conn = psycopg.connect(
            conninfo,
            autocommit=autocommit,
            connect_timeout=connect_timeout,
            application_name=APPLICATION_NAME,
        )
    except psycopg.Error as exc:
        first = error_text(exc)
        raise ConnectionFailed(
            f"cannot connect to {describe(conninfo)}: {redact(first, conninfo)}"
        ) from None
    try:
        force_session_settings(conn)
    except psycopg.Error as exc:
        conn.close()
        raise from_psycopg(exc) from None
    return conn


# pgtune's own statements must never feed pg_qualstats: its sampling of a forced generic plan of a
# partitioned join crashes the backend (pg_qualstats 2.0.4, signal 11), its table is small and fills
# (pg_qualstats.max), and pgtune's own EXPLAINs would come back as "the workload's constants".
# Set only where the setting exists: SET on an unknown name would create a placeholder.
QUALSTATS_OFF = ("SELECT /* pgtune */ pg_catalog.set_config('pg_qualstats.enabled', 'off', {local}) "
                 "WHERE pg_catalog.current_setting('pg_qualstats.enabled', true) IS NOT NULL")


def lost(conn: psycopg.Connection[Any]) -> bool:
    """Is the connection gone (closed, or broken by a server or network failure)? Then nothing more can be
    run or recorded on it, and the caller stops rather than going on to its next statement. Decided here only."""
    return conn.broken or conn.closed


def force_session_settings(conn: psycopg.Connection[Any]) -> None:
    """Settings every pgtune session needs, whatever the role or database defaults say.

    pglast reads string literals with ``standard_conforming_strings = on`` (a
    backslash is just a character); a server reading them otherwise would see
    other statements in the same text. pg_qualstats is off for the session
    (see QUALSTATS_OFF).
    """
    conn.execute("SET /* pgtune */ standard_conforming_strings = on")
    conn.execute(QUALSTATS_OFF.format(local="false"))
