"""A document-signing application (Prisma 6 + Kysely) as pgtune meets it: schema, data and workload.

Modelled on Documenso, an open-source signing service built on Prisma with
Kysely for its heaviest lists; written for pgtune (no code or text taken
from it). The pieces live in tests/fixtures/signing_app/: ``schema.sql``
(the tables, enums, indexes and foreign keys Prisma Migrate leaves),
``schema.prisma`` (the same models; Prisma's engine validates it),
``data.sql`` (set-based, skewed, multi-tenant data; about 4M rows at scale
1) and ``workload.sql`` (60 statement shapes). This module builds the
database and runs the workload through it, so that pg_stat_statements and
pg_qualstats hold it normalized as they would in production;
benchmarks/prisma_app.py measures pgtune on it, tests/test_prisma_app.py
checks it at scale 0.01.

How the two clients render SQL for PostgreSQL (read in prisma-engines'
quaint visitor and SQL query builder, and in the application's data-access
code), and what the workload therefore sends:

- Prisma qualifies every table with its schema and quotes every identifier
  (``"public"."Envelope"."teamId"``). Enum values are bound as text and cast
  back (``"status" = CAST($1::text AS "public"."DocumentStatus")``); selected
  enum columns come back as ``"status"::text``. Every value is a bind
  parameter, ``LIMIT`` and ``OFFSET`` included: a findMany without ``skip``
  still ends in ``OFFSET $n`` (0), a count is ``SELECT COUNT(*) FROM (SELECT
  id … OFFSET $n) AS "sub"``.
- An empty AND is written ``1=1`` (and an empty OR ``1=0``); a findUnique
  or update by key reads ``WHERE ("id" = $1 AND 1=1)``. pg_stat_statements
  turns the literals into ``$4 = $5``.
- ``not: X`` is ``<> $n``, ``notIn`` is ``NOT IN ($n, …)``; ``in`` with one
  value becomes ``= $n`` only when Prisma flattens it, relation loading keeps
  ``IN ($1, …, $10)``. ``mode: 'insensitive'`` with ``contains`` is ``ILIKE $n``
  bound to ``'%term%'`` (no cast); a case-sensitive ``contains`` is
  ``"col"::text LIKE $n``.
- A relation filter (``recipients: { some: … }``) is ``("id") IN (SELECT
  "t1"."envelopeId" FROM "public"."Recipient" AS "t1" WHERE (… AND
  "t1"."envelopeId" IS NOT NULL))``; a to-one hop inside it is an inner join
  on ``"j1"``.
- Cursor pagination on a unique id ordered by that id is ``WHERE "id" > $n
  ORDER BY "id" LIMIT $m``; on another order it compares with a subselect of
  the cursor row (``"createdAt" <= (SELECT "createdAt" FROM … WHERE ("id") =
  ($2))``).
- Prisma prepares every statement server-side under a name (its statement
  cache); after five executions PostgreSQL may switch it to a generic plan.
- Kysely writes lower-case keywords and unqualified quoted names
  (``"Envelope"."teamId"``). The application inlines enum values and the
  ``exists`` marker with ``sql.lit`` (``"type" = 'DOCUMENT'``, ``select 1 as
  "one"``); pg_stat_statements normalizes those literals to ``$n`` as well,
  so a parameter stands in the select list. Values go as ``$n`` through the
  driver's unnamed prepared statement. Its document lists are ``OR EXISTS``
  trees over the recipients, counted through ``select count("id") from
  (… limit $n) as "windowed"``.

The workload's writes run and are rolled back: pg_stat_statements,
pg_qualstats and the table write counters record them as the application's,
and the kept database never changes, so every run (and every replay) sees the
same data.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.adapt import Dumper
from psycopg.types.json import Jsonb

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "signing_app"


class Client(StrEnum):
    """How a statement reaches the server: Prisma prepares it under a name, Kysely sends it unnamed."""

    PRISMA = "prisma"
    KYSELY = "kysely"


@dataclass(frozen=True)
class Shape:
    name: str
    sql: str                     # %s placeholders; '{status}' for a literal Kysely inlines
    client: Client

    @property
    def writes(self) -> bool:
        return self.sql.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")


def shapes() -> dict[str, Shape]:
    """The workload's statements, from workload.sql."""
    text = (FIXTURES / "workload.sql").read_text()
    out: dict[str, Shape] = {}
    for block in re.split(r"^-- name: ", text, flags=re.M)[1:]:
        header, client, body = block.split("\n", 2)
        out[header.strip()] = Shape(header.strip(), body.strip(), Client(client.removeprefix("-- client:").strip()))
    return out


