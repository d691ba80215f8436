"""Opening connections the libpq way, without ever leaking a password.

Order of precedence: an explicit ``--dsn``; else ``DATABASE_URL``; else an empty
conninfo, which lets libpq read ``PG*`` variables, the service file and ``.pgpass``.
"""

from __future__ import annotations

import difflib
import os
import re
import select
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import errors as pgerrors
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import ExecStatus, PipelineStatus, TransactionStatus
from psycopg.rows import dict_row

from . import catalog_sql
from ._text import error_text, one_line, said_once
from .errors import ConnectionFailed, DatabaseError, InputError, from_psycopg, interrupted_by
from .tracking import untrack_statements

APPLICATION_NAME = "pgtune"


def resolve_dsn(dsn: str | None) -> str:
    """Return the conninfo to use: the given one, DATABASE_URL, or '' (libpq defaults).

    As given: ``connect`` reads a Prisma URL's own parameters (``from_prisma``).
    """
    return dsn or os.environ.get("DATABASE_URL", "")


# Prisma's connection-URL parameters that only its pool reads: pgtune opens a session or two of its own.
PRISMA_POOL = frozenset({"connection_limit", "pool_timeout", "socket_timeout", "statement_cache_size",
                         "max_connection_lifetime", "max_idle_connection_lifetime"})
PRISMA_ONLY = frozenset({"sslidentity", "sslpassword", "sslaccept"})


def from_prisma(url: str) -> str:
    """A postgres:// URL as Prisma Client reads it, as a URL libpq accepts.

    ``schema=app`` is the search_path Prisma gives its sessions: pgtune's
    session gets it too once connected (``_schema_path``), so unqualified names
    resolve as the application's do. Pool settings are dropped.
    ``pgbouncer=true`` is refused: a transaction pooler hands each statement
    to any server session, and pgtune's hypothetical indexes and session
    settings must stay in one (use Prisma's directUrl). Prisma's PKCS#12
    client identity has no libpq equivalent: refused, never silently dropped.
    """
    try:
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return url          # libpq says what is wrong with it
    if parts.scheme not in ("postgres", "postgresql") or not pairs:
        return url
    names = {k for k, _ in pairs}
    _known(names)
    if not names & (PRISMA_POOL | PRISMA_ONLY | {"schema", "pgbouncer"}):
        return url
    if any(k == "pgbouncer" and v.lower() == "true" for k, v in pairs):
        raise InputError("the URL has pgbouncer=true (a transaction pooler): pgtune's what-if indexes and "
                         "settings live in one server session; give the direct connection (Prisma's directUrl) "
                         "with --dsn")
    refused = sorted(names & PRISMA_ONLY)
    if refused:
        raise InputError(f"the URL's {', '.join(refused)} (Prisma's TLS parameters) have no libpq equivalent: "
                         "give sslmode, sslrootcert, sslcert and sslkey instead")
    kept = [(k, v) for k, v in pairs if k not in PRISMA_POOL and k not in ("schema", "pgbouncer")]
    query = urlencode(kept, quote_via=quote)
    if not parts.netloc:
        # urlunsplit drops an empty authority (postgresql:///app?host=/run/postgresql, a local socket): libpq
        # then reads "postgresql:/app" as a key=value string and refuses it.
        return f"{parts.scheme}://{parts.path}" + (f"?{query}" if query else "")
    return urlunsplit(parts._replace(query=query))


def _schema_path(conn: psycopg.Connection[Any], dsn: str) -> None:
    """The URL's ``?schema=`` becomes the session's search_path, set once connected.

    Not a startup ``options=-c search_path=…``: PgBouncer refuses that startup
    parameter ("unsupported startup parameter: options") or, configured with
    ``ignore_startup_parameters = options`` as its docs suggest for such clients,
    drops it without a word, and the application's unqualified names then resolved
    nowhere (u9, session pooling: suggest --queries found "no known table").
    """
    schema = url_schema(dsn)
    if schema is not None:
        conn.execute("SELECT /* pgtune */ pg_catalog.set_config('search_path', %s, false)",
                     (psycopg.sql.Identifier(schema).as_string(conn),))


