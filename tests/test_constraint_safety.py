"""Issue 23.4: no CHECK constraint pgtune proposes may refuse what the application legitimately writes.

The database (tests/fixtures/app_writes/) is a document-signing app as Prisma
Migrate builds it, modelled on Documenso: DEFAULTs such as ``width`` -1 and
``name`` '', optional fields that every row happens to fill, an all-NULL
column, free text with a handful of values so far (``userAgent``, ``language``,
a time zone), branding fields that hold only their '' default, text "types"
whose values the application's code defines, and ``_prisma_migrations``.
``APP_WRITES`` are the rows the application writes, as Prisma sends them: the
columns it sets, the DEFAULTs and NULLs for the rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune import api
from pgtune.analyze import Options
from pgtune.capture import read_queries_file, reset_counters
from pgtune.constraints import ConstraintOptions, propose
from pgtune.constraints.defaults import DefaultKind, read
from pgtune.constraints.model import Rule
from pgtune.constraints.names import is_enum_like, is_free_text, is_tool_table, words

FIXTURE = Path(__file__).parent / "fixtures" / "app_writes"

# (what the application does, the statement, its parameters)
APP_WRITES: list[tuple[str, str, tuple[Any, ...]]] = [
    ("sign-up with an e-mail only: name, source, emailVerified left NULL",
     'INSERT INTO "User" (email, "updatedAt") VALUES (%s, now())', ("new@example.com",)),
    ("a team's branding, set for the first time",
     'UPDATE "TeamGlobalSettings" SET "brandingLogo" = %s, "brandingUrl" = %s, "brandingColor" = %s, '
     '"brandingCompanyDetails" = %s, "documentVisibility" = %s WHERE "teamId" = 1',
     ("https://cdn.example.com/logo.png", "https://acme.example.com", "#A2E771", "ACME Ltd, 1 Main St", "ADMIN")),
    ("a new team's settings: every field its DEFAULT", 'INSERT INTO "TeamGlobalSettings" ("teamId") VALUES (5000)', ()),
    ("a subscription on a new billing cycle, seats left to their DEFAULT",
     'INSERT INTO "Subscription" ("planId", "priceId", "billingCycle", "periodStart", "periodEnd", "userId", '
     '"updatedAt") VALUES (%s, %s, %s, now(), now() + interval \'90 days\', 1, now())',
     ("plan_new", "price_q", "quarterly")),
    ("an optional flag cleared (Prisma's `Boolean? @default(false)` set to null)",
     'UPDATE "Subscription" SET "cancelAtPeriodEnd" = NULL WHERE id = 1', ()),
    ("a sign-in through a new provider", 'INSERT INTO "Account" (id, "userId", type, provider, "providerAccountId") '
     "VALUES (%s, 1, %s, %s, %s)", ("acc_new", "oidc", "keycloak", "kc1")),
    ("a passkey", 'INSERT INTO "Passkey" (id, "userId", name, "credentialId", "credentialPublicKey", counter, '
     '"credentialDeviceType", "credentialBackedUp") VALUES (%s, 1, %s, %s, %s, 0, %s, false)',
     ("pk_new", "My phone", b"\x01", b"\x02", "multiDevice")),
    ("a draft document: status DEFAULT, no team, no page count yet",
     'INSERT INTO "Document" ("userId", title, "documentDataId") VALUES (1, %s, %s)', ("Lease", "dd_new")),
    ("a rejected document (a status no row holds yet)", 'UPDATE "Document" SET status = %s WHERE id = 1',
     ("REJECTED",)),
    ("the page count once the PDF is read", 'UPDATE "Document" SET "pageCount" = 3 WHERE id = 2', ()),
    ("a document's meta in another language and time zone",
     'INSERT INTO "DocumentMeta" (id, "documentId", timezone, language, "redirectUrl") VALUES (%s, 1, %s, %s, %s)',
     ("dm_new", "Asia/Tokyo", "ja", "https://example.com/done")),
    ("document meta with every optional field left out", 'INSERT INTO "DocumentMeta" (id, "documentId") '
     "VALUES ('dm_new2', 2)", ()),
    ("a recipient added by e-mail only (name '' by DEFAULT)",
     'INSERT INTO "Recipient" ("documentId", email, token) VALUES (1, %s, %s)', ("x@example.com", "tok_new")),
    ("a recipient with a signing order and a rejection reason",
     'INSERT INTO "Recipient" ("documentId", email, token, "signingOrder", "rejectionReason") '
     "VALUES (2, %s, %s, 0, %s)", ("y@example.com", "tok_new2", "Wrong amount")),
    ("a field placed before it is measured (width and height -1, position 0)",
     'INSERT INTO "Field" ("secondaryId", "documentId", "recipientId", type, page, "customText", inserted) '
     "VALUES (%s, 1, 1, 'TEXT', 1, '', false)", ("f_new",)),
    ("an audit entry of a kind the data has not shown yet, from a new client",
     'INSERT INTO "DocumentAuditLog" (id, "documentId", type, data, "userAgent", "ipAddress") '
     "VALUES (%s, 1, %s, '{}', %s, %s)",
     ("al_new", "DOCUMENT_RECIPIENT_REJECTED", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)", "2001:db8::1")),
    ("a security audit entry from a new browser", 'INSERT INTO "UserSecurityAuditLog" ("userId", type, "userAgent") '
     "VALUES (1, 'PASSWORD_UPDATE', %s)", ("curl/8.4.0",)),
    ("a webhook", 'INSERT INTO "Webhook" (id, "webhookUrl", "userId") VALUES (%s, %s, 1)',
     ("wh_new", "https://hooks.example.com/new")),
    ("prisma migrate deploy starting a migration", 'INSERT INTO "_prisma_migrations" (id, checksum, migration_name) '
     "VALUES (%s, %s, %s)", ("00000000-0000-0000-0000-000000000001", "c" * 64, "20261203000000_next")),
]


def build(conn: psycopg.Connection[Any]) -> None:
    for part in ("schema", "data"):
        conn.execute((FIXTURE / f"{part}.sql").read_text())


def refused(conn: psycopg.Connection[Any]) -> list[str]:
    """The application's writes the database refuses, each tried in a transaction rolled back after."""
    out = []
    for what, statement, params in APP_WRITES:
        try:
            with conn.transaction(force_rollback=True):
                conn.execute(statement, params)
        except psycopg.Error as exc:
            out.append(f"{what}: {str(exc).splitlines()[0]}")
    return out