@dataclass(frozen=True)
class Counts:
    """Row counts for a scale (1.0: about 4M rows)."""

    scale: float

    def __getitem__(self, name: str) -> int:
        base = {"users": 60_000, "orgs": 20_000, "teams": 25_000, "envelopes": 200_000, "signers": 300_000,
                "apitokens": 3_000, "webhooks": 4_000, "webhookcalls": 100_000, "folders": 20_000,
                "securitylogs": 200_000, "sessions": 80_000, "tokens": 10_000, "jobs": 100_000,
                "ratelimits": 30_000}[name]
        return max(int(base * self.scale), 60 if name != "orgs" else 20)

    def fill(self, text: str, anchor: datetime) -> str:
        """data.sql with its @name@ counts and @now@ anchor (a timestamp literal) filled in."""
        text = text.replace("@now@", anchor.strftime("%Y-%m-%d %H:%M:%S"))
        return re.sub(r"@(\w+)@", lambda m: str(self[m.group(1)]), text)


def build(conn: psycopg.Connection[Any], scale: float, anchor: datetime) -> None:
    """Create the schema and load the data (tables first, then indexes and foreign keys, then statistics)."""
    schema = (FIXTURES / "schema.sql").read_text()
    tables, _, keys = schema.partition("-- CreateIndex\n")
    conn.execute(tables)
    conn.execute(Counts(scale).fill((FIXTURES / "data.sql").read_text(), anchor))
    conn.execute(keys)
    conn.execute("VACUUM ANALYZE")


# --- value pools: what the application would hold in hand when it sends each statement -------------------------


@dataclass
class Pools:
    """Values drawn from the database before the workload runs (ids, tokens, emails), with their skew."""

    now: datetime
    envelopes: list[tuple[Any, ...]]          # id, secondaryId, teamId, type: a uniform sample, so big tenants recur
    teams: dict[int, tuple[int, str, str | None]]   # teamId -> owner id, owner email, team email
    receivers: list[str]                      # recipient emails of registered users, as often as they receive
    signers: list[tuple[Any, ...]]            # pending recipients: id, token, envelopeId, teamId, name
    fields: dict[int, list[tuple[int, str]]]  # recipientId -> its fields (id, type)
    cursors: dict[str, str]                   # envelopeId -> an audit log id a second page starts after
    sessions: list[tuple[str, int]]
    users: list[tuple[int, str]]
    webhooks: list[str]
    api_tokens: list[tuple[str, int]]
    max_recipient: int
    spare_metas: list[str]
    ids: int = 0

    def fresh(self, prefix: str) -> str:
        self.ids += 1
        return f"{prefix}_{self.ids:06d}"