def _known(names: set[str]) -> None:
    """Refuse a URL parameter neither libpq nor Prisma reads, naming the one it looks like (``shema``: schema)."""
    known = {d.keyword.decode() for d in psycopg.pq.Conninfo.get_defaults()} | PRISMA_POOL | PRISMA_ONLY | {
        "schema", "pgbouncer"}
    for name in sorted(names - known):
        like = difflib.get_close_matches(name, sorted(known), n=1)
        raise InputError(f"the URL's parameter {name!r} is not one libpq or Prisma reads"
                         + (f": did you mean {like[0]}=?" if like else ""))


def url_schema(dsn: str) -> str | None:
    """The schema a Prisma URL's ``?schema=`` names (None: none, or not a URL)."""
    try:
        parts = urlsplit(dsn)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return None
    if parts.scheme not in ("postgres", "postgresql"):
        return None
    return next((v for k, v in pairs if k == "schema" and v), None)


class UrlWarning(UserWarning):
    """Something in the connection URL that is likely a mistake but does not stop pgtune."""


def _warn_schema(conn: psycopg.Connection[Any], dsn: str) -> None:
    """?schema= names a schema this database does not have: the application's unqualified names resolve nowhere."""
    schema = url_schema(dsn)
    if schema is not None and conn.execute(catalog_sql.load("schema_exists"), {"name": schema}).fetchone() == (False,):
        warnings.warn(UrlWarning(f"the URL's ?schema={schema} names no schema of database {conn.info.dbname}: "
                                 "unqualified table names resolve in the other schemas of the search_path"),
                      stacklevel=3)


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


# Where a password stands as one in text: a keyword string's password= (quoted or not) or a URL's user:password@.
_AS_PASSWORD = r"""(?i)(password\s*=\s*'?)({0})(?=[\s&'")]|$)|(://[^\s/@:'"]*:)({0})(?=@)"""
# Such a value of a password this process does not know (another DSN's), up to where a DSN's value ends.
_ANY_PASSWORD = re.compile(r"""(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&'")]+)|(://[^\s/@:'"]*:)([^\s/@'"]+)(?=@)""")


def redact(text: str, dsn: str) -> str:
    """Any password of ``dsn`` (or PGPASSWORD), and any other, replaced by ``***`` where it stands as a password:
    in a keyword string's ``password=`` or a URL's ``user:password@``. Nowhere else: a short password masked as
    a word anywhere garbled paths and names ("/tmp/p16/*** is not a pgtune migration folder" with the password
    "p16", p16) and told the password by where the stars fell (user "***" when it is the user's name)."""
    for secret in _secrets(dsn):
        for form in {secret, quote(secret, safe="")}:
            text = re.sub(_AS_PASSWORD.format(re.escape(form)), _stars, text)
    return _ANY_PASSWORD.sub(_stars, text)


def _stars(m: re.Match[str]) -> str:
    """What stood before the password, then ``***`` for it (both patterns: keyword groups 1-2, URL groups 3-4)."""
    return (m.group(1) if m.group(1) is not None else m.group(3)) + "***"


def redact_conninfo_error(text: str, conninfo: str) -> str:
    """libpq's message about ``conninfo``: when the string does not parse, its words quote pieces of it (a
    password's percent-encoding, say) with no password= before them: the secrets are masked wherever they
    stand alone there."""
    text = redact(text, conninfo)
    try:
        conninfo_to_dict(conninfo)
    except Exception:
        for secret in _secrets(conninfo):
            text = mask(text, secret)
    return text


def mask(text: str, secret: str) -> str:
    """``secret`` replaced by ``***`` where it stands alone, not inside a word (r11: with the password "r",
    "pe***mission denied" garbled the message and told the password by where the stars fell)."""
    return re.sub(rf"(?<!\w){re.escape(secret)}(?!\w)", "***", text) if secret else text


