"""A production-shaped database (issue 24) and the application workload that runs on it.

The schema (tests/fixtures/production/) is an e-signature SaaS grown up on
Prisma: the live ``app.accounts`` beside a smaller legacy ``public.accounts``,
a quoted ``"Billing"`` schema, ``app.events`` range-partitioned by month with a
default partition, ``app.notifications`` list-partitioned with a hash
sub-partitioned e-mail partition, foreign keys into and out of partitioned
tables, ``app.docs`` under row security, and a crowd of 20-row tables.

The workload runs *as the application*: ``app_user`` logs in with the
``search_path = app, "Billing", public`` set for it in this database, the
tenant role reads ``app.docs`` under its tenant policy, a pooler-style session
uses SQL ``PREPARE``/``EXECUTE``, one statement reads a temporary table. So
pg_stat_statements records each statement under the role that ran it, and
pg_qualstats (preloaded by the test cluster at sample_rate 1) its constants.

    prod = production.build(db)                  # schema, rows, keys, VACUUM ANALYZE, counters reset
    production.workload(prod)                    # every part; or parts=(Part.ACCOUNTS, Part.DOCS)

``PGTUNE_FIXTURE_SCALE`` (default 0.3) scales the rows: at 1.0 the big tables
hold 100k–1M rows; at 0.3 the build takes about five seconds.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.types.numeric import Int4, Int8

from pgtune.capture import reset_counters

from .helpers import writer_latencies

FIXTURE = Path(__file__).parent / "fixtures" / "production"
SCALE = float(os.environ.get("PGTUNE_FIXTURE_SCALE", "0.3"))
PASSWORD = "pgtune-fixture"       # the roles' password (roles.sql), for servers that do not trust local logins

SMALL_TABLES = ("webhooks", "api_tokens", "team_invites", "integrations", "email_templates", "feature_flags",
                "branding", "signing_reasons", "folders", "locales", "custom_fields", "sso_providers",
                "billing_contacts", "ip_allowlist", "embed_settings", "retention_policies", "tax_ids",
                "notification_rules", "document_templates", "saved_filters", "audit_exports", "passkeys")


class Role(StrEnum):
    """The application's login roles (roles.sql)."""

    APP = "app_user"              # search_path = app, "Billing", public in the fixture's database
    TENANT = "app_tenant"         # row security applies: sees one tenant's docs


class Part(StrEnum):
    """A slice of the workload, so a test can run only what its point needs."""

    ACCOUNTS = "accounts"              # unqualified accounts: app.accounts through app_user's search_path
    BILLING = "billing"                # "InvoiceLines", "Invoice" through the search_path
    EVENTS = "events"                  # the range-partitioned table
    EVENTS_JOIN = "events-join"        # the join that took the backend down under pg_qualstats (point 1)
    NOTIFICATIONS = "notifications"    # the list/hash sub-partitioned table
    ALERTS = "alerts"                  # the plain table whose foreign key points into events
    DOCS = "docs"                      # the tenant role under row security (point 5)
    PREPARED = "prepared"              # SQL-level PREPARE/EXECUTE, as poolers send it (point 6)
    TEMP = "temp"                      # a statement on a temporary table (point 8)
    SMALL = "small"                    # lookups on 20-row tables (noise, --min-rows)
    WRITES = "writes"                  # inserts and updates the new indexes slow down


# The statements, as the application sends them (psycopg binds %s server-side: pg_stat_statements shows $n).
ACCOUNT_BY_EMAIL = "SELECT id, name, plan FROM accounts WHERE email = %s"
INVOICE_LINES = 'SELECT id, "productCode", quantity, "unitAmount" FROM "InvoiceLines" WHERE "invoiceId" = %s'
OPEN_INVOICES = ('SELECT id, total, "dueAt" FROM "Invoice" WHERE "accountId" = %s AND status = \'OPEN\' '
                 'ORDER BY "dueAt"')
DOCUMENT_TIMELINE = ('SELECT id, type, "userId", "createdAt" FROM events WHERE "documentId" = %s '
                     'ORDER BY "createdAt" DESC')
FAILED_SIGN_INS = ('SELECT count(*) FROM events WHERE "userId" = %s AND type = \'SIGN_IN_FAIL\' '
                   'AND "createdAt" >= %s')
ACCOUNT_ACTIVITY = ('SELECT id, type, "createdAt" FROM events WHERE "accountId" = %s AND "createdAt" >= %s '
                    'ORDER BY "createdAt" DESC LIMIT 50')