def test_the_application_writes_after_apply_of_every_proposal(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    build(conn)
    assert refused(conn) == []               # the writes are the application's: the bare schema takes them all
    result = api.suggest(conn, statements=read_queries_file('SELECT id FROM "Document" WHERE "userId" = 7;'),
                         emit=api.EmitOptions(directory=tmp_path / "m", constraints=True))
    proposed = {(c.table, ",".join(c.columns), c.kind) for c in result.constraints.constraints}
    # Not vacuous: rules the application keeps are proposed, and those written applied. The start/end pair is
    # listed only: the application sends both values (refused() ran its writes), so a client's out-of-order
    # pair would be refused (r11 F7).
    assert {("Subscription", "seatCount", "non-negative"),
            ("Subscription", "periodEnd,periodStart", "column-order")} <= proposed, proposed
    written = {c.name for c in result.constraints.constraints if c.kind != "not-null" and c.confidence.written}
    assert any("seatCount" in name for name in written), written
    api.apply(conn, tmp_path / "m")
    names = {r[0] for r in conn.execute("SELECT conname FROM pg_constraint WHERE contype = 'c'")}
    assert written <= names and not any("periodEnd" in name for name in names), names
    assert refused(conn) == []


def test_the_signing_apps_own_workload_runs_after_apply(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """f1's model of the real application (benchmarks/signing_app.py): its workload, writes included, after apply.

    On main before this change, pgtune proposed 21 rules on this database
    (``type IN (…7 values)`` on DocumentAuditLog among them) and the workload's
    next audit-log insert was refused.
    """
    from .test_prisma_app import ANCHOR, signing_app

    signing_app.build(conn, 0.01, ANCHOR)
    pools = signing_app.pools(conn, ANCHOR)
    reset_counters(conn)
    signing_app.run_workload(conn, pools, calls=0.3)
    result = api.suggest(conn, api.SuggestOptions(Options(min_rows=0)),
                         emit=api.EmitOptions(directory=tmp_path / "m", constraints=True))
    assert result.constraints.constraints                       # something to apply: not vacuous
    api.apply(conn, tmp_path / "m")
    signing_app.run_workload(conn, pools, calls=0.5, seed=11)   # raises on the first write a rule refuses


def test_what_broke_the_application_is_not_proposed(conn: psycopg.Connection[Any]) -> None:
    build(conn)
    advice = propose(conn)
    touched = {(p.table, c) for p in advice.constraints for c in p.columns}
    assert ("Field", "width") not in touched and ("Field", "height") not in touched     # DEFAULT -1
    assert ("Document", "pageCount") not in touched                                      # every row NULL
    assert not any(t == "_prisma_migrations" for t, _ in touched)
    for free in ("userAgent", "ipAddress", "language", "timezone", "brandingLogo", "brandingUrl", "brandingColor",
                 "brandingCompanyDetails", "name", "source"):
        assert not any(c == free for _, c in touched), free
    kinds = {p.kind for p in advice.constraints}
    # Closed sets live in enum types here, so text "types" are open: the application adds values.
    assert "value-set" not in kinds
    # Prisma manages the database: a NULL-able column is an optional field, never made NOT NULL.
    assert "not-null" not in kinds
    assert any(n.startswith("value-set:") for n in advice.notes) and any(n.startswith("not-null:") for n in
                                                                         advice.notes)
    assert not advice.findings


def test_tool_tables_get_nothing_even_below_min_rows(conn: psycopg.Connection[Any]) -> None:
    build(conn)
    advice = propose(conn, ConstraintOptions(min_rows=0))
    assert not [p for p in advice.constraints if p.table == "_prisma_migrations"]
    assert not [f for f in advice.findings if f.table == "_prisma_migrations"]


def test_min_rows_keeps_small_tables_out(conn: psycopg.Connection[Any]) -> None:
    """24.8: a catalog of small tables (20 rows each) gets no NOT NULL proposal, whatever their columns hold."""
    for i in range(30):
        conn.execute(f'CREATE TABLE small_{i} (id int PRIMARY KEY, enabled boolean DEFAULT true, "seatCount" int)')
        conn.execute(f"INSERT INTO small_{i} SELECT g, g % 3 > 0, g FROM generate_series(1, 20) AS g")
    conn.execute("ANALYZE")
    assert propose(conn).constraints == []
    every = propose(conn, ConstraintOptions(min_rows=0))
    assert len([p for p in every.constraints if p.kind == "not-null"]) == 30       # what --min-rows 0 would show
    assert len([p for p in every.constraints if p.kind == "non-negative"]) == 30


def test_a_column_all_null_or_a_table_empty_proves_nothing(conn: psycopg.Connection[Any]) -> None:
    conn.execute('CREATE TABLE t (id int, "viewsCount" int, "likesCount" int DEFAULT 0, status text DEFAULT \'new\')')
    conn.execute("INSERT INTO t SELECT g, NULL, NULL, NULL FROM generate_series(1, 5000) AS g")
    conn.execute("CREATE TABLE empty_one (id int, \"viewsCount\" int DEFAULT 0, kind text DEFAULT 'a')")
    conn.execute("ANALYZE")
    assert propose(conn, ConstraintOptions(min_rows=0)).constraints == []


def test_value_set_takes_its_default_and_needs_two_codes(conn: psycopg.Connection[Any]) -> None:
    """Without enum types in the database, a text status gets its set, DEFAULT included; one value is no set."""
    conn.execute("CREATE TABLE jobs (id int, status text NOT NULL DEFAULT 'queued', kind text, \"planTier\" text)")
    conn.execute("INSERT INTO jobs SELECT g, (ARRAY['running', 'done', 'failed'])[1 + g % 3], 'export', "
                 "(ARRAY['Free plan', 'Pro plan'])[1 + g % 2] FROM generate_series(1, 5000) AS g")
    conn.execute("ANALYZE")
    got = {(p.columns[0], p.kind): p for p in propose(conn).constraints}
    status = got[("status", "value-set")]
    assert status.check == "status IN ('done', 'failed', 'queued', 'running')"      # queued: the DEFAULT
    assert status.confidence == "low"
    assert ("kind", "value-set") not in got           # one value so far: nothing fixes the set
    assert ("planTier", "value-set") not in got       # prose, not codes
    conn.execute("INSERT INTO jobs (id) VALUES (0)")  # what the application writes leaving status out



def test_a_value_set_is_listed_never_written_and_the_apps_new_code_inserts(conn: psycopg.Connection[Any],
                                                                            tmp_path: Path) -> None:
    """u2's F1 (umami's report.type, a Prisma String): eight codes in the rows, a ninth in the application's code.

    The set is listed for review (low) and --emit --constraints leaves it out, so
    the application's insert of the ninth code goes through after apply.
    """
    conn.execute('CREATE TABLE report (report_id uuid PRIMARY KEY, website_id uuid NOT NULL, '
                 'type varchar(200) NOT NULL, "viewCount" int NOT NULL DEFAULT 0)')
    conn.execute("INSERT INTO report SELECT gen_random_uuid(), gen_random_uuid(), (ARRAY['attribution', 'breakdown', "
                 "'funnel', 'goal', 'journey', 'retention', 'revenue', 'utm'])[1 + g % 8], g % 7 "
                 "FROM generate_series(1, 3000) AS g")
    conn.execute("ANALYZE report")
    result = api.suggest(conn, statements=read_queries_file("SELECT report_id FROM report WHERE type = 'funnel';"),
                         emit=api.EmitOptions(directory=tmp_path / "m", constraints=True))
    by_kind = {c.kind: c for c in result.constraints.constraints}
    assert by_kind["value-set"].confidence == "low"
    assert by_kind["non-negative"].confidence == "high"           # not vacuous: a count's rule is written
    api.apply(conn, tmp_path / "m")
    names = {r[0] for r in conn.execute("SELECT conname FROM pg_constraint WHERE contype = 'c'")}
    assert by_kind["non-negative"].name in names and by_kind["value-set"].name not in names
    conn.execute("INSERT INTO report (report_id, website_id, type) "
                 "VALUES (gen_random_uuid(), gen_random_uuid(), 'performance')")


def test_names_read_as_words() -> None:
    assert words("signatureImageAsBase64") == ["signature", "image", "as", "base", "64"]
    assert words("HTTPStatus") == ["http", "status"] and words("refresh_token") == ["refresh", "token"]
    for free in ("userAgent", "user_agent", "useragent", "webhookUrl", "redirect_url", "avatarUrl", "brandingLogo",
                 "brandingColor", "brandingCompanyDetails", "ipAddress", "timezone", "dateFormat", "customerId",
                 "fullname", "language", "locale", "token_type"):
        assert is_free_text(free), free
    for code in ("paid", "valid", "status", "role", "seatCount", "width", "billingCycle", "createdAt"):
        assert not is_free_text(code), code
    assert is_enum_like("billingCycle") and is_enum_like("subscriptionTier") and not is_enum_like("provider")
    assert is_tool_table("public", "_prisma_migrations") and is_tool_table("public", "flyway_schema_history")
    assert not is_tool_table("public", "migrations_log")


@pytest.mark.parametrize(("expression", "kind", "value"), [
    (None, DefaultKind.NONE, None), ("'-1'::integer", DefaultKind.CONSTANT, "-1"), ("(-5)", DefaultKind.CONSTANT, "-5"),
    ("''::text", DefaultKind.CONSTANT, ""), ("'PENDING'::\"Status\"", DefaultKind.CONSTANT, "PENDING"),
    ("false", DefaultKind.CONSTANT, "false"), ("CURRENT_TIMESTAMP", DefaultKind.CLOCK, None),
    ("now()", DefaultKind.CLOCK, None), ("nextval('t_id_seq'::regclass)", DefaultKind.GENERATED, None),
    ("gen_random_uuid()", DefaultKind.GENERATED, None), ("NULL::text", DefaultKind.NULL, None),
    ("ARRAY[]::text[]", DefaultKind.UNKNOWN, None), ("(a * 2)", DefaultKind.UNKNOWN, None),
    ("app.now()", DefaultKind.UNKNOWN, None), ("1; DROP TABLE t", DefaultKind.UNKNOWN, None),
])
def test_defaults_are_read_without_running_them(expression: str | None, kind: DefaultKind, value: str | None) -> None:
    got = read(expression)
    assert (got.kind, got.value) == (kind, value)


def test_a_rule_admits_only_defaults_it_surely_accepts() -> None:
    ge0 = Rule(">=", ("width",), ("0",))
    assert not ge0.admits({"width": read("'-1'::integer")}) and ge0.admits({"width": read("0")})
    assert ge0.admits({"width": read(None)})                          # NULL passes a CHECK
    assert not ge0.admits({"width": read("random_width()")})          # cannot tell: refuse
    assert not Rule("in", ("status",), ("a", "b")).admits({"status": read("'c'::text")})
    not_null = Rule("is not null", ("name",))
    assert not not_null.admits({"name": read(None)}) and not_null.admits({"name": read("''::text")})
    order = Rule(">=", ("endDate", "startDate"))
    assert order.admits({"endDate": read("now()"), "startDate": read("now()")})
    assert not order.admits({"endDate": read("now()"), "startDate": read("'2020-01-01'::date")})
