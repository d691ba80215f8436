"""CHECK-constraint proposals on a realistic fixture: proven, safe, and never on the traps."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune import plan
from pgtune.analyze import Advice
from pgtune.apply import Applier
from pgtune.cli import cli
from pgtune.constraints import propose

from .test_migration import squawk_bin

FIXTURE = """
CREATE TABLE accounts (
    id                 bigint PRIMARY KEY,
    email              text NOT NULL,
    name               text,
    role               text,
    "accountType"      text,
    "subscriptionTier" text,
    "storageQuota"     bigint,
    "storageUsed"      bigint,
    "apiToken"         text,
    bio                text,
    city               text,
    metadata           jsonb,
    balance            integer,
    "createdAt"        timestamptz DEFAULT now(),
    "signedUpFrom"     text
);
INSERT INTO accounts
SELECT g, 'user' || g || '@example.com',
       (ARRAY['Alice', 'Bob', 'Chen', 'Dana'])[1 + g % 4],
       CASE WHEN g % 100 = 0 THEN 'admin' ELSE 'user' END,
       (ARRAY['payg', 'subscription'])[1 + g % 2],
       (ARRAY['free', 'basic', 'pro', 'enterprise'])[1 + g % 4],
       1000 + g % 5000, g % 1000,
       md5(g::text),
       (ARRAY['Loves long walks on the beach', 'Video editor and coffee addict', 'Just here to watch'])[1 + g % 3],
       'city' || (g % 500),
       jsonb_build_object('k', g % 3),
       (g % 200) - 50,
       now() - g * interval '1 minute',
       (ARRAY['web', 'ios'])[1 + g % 2]
FROM generate_series(1, 20000) AS g;
CREATE TABLE payments (
    id              bigint PRIMARY KEY,
    "accountId"     bigint NOT NULL REFERENCES accounts (id),
    status          text NOT NULL,
    amount          integer NOT NULL,
    "creditAmount"  integer NOT NULL,
    "failureReason" text,
    "createdAt"     timestamptz NOT NULL
);
INSERT INTO payments
SELECT g, 1 + g % 20000, (ARRAY['pending', 'success', 'failed', 'expired'])[1 + g % 4],
       5 + g % 100, 10 + g % 50, CASE WHEN g % 4 = 2 THEN 'card declined' END, now()
FROM generate_series(1, 30000) AS g;
CREATE TABLE subscriptions (
    id             bigint PRIMARY KEY,
    status         text NOT NULL,
    "billingCycle" text NOT NULL,
    "startDate"    date NOT NULL,
    "endDate"      date NOT NULL
);
INSERT INTO subscriptions
SELECT g, (ARRAY['active', 'cancelled', 'expired', 'grace_period', 'suspended'])[1 + g % 5],
       (ARRAY['monthly', 'yearly'])[1 + g % 2], current_date - g % 300, current_date - g % 300 + 30