USER_EVENTS_JOIN = ('SELECT e.id, e.type, e."createdAt" FROM events e JOIN users u ON u.id = e."userId" '
                    'WHERE u.email = %s AND e."createdAt" >= now() - %s::interval')
UNREAD = ('SELECT id, channel, title, "createdAt" FROM notifications WHERE "userId" = %s AND "readAt" IS NULL '
          'ORDER BY "createdAt" DESC LIMIT 20')
MARK_READ = 'UPDATE notifications SET "readAt" = %s WHERE id = %s AND channel = %s'
EVENT_ALERTS = 'SELECT id, reason, "resolvedAt" FROM alerts WHERE "eventId" = %s AND "eventCreatedAt" = %s'
TENANT_DOCS = 'SELECT id, title, status, "createdAt" FROM app.docs ORDER BY "createdAt" DESC LIMIT 20'
TENANT_BY_STATUS = 'SELECT count(*) FROM app.docs WHERE status = %s'
PREPARE_SESSION = ('PREPARE sess(int) AS SELECT id, token, "expiresAt" FROM sessions '
                   'WHERE "userId" = $1 AND "expiresAt" > localtimestamp ORDER BY "expiresAt" DESC LIMIT 1')
EXECUTE_SESSION = "EXECUTE sess({})"
IMPORT_MATCH = "SELECT a.id, a.name FROM accounts a JOIN import_emails i ON i.email = a.email"
WEBHOOKS = 'SELECT id, name, enabled FROM webhooks WHERE "accountId" = %s'
FEATURE_FLAG = "SELECT id, enabled FROM feature_flags WHERE name = %s"
INSERT_EVENT = ('INSERT INTO events ("accountId", "userId", "documentId", type, "createdAt") '
                'VALUES (%s, %s, %s, \'DOCUMENT_OPENED\', %s)')
TOUCH_ACCOUNT = 'UPDATE accounts SET "updatedAt" = %s WHERE id = %s'
INSERT_NOTIFICATION = 'INSERT INTO notifications ("userId", channel, title) VALUES (%s, %s, %s)'