def _rows(conn: psycopg.Connection[Any], query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    return conn.execute(query, params).fetchall()


def pools(conn: psycopg.Connection[Any], now: datetime) -> Pools:
    """Sample the values the workload uses (run before the observation window opens)."""
    sample = 'ORDER BY md5({}::text) LIMIT {}'
    envelopes = _rows(conn, 'SELECT "id", "secondaryId", "teamId", "type"::text FROM "Envelope" '
                      + sample.format('"id"', 4000))
    teams = {r[0]: (r[1], r[2], r[3]) for r in _rows(
        conn, 'SELECT t."id", o."ownerUserId", u."email", e."email" FROM "Team" t '
        'JOIN "Organisation" o ON o."id" = t."organisationId" JOIN "User" u ON u."id" = o."ownerUserId" '
        'LEFT JOIN "TeamEmail" e ON e."teamId" = t."id"')}
    receivers = [r[0] for r in _rows(conn, """SELECT "email" FROM "Recipient" WHERE "email" LIKE 'user%%' """
                                     + sample.format('"id"', 3000))]
    signers = _rows(conn, 'SELECT r."id", r."token", r."envelopeId", e."teamId", r."name" FROM "Recipient" r '
                    'JOIN "Envelope" e ON e."id" = r."envelopeId" WHERE e."status" = \'PENDING\' '
                    'AND r."signingStatus" = \'NOT_SIGNED\' AND r."role" <> \'CC\' ' + sample.format('r."id"', 4000))
    fields: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for rid, fid, ftype in _rows(conn, 'SELECT "recipientId", "id", "type"::text FROM "Field" '
                                 'WHERE "recipientId" = ANY(%s) ORDER BY "id"', ([s[0] for s in signers],)):
        fields[rid].append((fid, ftype))
    cursors = dict(_rows(conn, 'SELECT "envelopeId", (array_agg("id" ORDER BY "createdAt" DESC))[4] '
                         'FROM "DocumentAuditLog" WHERE "envelopeId" = ANY(%s) GROUP BY 1 HAVING count(*) >= 5',
                         ([e[0] for e in envelopes],)))
    sessions = [(r[0], r[1]) for r in _rows(conn, 'SELECT "sessionToken", "userId" FROM "Session" '
                                            + sample.format('"id"', 3000))]
    users = [(r[0], r[1]) for r in _rows(conn, 'SELECT "id", "email" FROM "User" ' + sample.format('"id"', 3000))]
    webhooks = [r[0] for r in _rows(conn, 'SELECT "id" FROM "Webhook" ORDER BY "id"')]
    api_tokens = [(r[0], r[1]) for r in _rows(conn, 'SELECT "token", "teamId" FROM "ApiToken" ORDER BY "id"')]
    top = _rows(conn, 'SELECT coalesce(max("id"), 0) FROM "Recipient"')
    spare = [r[0] for r in _rows(conn, """SELECT "id" FROM "DocumentMeta" WHERE "id" LIKE 'meta_spare_%%'""")]
    return Pools(now, envelopes, teams, receivers, signers, dict(fields), cursors, sessions, users, webhooks,
                 api_tokens, int(top[0][0]), spare)


# --- the workload ------------------------------------------------------------------------------------------------


@dataclass
class Recorder:
    """Runs shapes the way their client sends them and keeps every call's SQL and values."""

    conn: psycopg.Connection[Any]
    shapes: dict[str, Shape]
    calls: dict[str, list[tuple[str, tuple[Any, ...]]]] = field(default_factory=lambda: defaultdict(list))

    def run(self, name: str, params: tuple[Any, ...], status: str | None = None) -> list[tuple[Any, ...]]:
        shape = self.shapes[name]
        text = shape.sql
        if status is not None:     # a literal the application inlines (Kysely's sql.lit), quoted as a literal
            text = text.replace("'{status}'", sql.Literal(status).as_string(self.conn))
        self.calls[name].append((text, params))
        return execute(self.conn, shape, text, params)


class _UntypedInt(Dumper):
    """An int sent without a type: the server infers it from the statement, as for Prisma's prepared statements.

    psycopg would send int2, int4 or int8 by the value's size, and pg_stat_statements would then count one
    shape under several queryids (a parameter's type is part of the statement).
    """

    oid = 0

    def dump(self, obj: int) -> bytes:
        return str(obj).encode()


def adapt(conn: psycopg.Connection[Any]) -> None:
    """Send values as the application's clients do (ints untyped; text is already sent untyped)."""
    conn.adapters.register_dumper(int, _UntypedInt)


def execute(conn: psycopg.Connection[Any], shape: Shape, text: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """One call as its client sends it; a write runs in a transaction that is rolled back."""
    prepare = shape.client is Client.PRISMA
    with conn.cursor() as cur:
        if not shape.writes:
            cur.execute(text, params, prepare=prepare)   # type: ignore[arg-type]
            return cur.fetchall()
        conn.execute("BEGIN")
        try:
            cur.execute(text, params, prepare=prepare)   # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []
        finally:
            conn.execute("ROLLBACK")


Action = Callable[[Recorder, Pools, random.Random], None]


def _team_view(p: Pools, rng: random.Random) -> tuple[int, int, str, str | None]:
    """A team, drawn as often as it holds envelopes (big tenants most), with its owner and team email."""
    team = rng.choice(p.envelopes)[2]
    owner, email, team_email = p.teams[team]
    return team, owner, email, team_email


def documents_page(r: Recorder, p: Pools, rng: random.Random) -> None:
    team, user, email, team_email = _team_view(p, rng)
    r.run("session_by_token", (rng.choice(p.sessions)[0], 1, 0))
    r.run("user_by_id", (user, 1, 0))
    r.run("team_for_user", (team, user, 1, 0))
    r.run("team_groups_of_user", (team, user, 0))
    status = rng.choices(["ALL", "COMPLETED", "PENDING", "DRAFT", "REJECTED", "CANCELLED"],
                         [55, 15, 15, 8, 4, 3])[0]
    offset = 10 * rng.choices([0, 1, 2, 3, 4], [80, 12, 4, 2, 2])[0]
    window = offset + 100 * 10 + 1
    if status == "ALL":
        ids = r.run("docs_team", (team, user, email, team, 10, offset))
        if team_email:
            r.run("docs_team_email_count", (team, team_email, team_email, user, email, team, team_email,
                                            team_email, window))
        else:
            r.run("docs_team_count", (team, user, email, team, window))
    else:
        ids = r.run("docs_team_status", (team, user, email, team, 10, offset), status)
        r.run("docs_team_status_count", (team, user, email, team, window), status)
    if len(ids) == 10:
        keys = tuple(row[0] for row in ids)
        r.run("envelopes_by_ids", (*keys, 0))
        r.run("recipients_by_envelopes", (*keys, 0))
    if rng.random() < 0.4:     # the status tabs' counts, capped
        for tab in ("DRAFT", "PENDING", "COMPLETED"):
            r.run("docs_team_status_count", (team, user, email, team, 10_001), tab)


def inbox(r: Recorder, p: Pools, rng: random.Random) -> None:
    email = rng.choice(p.receivers)
    r.run("docs_inbox", (email, 10, 0))
    r.run("docs_inbox_count", (email, 1001))


SEARCH_TERMS = ["NDA", "lease", "contract", "Offer", "signer12", "acme", "crm-1", "invoice", "Sales", "user4"]


def search(r: Recorder, p: Pools, rng: random.Random) -> None:
    team, user, email, _ = _team_view(p, rng)
    pattern = f"%{rng.choice(SEARCH_TERMS)}%"
    r.run("docs_search", (pattern, pattern, pattern, pattern, 1000, team, user, email, team, 10, 0))


def document_view(r: Recorder, p: Pools, rng: random.Random) -> None:
    envelope, secondary, team, kind = rng.choice(p.envelopes)
    r.run("session_by_token", (rng.choice(p.sessions)[0], 1, 0))
    r.run("envelope_by_secondary_id", (secondary, kind, team, 1, 0))
    r.run("recipients_of_envelope", (envelope, 0))
    r.run("fields_of_envelope", (envelope, 0))
    r.run("audit_logs_page", (envelope, 11, 0))
    r.run("audit_logs_count", (envelope, 0))
    if envelope in p.cursors and rng.random() < 0.5:
        r.run("audit_logs_after_cursor", (envelope, p.cursors[envelope], 11, 0))


def signing(r: Recorder, p: Pools, rng: random.Random) -> None:
    rid, token, envelope, team, name = rng.choice(p.signers)
    now = p.now
    r.run("recipient_by_token", (token, 1, 0))
    r.run("envelope_for_signing", (token, "DRAFT", 1, 0))
    fields = p.fields.get(rid, [])
    r.run("fields_of_recipient", (rid, 0))
    if len(fields) >= 2:
        r.run("signatures_of_fields", (fields[0][0], fields[1][0], 0))
    roll = rng.random()
    if roll < 0.6:
        r.run("recipient_viewed", ("OPENED", rid))
        _audit(r, p, envelope, "DOCUMENT_OPENED")
    elif roll < 0.95:
        for fid, kind in fields[:2]:
            r.run("field_sign", (name or "signed", True, fid))
            if kind == "SIGNATURE":
                r.run("signature_upsert", (now, rid, fid, name, name, fid))
        r.run("recipient_signed", ("SIGNED", now, rid))
        left = r.run("recipients_left_to_sign", (envelope, "SIGNED", "CC", 0))
        _audit(r, p, envelope, "DOCUMENT_RECIPIENT_COMPLETED")
        if left and left[0][0] <= 1:
            r.run("envelope_status_update", ("COMPLETED", now, now, envelope))
            r.run("job_insert", (p.fresh("job"), "PENDING", Jsonb({"envelopeId": envelope}), "internal.seal-document",
                                 "Seal Document", "1.0.0", now, now))
            r.run("webhooks_for_event", (team, True, ["DOCUMENT_COMPLETED"], 0))
    else:
        r.run("recipient_signed", ("REJECTED", now, rid))
        r.run("envelope_status_update", ("REJECTED", now, now, envelope))
        _audit(r, p, envelope, "DOCUMENT_RECIPIENT_REJECTED")


def _audit(r: Recorder, p: Pools, envelope: str, kind: str) -> None:
    r.run("audit_log_insert", (p.fresh("log"), envelope, p.now, kind, Jsonb({"source": "web"}), "Signer",
                               "signer@example.org", None, "Mozilla/5.0 (Windows NT 10.0) Chrome/124.0",
                               "10.1.2.3"))


def jobs(r: Recorder, p: Pools, rng: random.Random) -> None:
    if rng.random() < 0.9:
        due = r.run("jobs_due", ("PENDING", p.now, 10, 0))
    else:     # jobs stuck in PROCESSING for five minutes are picked up again
        due = r.run("jobs_due", ("PROCESSING", p.now - timedelta(minutes=5), 10, 0))
    if due and rng.random() < 0.5:     # a worker takes the oldest and finishes it
        r.run("job_update", ("PROCESSING", None, p.now, due[0][0]))
        r.run("job_update", ("COMPLETED", p.now, p.now, due[0][0]))


def reminders(r: Recorder, p: Pools, rng: random.Random) -> None:
    due = r.run("reminders_due", (p.now, "NOT_SIGNED", "SENT", "CC", p.now, "PENDING", 100, 0))
    for row in due[:3]:
        r.run("recipient_reminded", (p.now, p.now + timedelta(days=3), 1, row[0]))


def expirations(r: Recorder, p: Pools, rng: random.Random) -> None:
    r.run("expired_recipients", (p.now, "NOT_SIGNED", "CC", "VIEWER", 100, 0))


def rejections(r: Recorder, p: Pools, rng: random.Random) -> None:
    """A sweep over the rejected recipients (the rare status), in pages after the last id seen."""
    after = int(rng.random() * p.max_recipient * 0.9)
    page = r.run("rejections_after", ("REJECTED", after, 50, 0))
    if page:
        r.run("rejections_after", ("REJECTED", page[-1][0], 50, 0))


def webhooks(r: Recorder, p: Pools, rng: random.Random) -> None:
    team = _team_view(p, rng)[0]
    event = rng.choice(["DOCUMENT_SENT", "DOCUMENT_OPENED", "DOCUMENT_SIGNED", "DOCUMENT_COMPLETED"])
    for hook in r.run("webhooks_for_event", (team, True, [event], 0))[:2]:
        r.run("webhook_call_insert", (p.fresh("whc"), "SUCCESS", hook[1], event, Jsonb({"event": event}), 200,
                                      Jsonb({"content-type": "application/json"}), p.now, hook[0]))


def webhook_log(r: Recorder, p: Pools, rng: random.Random) -> None:
    hook = p.webhooks[int(len(p.webhooks) * rng.random() ** 3)]
    r.run("webhook_calls_page", (hook, "FAILED" if rng.random() < 0.3 else "SUCCESS", 20, 0))


def security(r: Recorder, p: Pools, rng: random.Random) -> None:
    user = rng.choice(p.sessions)[1]
    r.run("security_logs_page", (user, 10, 0))
    r.run("security_logs_count", (user, 0))


def sign_in(r: Recorder, p: Pools, rng: random.Random) -> None:
    user, email = rng.choice(p.users)
    ip = f"203.0.113.{rng.randrange(250)}"
    bucket = p.now.replace(second=0, microsecond=0)
    r.run("user_by_email", (email, 1, 0))
    r.run("rate_limit_hit", (ip, "auth.signin", bucket, 1, p.now, 1, ip, "auth.signin", bucket))
    r.run("user_signed_in", (p.now, p.now, user))
    r.run("security_log_insert", (user, p.now, "SIGN_IN", "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0", ip))


def api_request(r: Recorder, p: Pools, rng: random.Random) -> None:
    token, team = rng.choice(p.api_tokens)
    bucket = p.now.replace(second=0, microsecond=0)
    r.run("api_token_by_token", (token, 1, 0))
    r.run("rate_limit_hit", (token[:12], "api.request", bucket, 1, p.now, 1, token[:12], "api.request", bucket))
    if rng.random() < 0.5:
        _, secondary, env_team, kind = rng.choice(p.envelopes)
        r.run("envelope_by_secondary_id", (secondary, kind, env_team, 1, 0))
    else:
        team = _team_view(p, rng)[0]
        r.run("api_documents", (team, "DOCUMENT", "DRAFT", "CANCELLED", 10, 0))
        r.run("api_documents_count", (team, "DOCUMENT", "DRAFT", "CANCELLED", 0))


def admin(r: Recorder, p: Pools, rng: random.Random) -> None:
    pattern = f"%{rng.choice(SEARCH_TERMS)}%"
    r.run("admin_documents", ("DOCUMENT", pattern, 10, 0))
    r.run("admin_documents_count", ("DOCUMENT", pattern, 0))
    if rng.random() < 0.3:
        r.run("admin_document_stats", ("DOCUMENT", 0))
        r.run("admin_recipient_stats", (0,))


def suggestions(r: Recorder, p: Pools, rng: random.Random) -> None:
    team = _team_view(p, rng)[0]
    pattern = f"%{rng.choice(['ann', 'sign', 'user1', 'acme', 'jo', 'Signer 4'])}%"
    r.run("recipient_suggestions", ("DOCUMENT", team, pattern, pattern, 0))


def folders(r: Recorder, p: Pools, rng: random.Random) -> None:
    team = _team_view(p, rng)[0]
    r.run("folders_of_team", (team, "DOCUMENT", "EVERYONE", "MANAGER_AND_ABOVE", "ADMIN", 0))


def create_document(r: Recorder, p: Pools, rng: random.Random) -> None:
    """A new envelope; its settings row is one the editor saved before (writes are rolled back one by one)."""
    team, user, _, _ = _team_view(p, rng)
    counter = r.run("counter_increment", (1, "document"))
    r.run("document_meta_insert", (p.fresh("meta"), "Please sign", None))
    r.run("envelope_insert", (p.fresh("envelope"), f"document_{counter[0][1]}", "DOCUMENT", p.now, p.now,
                              "New agreement", "DOCUMENT", 2, user, team, rng.choice(p.spare_metas)))


def add_recipients(r: Recorder, p: Pools, rng: random.Random) -> None:
    envelope = rng.choice(p.envelopes)[0]
    r.run("recipients_insert", (envelope, "a@example.org", "A", p.fresh("tok"), "SIGNER", None,
                                envelope, "b@example.org", "", p.fresh("tok"), "CC", None))
    _audit(r, p, envelope, "RECIPIENT_CREATED")


# Actions and how often each runs per 1.0 of --calls: page views dominate, then signing and the job queue.
ACTIONS: list[tuple[Action, int]] = [
    (documents_page, 360), (inbox, 120), (search, 40), (document_view, 300), (signing, 320), (jobs, 450),
    (reminders, 40), (expirations, 40), (rejections, 80), (webhooks, 150), (webhook_log, 40), (security, 60),
    (sign_in, 150), (api_request, 200), (admin, 15), (suggestions, 60), (folders, 60), (create_document, 40),
    (add_recipients, 40),
]


def run_workload(conn: psycopg.Connection[Any], p: Pools, *, calls: float = 1.0, seed: int = 7) -> Recorder:
    """Run the actions, interleaved at random, through ``conn`` (autocommit, adapted); returns what was sent."""
    adapt(conn)
    rng = random.Random(seed)
    plan = [action for action, weight in ACTIONS for _ in range(max(1, round(weight * calls)))]
    rng.shuffle(plan)
    recorder = Recorder(conn, shapes())
    for action in plan:
        action(recorder, p, rng)
    return recorder