def describe(dsn: str) -> str:
    """A short, password-free label for where we connect: ``user@host:port/dbname``.

    What the DSN leaves out is libpq's default (PQconndefaults: the PG* variables, the service file, the
    operating-system user; the database defaults to the user's name), so a connection from the defaults names
    the user and database it tried (c19: it was 'local socket:5432/'). A DSN naming its own service: libpq's
    reading of it (p20: 'service=app' was 'local socket:5432/', its file saying localhost:55420/app)."""
    try:
        params: dict[str, Any] = conninfo_to_dict(dsn)
    except Exception:
        return "(unparsable DSN)"
    if params.get("service") and (got := _service_values(dsn)):
        params = {**params, **got}
    defaults = _libpq_defaults() if not params.get("service") else {}
    host = params.get("host") or os.environ.get("PGHOST") or defaults.get("host") or "local socket"
    port = params.get("port") or os.environ.get("PGPORT") or defaults.get("port") or "5432"
    user = params.get("user") or os.environ.get("PGUSER") or defaults.get("user") or ""
    db = params.get("dbname") or os.environ.get("PGDATABASE") or defaults.get("dbname") or user
    return f"{user}@{host}:{port}/{db}" if user else f"{host}:{port}/{db}"


def _service_values(dsn: str) -> dict[str, str]:
    """Host, port, user and dbname as libpq reads ``dsn`` with its service (the file, then the variables): only
    PQconnectStart resolves a service; the attempt it starts is closed at once, before any packet is answered."""
    try:
        pg = psycopg.pq.PGconn.connect_start(dsn.encode())
    except Exception:
        return {}
    try:
        got = (("host", pg.host), ("port", pg.port), ("user", pg.user), ("dbname", pg.db))
        return {k: v.decode() for k, v in got if v}
    except Exception:      # a service libpq could not read: the DSN's and the variables' alone
        return {}
    finally:
        pg.finish()


def _libpq_defaults() -> dict[str, str]:
    """libpq's default host, port, user and dbname (never a password)."""
    try:
        return {o.keyword.decode(): o.val.decode() for o in psycopg.pq.Conninfo.get_defaults()
                if o.val is not None and o.keyword in (b"host", b"port", b"user", b"dbname")}
    except Exception:       # a libpq that cannot say: the DSN's and the variables' alone
        return {}


def connect(dsn: str | None = None, *, autocommit: bool = True, connect_timeout: int = 10,
            given: str = "--dsn or DATABASE_URL") -> psycopg.Connection[Any]:
    """Connect, turning every failure into one redacted line.

    Autocommit is the default: pgtune runs CREATE INDEX CONCURRENTLY, which refuses to run inside a
    transaction block. ``given``: where the user gives this DSN, named when a transaction pooler is refused.
    """
    conninfo = from_prisma(resolve_dsn(dsn))
    _check_port(conninfo)
    try:
        # No application_name at startup (nor the DSN's, PGAPPNAME's): PgBouncer left it on its server session
        # for the application's next client (p24); NAME_SESSION sets it once the pooler check passed.
        conn = psycopg.connect(
            conninfo,
            autocommit=autocommit,
            connect_timeout=connect_timeout,
            application_name="",
        )
    except psycopg.Error as exc:
        first = said_once(error_text(exc))
        # No --dsn, no DATABASE_URL: say the place is libpq's choice, not one the user gave.
        how = " (libpq's defaults: no --dsn, no DATABASE_URL)" if not conninfo else ""
        raise ConnectionFailed(
            f"cannot connect to {describe(conninfo)}{how}: {redact_conninfo_error(first, conninfo)}"
        ) from None
    try:
        refuse_transaction_pooler(conn, conninfo, connect_timeout, given)
        untrack_statements(conn)      # first: the SET below would be an entry of pgtune's in pg_stat_statements
        conn.execute(NAME_SESSION)    # after the pooler check, as every setting: a pooled one reaches other clients
        _schema_path(conn, resolve_dsn(dsn))
        force_session_settings(conn)
        _warn_schema(conn, resolve_dsn(dsn))
    except psycopg.Error as exc:
        conn.close()
        raise from_psycopg(exc) from None
    except ConnectionFailed:
        conn.close()
        raise
    return conn