@dataclass(frozen=True)
class Sizes:
    """Rows per table (data.sql reads them as fixture.<name>)."""

    accounts: int
    legacy_accounts: int
    users: int
    sessions: int
    events: int
    alerts: int
    notifications: int
    docs: int
    invoices: int
    invoice_lines: int
    small_rows: int = 20

    @classmethod
    def at(cls, scale: float) -> Sizes:
        def n(rows: int) -> int:
            return max(200, round(rows * scale))
        return cls(accounts=n(100_000), legacy_accounts=min(5_000, n(100_000) // 4), users=n(200_000),
                   sessions=n(200_000), events=n(1_000_000), alerts=n(20_000), notifications=n(400_000),
                   docs=n(200_000), invoices=n(100_000), invoice_lines=n(400_000))


@dataclass(frozen=True)
class Production:
    """The built database: a superuser DSN to it, its sizes, and logins as the application's roles."""

    dsn: str
    sizes: Sizes
    months: list[str] = field(default_factory=list)      # the monthly partitions of app.events, oldest first
    alert_keys: list[tuple[int, datetime.datetime]] = field(default_factory=list)   # alerts' ("eventId", …)
    unread: list[tuple[int, str]] = field(default_factory=list)                  # notifications' (id, channel)

    def role_dsn(self, role: Role) -> str:
        return make_conninfo(self.dsn, user=role.value, password=PASSWORD)


def _settings(sizes: Sizes) -> dict[str, str]:
    values = {f"fixture.{k}": str(v) for k, v in sizes.__dict__.items()}
    values["fixture.small_tables"] = ",".join(SMALL_TABLES)
    return values


def build(dsn: str, scale: float = SCALE) -> Production:
    """Create the roles, schema, rows and keys in the (empty) database ``dsn``; ANALYZE; reset the counters."""
    sizes = Sizes.at(scale)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for name, value in _settings(sizes).items():
            conn.execute("SELECT set_config(%s, %s, false)", (name, value))
        for part in ("roles", "schema", "data", "keys"):
            conn.execute((FIXTURE / f"{part}.sql").read_text())
        conn.execute("VACUUM ANALYZE")     # a database-wide ANALYZE also gathers the partitioned parents' rows
        months = [r[0] for r in conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'app.events'::regclass AND c.relname ~ '^events_[0-9]' ORDER BY 1")]
        # The workload's keys, read now so that no superuser statement lands in the observed window.
        alert_keys = [(r[0], r[1]) for r in conn.execute(
            'SELECT "eventId", "eventCreatedAt" FROM app.alerts ORDER BY id LIMIT 200')]
        unread = [(r[0], r[1]) for r in conn.execute(
            'SELECT id, channel::text FROM app.notifications WHERE "readAt" IS NULL ORDER BY id LIMIT 200')]
        reset_counters(conn)
    return Production(dsn, sizes, months, alert_keys, unread)


def add_month(conn: psycopg.Connection[Any], months_ahead: int = 2) -> str:
    """Create the monthly partition of app.events ``months_ahead`` months from now, as a DBA's cron would."""
    row = conn.execute("SELECT date_trunc('month', localtimestamp) + make_interval(months => %s)",
                       (months_ahead,)).fetchone()
    assert row is not None
    start: datetime.datetime = row[0]
    end = (start + datetime.timedelta(days=32)).replace(day=1)
    name = f"events_{start:%Y_%m}"
    conn.execute(sql.SQL("CREATE TABLE app.{} PARTITION OF app.events FOR VALUES FROM ({}) TO ({})").format(
        sql.Identifier(name), sql.Literal(start), sql.Literal(end)))
    return name


# ---- the workload ----------------------------------------------------------------------------------------

def _spread(n: int, calls: int, offset: int = 0) -> list[int]:
    """``calls`` ids spread over 1..n (deterministic)."""
    return [1 + (offset + i * 7_919) % n for i in range(calls)]


def _typed(value: Any) -> Any:
    """An int as int4 (int8 when it must be), as Prisma binds it: psycopg picks int2/int4/int8 by value, and
    each choice is a different queryid in pg_stat_statements."""
    if isinstance(value, int) and not isinstance(value, bool):
        return Int4(value) if -2**31 <= value < 2**31 else Int8(value)
    return value


def _run(conn: psycopg.Connection[Any], query: str, params: Iterable[tuple[Any, ...]]) -> None:
    for p in params:
        cur = conn.execute(query, tuple(_typed(v) for v in p))
        if cur.description is not None:
            cur.fetchall()


def _app(prod: Production, conn: psycopg.Connection[Any], parts: set[Part], calls: int) -> None:
    s = prod.sizes
    now = datetime.datetime.now()
    month_ago = now - datetime.timedelta(days=30)
    if Part.ACCOUNTS in parts:
        _run(conn, ACCOUNT_BY_EMAIL, [(f"acct{k}@example.com",) for k in _spread(s.accounts, calls)])
    if Part.BILLING in parts:
        _run(conn, INVOICE_LINES, [(k,) for k in _spread(s.invoices, calls)])
        _run(conn, OPEN_INVOICES, [(k,) for k in _spread(s.accounts, calls, 11)])
    if Part.EVENTS in parts:
        _run(conn, DOCUMENT_TIMELINE, [(k,) for k in _spread(s.docs, calls)])
        _run(conn, FAILED_SIGN_INS, [(k, month_ago) for k in _spread(s.users, calls)])
        _run(conn, ACCOUNT_ACTIVITY, [(k, month_ago) for k in _spread(s.accounts // 50, calls)])
    if Part.EVENTS_JOIN in parts:
        _run(conn, USER_EVENTS_JOIN, [(f"user{k}@example.com", "30 days") for k in _spread(s.users, calls)])
    if Part.NOTIFICATIONS in parts:
        _run(conn, UNREAD, [(k,) for k in _spread(s.users, calls, 5)])
        _run(conn, MARK_READ, [(now, i, c) for i, c in prod.unread[:calls]])
    if Part.ALERTS in parts:
        _run(conn, EVENT_ALERTS, prod.alert_keys[:calls])
    if Part.PREPARED in parts:
        conn.execute(PREPARE_SESSION)
        for k in _spread(s.users, calls * 3):                  # the most-called statement of the workload
            conn.execute(sql.SQL(EXECUTE_SESSION).format(sql.Literal(k))).fetchall()
        conn.execute("DEALLOCATE sess")
    if Part.TEMP in parts:
        conn.execute("CREATE TEMP TABLE import_emails (email text)")
        conn.execute("INSERT INTO import_emails SELECT 'acct' || g || '@example.com' FROM generate_series(1, 50) g")
        _run(conn, IMPORT_MATCH, [()] * max(3, calls // 4))
        conn.execute("DROP TABLE import_emails")
    if Part.SMALL in parts:
        _run(conn, WEBHOOKS, [(1 + i % 20,) for i in range(calls)])
        _run(conn, FEATURE_FLAG, [(f"item {1 + i % s.small_rows}",) for i in range(calls)])
    if Part.WRITES in parts:
        _run(conn, INSERT_EVENT, [(a, u, d, now) for a, u, d in zip(_spread(s.accounts, calls), _spread(s.users, calls),
                                                                     _spread(s.docs, calls), strict=True)])
        _run(conn, TOUCH_ACCOUNT, [(now, k) for k in _spread(s.accounts, calls, 3)])
        _run(conn, INSERT_NOTIFICATION, [(k, "EMAIL", "Welcome") for k in _spread(s.users, calls, 9)])


def _tenant(conn: psycopg.Connection[Any], calls: int) -> None:
    """A tenant's requests: the pooler sets the tenant, then the app reads; row security does the rest."""
    for i in range(calls):
        conn.execute(sql.SQL("SET app.tenant = {}").format(sql.Literal(str(1 + i % 20))))
        conn.execute(TENANT_DOCS).fetchall()
        conn.execute(TENANT_BY_STATUS, ("PENDING",)).fetchall()


def workload(prod: Production, parts: Iterable[Part] = tuple(Part), calls: int = 20) -> None:
    """Run the application's statements as its roles, ``calls`` times each (PREPARED three times as often)."""
    chosen = set(parts)
    if chosen - {Part.DOCS}:
        with psycopg.connect(prod.role_dsn(Role.APP), autocommit=True) as conn:
            _app(prod, conn, chosen, calls)
    if Part.DOCS in chosen:
        with psycopg.connect(prod.role_dsn(Role.TENANT), autocommit=True) as conn:
            _tenant(conn, calls)


# ---- issue 24 point 7: apply beside a long transaction ----------------------------------------------------

INVOICE = sql.Identifier("Billing", "Invoice")      # what a monthly revenue report reads

@dataclass
class LongTransaction:
    """A reporting session's REPEATABLE READ transaction on "Billing"."Invoice", open for ``seconds``."""

    pid: int
    seconds: float
    started: float
    ended: threading.Event


@contextlib.contextmanager
def long_transaction(dsn: str, seconds: float = 60.0, table: sql.Composable = INVOICE) -> Iterator[LongTransaction]:
    """Hold a REPEATABLE READ snapshot (and an ACCESS SHARE lock on ``table``) for ``seconds``, in a thread.

    The transaction ends by itself after ``seconds``, or when the block exits,
    whichever is first. A concurrent index build must wait for its snapshot
    (that wait blocks nobody); ``pid`` is the backend pgtune should name.
    """
    ready = threading.Event()
    stop = threading.Event()
    ended = threading.Event()
    box: dict[str, Any] = {}

    def hold() -> None:
        try:
            with psycopg.connect(dsn) as c:
                c.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                c.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()   # the snapshot is taken
                row = c.execute("SELECT pg_backend_pid()").fetchone()
                box["pid"] = row[0] if row else 0
                box["started"] = time.monotonic()
                ready.set()
                stop.wait(seconds)
                c.rollback()
        except BaseException as exc:      # surfaced to the test below
            box["error"] = exc
        finally:
            ended.set()
            ready.set()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    ready.wait(30)
    if "error" in box:
        thread.join()
        raise box["error"]
    try:
        yield LongTransaction(box["pid"], seconds, box["started"], ended)
    finally:
        stop.set()
        thread.join()


def insert_event(conn: psycopg.Connection[Any], i: int) -> None:
    """One write of the application to app.events (for helpers.writer_latencies)."""
    conn.execute('INSERT INTO app.events ("accountId", "userId", "documentId", type) '
                 "VALUES (%s, NULL, %s, 'DOCUMENT_OPENED')", (1 + i % 100, 1 + i % 1000))


def touch_account(conn: psycopg.Connection[Any], i: int) -> None:
    """One write of the application to app.accounts (for helpers.writer_latencies)."""
    conn.execute('UPDATE app.accounts SET "updatedAt" = localtimestamp WHERE id = %s', (1 + i % 100,))


@contextlib.contextmanager
def beside_long_transaction(prod: Production, seconds: float = 60.0,
                            write: Callable[[psycopg.Connection[Any], int], None] = insert_event,
                            ) -> Iterator[tuple[LongTransaction, list[float]]]:
    """Issue 24 point 7: a long REPEATABLE READ transaction on another table, and a writer on the indexed one.

    Yields the transaction (its pid, when it started) and the list the writer
    appends each write's duration (seconds) to; run ``apply`` inside the block.
    """
    with long_transaction(prod.dsn, seconds) as txn, writer_latencies(prod.dsn, write) as latencies:
        yield txn, latencies