FROM generate_series(1, 10000) AS g;
ANALYZE;
"""


def fixture(conn: psycopg.Connection[Any]) -> None:
    conn.execute(FIXTURE)


USER_CHECKS = ("SELECT conname, convalidated FROM pg_constraint WHERE contype = 'c' AND conrelid = ANY("
               "ARRAY['accounts'::regclass, 'payments'::regclass, 'subscriptions'::regclass])")


def by_key(advice: Any) -> dict[tuple[str, str, str], Any]:
    return {(p.table, ",".join(p.columns), p.kind): p for p in advice.constraints}


def test_proposals_on_a_realistic_fixture(conn: psycopg.Connection[Any]) -> None:
    fixture(conn)
    advice = propose(conn)
    got = by_key(advice)
    expected = {
        ("accounts", "role", "value-set"), ("accounts", "accountType", "value-set"),
        ("accounts", "subscriptionTier", "value-set"), ("accounts", "storageQuota", "non-negative"),
        ("accounts", "storageUsed", "non-negative"), ("accounts", "storageUsed,storageQuota", "column-order"),
        ("accounts", "createdAt", "not-null"), ("payments", "status", "value-set"),
        ("payments", "amount", "positive"), ("payments", "creditAmount", "positive"),
        ("subscriptions", "status", "value-set"), ("subscriptions", "billingCycle", "value-set"),
        ("subscriptions", "endDate,startDate", "column-order"),
    }
    assert expected <= set(got), expected - set(got)
    assert got[("accounts", "role", "value-set")].check == "role IN ('admin', 'user')"
    assert got[("accounts", "role", "value-set")].confidence == "low"     # the code's set, not the rows': never written
    assert got[("subscriptions", "endDate,startDate", "column-order")].check == '"endDate" >= "startDate"'
    assert got[("accounts", "storageUsed,storageQuota", "column-order")].check == '"storageUsed" <= "storageQuota"'
    # A quota is a setting: -1 for "unlimited", or a downgrade below what is used, is the app's to write (r7).
    assert got[("accounts", "storageUsed,storageQuota", "column-order")].confidence == "low"
    assert got[("accounts", "storageQuota", "non-negative")].confidence == "low"
    assert got[("accounts", "storageUsed", "non-negative")].confidence == "high"
    assert got[("subscriptions", "endDate,startDate", "column-order")].confidence == "high"
    assert got[("accounts", "role", "value-set")].evidence["values"] == {"user": 19800, "admin": 200}
    assert not advice.findings


def test_money_is_a_low_confidence_hint_never_written(db: str, conn: psycopg.Connection[Any],
                                                       tmp_path: Path) -> None:
    """u's F3: an invoice line's first discount (-10.00) was refused by a high-confidence "unitAmount" >= 0."""
    conn.execute('CREATE TABLE "InvoiceLines" (id serial PRIMARY KEY, "invoiceId" int NOT NULL, quantity int NOT NULL,'
                 ' "unitAmount" numeric(12,2) NOT NULL, "retryCount" int NOT NULL DEFAULT 0)')
    conn.execute('INSERT INTO "InvoiceLines" ("invoiceId", quantity, "unitAmount", "retryCount") '
                 "SELECT g % 500, 1 + g % 7, 1 + (g % 900) / 10.0, g % 3 FROM generate_series(1, 20000) g")
    conn.execute('ANALYZE "InvoiceLines"')
    got = {(p.table, ",".join(p.columns)): p for p in propose(conn).constraints}
    assert got[("InvoiceLines", "unitAmount")].confidence == "low"
    assert got[("InvoiceLines", "retryCount")].confidence == "high"        # a count never goes negative
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", "-", "--emit", str(tmp_path / "m"),
                                   "--constraints"], input="SELECT 1;")
    assert out.exit_code == 0, out.output
    assert "never written to a migration" in out.stdout
    text = "".join(p.read_text() for p in (tmp_path / "m").glob("*.sql"))
    assert "retryCount" in text and "unitAmount" not in text
    assert Applier(conn, tmp_path / "m").apply().phases_run
    conn.execute('INSERT INTO "InvoiceLines" ("invoiceId", quantity, "unitAmount") VALUES (1, 1, -10.00)')


def test_traps_get_nothing(conn: psycopg.Connection[Any]) -> None:
    fixture(conn)
    advice = propose(conn)
    touched = {(p.table, c) for p in advice.constraints for c in p.columns}
    # Emails, names, tokens, JSON and identifiers: no rule of any kind.
    for trap in ("email", "name", "apiToken", "metadata", "id"):
        assert ("accounts", trap) not in touched, trap
    assert ("payments", "failureReason") not in touched     # optional by design, and has NULLs
    kinds = {(p.table, c, p.kind) for p in advice.constraints for c in p.columns}
    assert ("accounts", "bio", "value-set") not in kinds    # prose, even if only three distinct texts
    assert ("accounts", "city", "value-set") not in kinds   # 500 values: not enum-like
    assert ("accounts", "balance", "non-negative") not in kinds   # balances may go negative
    # Nullable without DEFAULT: an INSERT that leaves it out writes NULL, though no row holds one today.
    assert ("accounts", "signedUpFrom", "not-null") not in kinds


def test_every_proposal_validates_on_the_data(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    fixture(conn)
    advice = propose(conn)
    m = plan.build(Advice(method="hypopg"), constraints=advice.constraints)
    assert [p.step for p in m.phases] == ["add-not-valid", "validate"]
    plan.emit(m, tmp_path / "mig")
    report = Applier(conn, tmp_path / "mig").apply()
    assert report.phases_run == [1, 2]
    rows = conn.execute(USER_CHECKS).fetchall()
    names = {p.name for p in advice.constraints if p.kind != "not-null"}
    assert names <= {r[0] for r in rows} and all(r[1] for r in rows)
    not_null = conn.execute("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'accounts'::regclass "
                            "AND attname = 'createdAt'").fetchone()
    assert not_null == (True,)
    assert Applier(conn, tmp_path / "mig").status().ok
    assert not Applier(conn, tmp_path / "mig").apply().changed      # idempotent
    Applier(conn, tmp_path / "mig").rollback()
    assert conn.execute(USER_CHECKS).fetchall() == []
    assert conn.execute("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'accounts'::regclass "
                        "AND attname = 'createdAt'").fetchone() == (False,)


def test_planted_violations_become_findings(conn: psycopg.Connection[Any]) -> None:
    fixture(conn)
    conn.execute("UPDATE payments SET amount = -10 WHERE id = 7")
    conn.execute("UPDATE subscriptions SET \"endDate\" = \"startDate\" - 1 WHERE id = 3")
    conn.execute("UPDATE accounts SET role = 'superuser' WHERE id = 11")
    conn.execute("ANALYZE")
    advice = propose(conn)
    got = by_key(advice)
    assert ("payments", "amount", "positive") not in got and ("payments", "amount", "non-negative") not in got
    assert ("subscriptions", "endDate,startDate", "column-order") not in got
    role = got[("accounts", "role", "value-set")]
    assert "'superuser'" in role.check          # the value set follows the data, not a guess
    findings = {(f.table, ",".join(f.columns)): f for f in advice.findings}
    assert findings[("payments", "amount")].violations == 1
    assert findings[("payments", "amount")].examples == ["-10"]
    assert findings[("subscriptions", "endDate,startDate")].violations == 1


def test_not_null_route_never_scans_under_access_exclusive(db: str, conn: psycopg.Connection[Any],
                                                           tmp_path: Path) -> None:
    fixture(conn)
    advice = propose(conn)
    not_null = [p for p in advice.constraints if p.kind == "not-null"]
    assert not_null
    m = plan.build(Advice(method="hypopg"), constraints=not_null)
    plan.emit(m, tmp_path / "mig")
    notices: list[str] = []
    with psycopg.connect(db, autocommit=True) as applier:
        applier.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        applier.execute("SET client_min_messages = debug1")
        Applier(applier, tmp_path / "mig").apply()
    # PostgreSQL says so when SET NOT NULL skips its full-table scan thanks to a validated CHECK.
    proofs = [n for n in notices if "are sufficient to prove that it does not contain nulls" in n]
    assert len(proofs) == len(not_null), notices


def test_emitted_constraint_sql_passes_squawk(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    fixture(conn)
    advice = propose(conn)
    m = plan.build(Advice(method="hypopg"), constraints=advice.constraints)
    plan.emit(m, tmp_path / "mig")
    files = sorted(str(p) for p in (tmp_path / "mig").glob("*.sql"))
    out = subprocess.run([squawk_bin(), f"--pg-version={conn.info.server_version // 10000}", *files],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    text = "".join(Path(f).read_text() for f in files)
    # Each ignore is one rule, with the reason on the line above: never a blanket exclusion.
    assert "squawk-ignore-file" not in text
    for line_no, line in enumerate(lines := text.splitlines()):
        if "squawk-ignore" in line:
            assert len(line.split()) == 3 and lines[line_no - 1].startswith("-- ")   # "--", verb, one rule


def test_cli_json_lists_constraints_and_no_constraints_turns_them_off(db: str, conn: psycopg.Connection[Any]) -> None:
    fixture(conn)
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", "-", "--format", "json"], input="SELECT 1;")
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout)
    role = next(c for c in data["constraints"] if c["columns"] == ["role"])
    assert role["table"] == "accounts" and role["kind"] == "value-set"
    assert role["ddl"][0].endswith("NOT VALID") and "VALIDATE CONSTRAINT" in role["ddl"][1]
    assert role["rollback"] == [f"ALTER TABLE public.accounts DROP CONSTRAINT IF EXISTS {role['name']}"]
    assert len(role["name"].encode()) <= 63
    off = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", "-", "--format", "json",
                                   "--no-constraints"], input="SELECT 1;")
    assert json.loads(off.stdout)["constraints"] == []


def test_slow_proof_is_skipped_with_a_reason(conn: psycopg.Connection[Any]) -> None:
    from pgtune.constraints import ConstraintOptions

    fixture(conn)
    advice = propose(conn, ConstraintOptions(max_scan_mb=0.1))
    assert advice.constraints == []
    assert advice.unproven and all("scan limit" in s.reason for s in advice.unproven)


PARTITIONED = """
CREATE TABLE payments (
    id          bigint NOT NULL,
    amount      integer NOT NULL,
    "feeAmount" integer DEFAULT 0,
    "createdAt" date NOT NULL
) PARTITION BY RANGE ("createdAt");
CREATE TABLE payments_2026_01 PARTITION OF payments FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE payments_2026_02 PARTITION OF payments FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
-- January holds no zero amount, February does: each month alone would say something else.
INSERT INTO payments
SELECT g, CASE WHEN g <= 4000 THEN 5 + g % 100 ELSE g % 100 END, g % 7,
       CASE WHEN g <= 4000 THEN date '2026-01-05' ELSE date '2026-02-05' END