def _check_port(conninfo: str) -> None:
    """A port that is not a number, said as such: psycopg resolves the host with it first, and the message was
    "failed to resolve host 'localhost': [Errno -8] Servname not supported for ai_socktype" (u18)."""
    try:
        port = str(conninfo_to_dict(conninfo).get("port") or os.environ.get("PGPORT") or "")
    except Exception:
        return          # unparsable: libpq says what is wrong with it
    for one in port.split(","):
        # ASCII digits only: str.isdigit() takes '²' (int() then raised: "internal error", exit 1) and '١٢' (r19).
        if one and not (re.fullmatch("[0-9]+", one.strip()) and 0 < int(one) < 65536):
            raise ConnectionFailed(f"cannot connect to {describe(conninfo)}: the port {one!r} is not a port number "
                                   "(1 to 65535)")


BACKEND_PID = "SELECT /* pgtune */ pg_catalog.pg_backend_pid()"
NAME_SESSION = f"SET /* pgtune */ application_name = '{APPLICATION_NAME}'"


def _server_pid(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(BACKEND_PID).fetchone()
    return int(row[0]) if row else 0


def pooled(conn: psycopg.Connection[Any]) -> bool:
    """Does ``conn`` reach the server through a pooler? The backend pid a pooler announces at startup is its own."""
    return _server_pid(conn) != conn.info.backend_pid


# How long the pooler probe's second connection waits for a server session. A session pooler whose pool
# is full (the first connection took the last one) makes it wait for query_wait_timeout (PgBouncer: 120 s)
# and then fail; a transaction pooler hands it the first connection's session, idle again, at once.
PROBE_WAIT = 5.0


def _probe_pid(probe: psycopg.Connection[Any], wait: float) -> int | None:
    """The probe's server pid, or None when the pooler gives it no server session within ``wait`` seconds."""
    pg = probe.pgconn
    pg.send_query(BACKEND_PID.encode())
    deadline = time.monotonic() + wait
    while True:
        pg.consume_input()
        if not pg.is_busy():
            break
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        select.select([pg.socket], [], [], left)
    result, pid = pg.get_result(), None
    while result is not None:
        if result.status == ExecStatus.TUPLES_OK and pid is None:
            value = result.get_value(0, 0)
            pid = int(value) if value is not None else None
        elif result.status == ExecStatus.FATAL_ERROR:
            raise psycopg.OperationalError((result.error_message or b"").decode(errors="replace").strip())
        result = pg.get_result()
    return pid


# Rounds of the probe: under the application's load a transaction pooler may give the probe another
# session and the first connection its own back, by chance (1 run in 6 with one round, PgBouncer, 4 clients).
PROBE_ROUNDS = 5


def _shared_or_moved(conn: psycopg.Connection[Any], probe: psycopg.Connection[Any], first: int) -> str | None:
    """Why ``conn`` (on server session ``first``) is behind a transaction pooler, or None when nothing shows it.

    The two connections ask in turn, up to PROBE_ROUNDS times each: a session pooler
    answers ``first`` to ``conn`` and another pid to the probe every time. A probe
    left waiting for a server session asks no more, and ``conn`` asks every round
    (r8: one timeout ended the rounds after a single re-check).
    """
    waiting = False     # the probe got no session in PROBE_WAIT: a full pool (a session pooler's, or a busy one)
    for _ in range(PROBE_ROUNDS):
        other = None if waiting else _probe_pid(probe, PROBE_WAIT)
        if other == first:
            return f"two pgtune connections ran on one server session (pid {first})"
        waiting = other is None     # its question is still queued: only the first connection asks from here on
        again = _server_pid(conn)
        if again != first:
            return f"its server session changed between two statements (pid {first}, then {again})"
    return None


def refuse_transaction_pooler(conn: psycopg.Connection[Any], conninfo: str, connect_timeout: int = 10,
                              given: str = "--dsn or DATABASE_URL") -> None:
    """Stop when ``conn`` reaches PostgreSQL through a transaction (or statement) pooler.

    Such a pooler (PgBouncer ``pool_mode = transaction``, Supabase's Supavisor on
    6543, Neon's ``-pooler`` hosts) gives each transaction any server session:
    pgtune's hypothetical indexes, lock_timeout, session advisory lock and prepared
    statements stay behind on a backend the application then uses, and the next
    statement runs without them (an apply through PgBouncer under load built two
    indexes, failed on a missing prepared statement, recorded nothing and left its
    advisory lock on an application backend, which held every later apply). A
    direct connection's backend pid is the one the server announced at startup: no
    more is asked. A pooler announces its own, so a second connection checks
    whether it lands on the first one's server session (it does through a
    transaction pooler: the session is free again once a transaction ends), and the
    first asks again whether its session stayed. Session pooling keeps one server
    session per client for its life, and passes; with its pool full the probe gets
    no session within PROBE_WAIT and only the second question decides.
    """
    if not pooled(conn):
        return
    first = _server_pid(conn)
    try:
        probe = psycopg.connect(conninfo, autocommit=True, connect_timeout=connect_timeout, application_name="")
        try:
            shared = _shared_or_moved(conn, probe, first)
        finally:
            probe.close()       # not __exit__: its commit would send behind a query still waiting
    except psycopg.Error as exc:
        why = redact_conninfo_error(error_text(exc), conninfo)
        raise ConnectionFailed(f"cannot open a second connection to {describe(conninfo)} (pgtune checks whether "
                               f"it is a transaction pooler): {why}") from None
    if shared is not None:
        raise ConnectionFailed(
            f"{describe(conninfo)} is a transaction pooler (PgBouncer, Supavisor, Neon's -pooler host): {shared}, "
            "and pgtune's hypothetical indexes, lock_timeout, advisory lock and CREATE INDEX CONCURRENTLY need one "
            "session of their own; give the direct connection (Prisma's directUrl: Supabase's port 5432, Neon's "
            f"host without -pooler) with {given}")


# pgtune's own statements must never feed pg_qualstats: its sampling of a forced generic plan of a
# partitioned join crashes the backend (pg_qualstats 2.0.4, signal 11), its table is small and fills
# (pg_qualstats.max), and pgtune's own EXPLAINs would come back as "the workload's constants".
# Set only where the setting exists: SET on an unknown name would create a placeholder.
QUALSTATS_OFF = ("SELECT /* pgtune */ pg_catalog.set_config('pg_qualstats.enabled', 'off', {local}) "
                 "WHERE pg_catalog.current_setting('pg_qualstats.enabled', true) IS NOT NULL")


def lost(conn: psycopg.Connection[Any]) -> bool:
    """Is the connection gone (closed, or broken by a server or network failure)? Then nothing more can be
    run or recorded on it, and the caller stops rather than going on to its next statement. Decided here only.

    So is one Ctrl-C left mid-pipeline: a KeyboardInterrupt while psycopg ended a pipeline leaves libpq in pipeline
    mode with psycopg's pipeline gone, and psycopg raises "cannot exit pipeline mode …" in its place; asked while
    handling that error, this says lost, so the caller stops (c20: it went on, and the session's next statement
    failed, "PQsendQuery not allowed in pipeline mode", or waited for an answer that never came)."""
    if conn.broken or conn.closed:
        return True
    handling = sys.exc_info()[1]
    return handling is not None and not isinstance(handling, KeyboardInterrupt) and interrupted_by(handling) \
        and conn.pgconn.pipeline_status != PipelineStatus.OFF


def session_stops(conn: psycopg.Connection[Any], exc: psycopg.Error) -> bool:
    """Does ``exc`` stop the command rather than the one statement or candidate that met it? The connection lost,
    or another session's lock (u13): the session's state, not the candidate's. no_lock_queue then names the lock's
    holder, rather than each candidate being listed as "not costed" after waiting the timeout again."""
    return lost(conn) or isinstance(exc, pgerrors.LockNotAvailable)


def force_session_settings(conn: psycopg.Connection[Any]) -> None:
    """Settings every pgtune session needs, whatever the role or database defaults say.

    pglast reads string literals with ``standard_conforming_strings = on`` (a backslash is just a character);
    a server reading them otherwise would see other statements in the same text. pg_qualstats is off for the
    session (see QUALSTATS_OFF). The extensions pgtune reads are on its search_path, after the role's own
    schemas (sql/session_extension_path.sql). The server's messages are in English where the role may
    (sql/session_messages_c.sql). Their catalog reads are not JIT-compiled (catalog_sql.uncompiled).
    """
    conn.execute("SET /* pgtune */ standard_conforming_strings = on")
    may = "pg_catalog.has_parameter_privilege('lc_messages', 'SET')" if conn.info.server_version >= 150000 else "false"
    with catalog_sql.uncompiled(conn):
        conn.execute(QUALSTATS_OFF.format(local="false"))
        conn.execute(catalog_sql.load("session_extension_path"))
        conn.execute(catalog_sql.load("session_messages_c").format(may=may))


# How long a reading command's statement waits for a lock another session holds before giving up.
READ_LOCK_TIMEOUT = "2s"


def exclusive_lock_holders(conn: psycopg.Connection[Any]) -> str:
    """Who holds or awaits an ACCESS EXCLUSIVE lock here: the only lock a catalog read or EXPLAIN waits for."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(catalog_sql.load("exclusive_lock_holders")).fetchall()
    return "; ".join(f"pid {r['pid']} {'holds' if r['granted'] else 'awaits'} ACCESS EXCLUSIVE on "
                     f"{r['relation']} ({r['state'] or 'active'}, open {r['seconds'] or 0}s: "
                     f"{one_line(r['query'], 80)})" for r in rows[:3]) or "a lock already released"


@contextmanager
def no_lock_queue(conn: psycopg.Connection[Any], timeout: str = READ_LOCK_TIMEOUT) -> Iterator[None]:
    """A reading command's session waits at most ``timeout`` for any lock, then stops with who held it.

    pg_table_size, EXPLAIN and the catalog reads take ACCESS SHARE locks: behind
    a migration's ACCESS EXCLUSIVE (held, or queued behind a long transaction)
    they would wait as long as it does, pgtune's backend stalled without a
    word (u5: 90 s in the table read). The session's own setting comes back after.
    """
    row = conn.execute("SELECT /* pgtune */ pg_catalog.current_setting('lock_timeout')").fetchone()
    before = row[0] if row else "0"
    # In a caller's open transaction, set and give back for that transaction only: a SET LOCAL of the caller's
    # read here must not become the session's value once it commits.
    local = conn.info.transaction_status == TransactionStatus.INTRANS
    conn.execute("SELECT /* pgtune */ pg_catalog.set_config('lock_timeout', %s, %s)", (timeout, local))
    try:
        yield
    except pgerrors.LockNotAvailable as exc:
        who = exclusive_lock_holders(conn) if _usable(conn) else ""
        raise DatabaseError(f"gave up after {timeout} waiting for a lock ({error_text(exc)}): "
                            f"{who or 'another session holds it'}; pgtune does not queue behind another "
                            "session's lock: run it again once that is released", exc.sqlstate).with_exit(2) from None
    finally:
        if _usable(conn):
            conn.execute("SELECT /* pgtune */ pg_catalog.set_config('lock_timeout', %s, %s)", (before, local))


def _usable(conn: psycopg.Connection[Any]) -> bool:
    """Idle, or in a transaction that has not failed (a caller's open transaction: its setting comes back too)."""
    return not lost(conn) and conn.info.transaction_status in (TransactionStatus.IDLE, TransactionStatus.INTRANS)