FROM generate_series(1, 8000) AS g;
ANALYZE;
"""


def test_partitioned_table_gets_its_rules_once_proven_over_all_partitions(conn: psycopg.Connection[Any],
                                                                          tmp_path: Path) -> None:
    """24.3: on the partitioned table only, never per partition; every partition, also a new one, enforces it."""
    conn.execute(PARTITIONED)
    advice = propose(conn)
    assert {p.table for p in advice.constraints} == {"payments"}, [(p.table, p.check) for p in advice.constraints]
    got = {(",".join(p.columns), p.kind): p for p in advice.constraints}
    assert got[("amount", "non-negative")].check == "amount >= 0"       # February's zero counts for January too
    assert ("feeAmount", "not-null") in got
    m = plan.build(Advice(method="hypopg"), constraints=advice.constraints)
    plan.emit(m, tmp_path / "mig")
    Applier(conn, tmp_path / "mig").apply()
    rows = conn.execute("SELECT conrelid::regclass::text, convalidated FROM pg_constraint "
                        "WHERE conname = %s ORDER BY 1", (got[("amount", "non-negative")].name,)).fetchall()
    assert rows == [("payments", True), ("payments_2026_01", True), ("payments_2026_02", True)]
    conn.execute("INSERT INTO payments VALUES (0, 0, 0, '2026-01-09')")           # zero in January: accepted
    conn.execute("CREATE TABLE payments_2026_03 PARTITION OF payments FOR VALUES FROM ('2026-03-01') TO ('2026-04-01')")
    assert conn.execute("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'payments_2026_03'::regclass "
                        "AND attname = 'feeAmount'").fetchone() == (True,)
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("INSERT INTO payments VALUES (1, -1, 0, '2026-03-02')")    # the new month enforces it
    Applier(conn, tmp_path / "mig").rollback()
    assert conn.execute("SELECT count(*) FROM pg_constraint WHERE contype = 'c' AND conrelid::regclass::text "
                        "LIKE 'payments%'").fetchone() == (0,)


def test_constraints_reach_a_migration_only_when_asked(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """23.4: listed either way; written by --emit only with --constraints."""
    fixture(conn)
    base = ["suggest", "--dsn", db, "--queries", "-", "--format", "json"]
    plain = CliRunner().invoke(cli, [*base, "--emit", str(tmp_path / "plain")], input="SELECT 1;")
    assert plain.exit_code == 0, plain.output
    assert json.loads(plain.stdout)["constraints"]                          # listed
    text = "".join(p.read_text() for p in (tmp_path / "plain").glob("*.sql"))
    assert "ADD CONSTRAINT" not in text                                     # not written
    asked = CliRunner().invoke(cli, [*base, "--emit", str(tmp_path / "asked"), "--constraints"], input="SELECT 1;")
    assert asked.exit_code == 0, asked.output
    text = "".join(p.read_text() for p in (tmp_path / "asked").glob("*.sql"))
    assert "ADD CONSTRAINT" in text and "VALIDATE CONSTRAINT" in text
    table = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", "-", "--emit", str(tmp_path / "t")],
                               input="SELECT 1;")
    assert "CHECK constraints are not in the migration" in table.stdout
    usage = CliRunner().invoke(cli, [*base, "--constraints"], input="SELECT 1;")
    assert usage.exit_code == 2 and "--constraints needs --emit" in usage.output
